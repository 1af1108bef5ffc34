"""Run every benchmark section and print its figures."""

from __future__ import annotations

import sys

from benchmarks import core


def main() -> None:
    sections = [core]
    only = set(sys.argv[1:])
    for section in sections:
        name = section.__name__.rsplit(".", 1)[-1]
        if only and name not in only:
            continue
        print(f"== {name} ==", flush=True)
        section.run()


if __name__ == "__main__":
    main()
