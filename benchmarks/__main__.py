"""Run every benchmark section (each module of this package with a `run()`).

`python -m benchmarks [SECTION ...]` runs only the named sections.
"""

from __future__ import annotations

import importlib
import pkgutil
import sys
import time

import benchmarks

ORDER = ["core", "projections", "export", "api"]


def main() -> None:
    names = [
        m.name for m in pkgutil.iter_modules(benchmarks.__path__) if not m.name.startswith("_")
    ]
    names.sort(key=lambda n: (ORDER.index(n) if n in ORDER else len(ORDER), n))
    only = set(sys.argv[1:])
    unknown = only - set(names)
    if unknown:
        print(f"error: unknown benchmark section(s): {', '.join(sorted(unknown))}", file=sys.stderr)
        sys.exit(2)
    for name in names:
        if only and name not in only:
            continue
        module = importlib.import_module(f"benchmarks.{name}")
        run = getattr(module, "run", None)
        if run is None:
            continue
        print(f"== {name} ==", flush=True)
        started = time.perf_counter()
        run()
        print(f"   ({name} took {time.perf_counter() - started:.0f} s)", flush=True)


if __name__ == "__main__":
    main()
