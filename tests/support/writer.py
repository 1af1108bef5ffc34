"""A write-load process for the crash test: prints each id once its save returned."""

from __future__ import annotations

import sys
from pathlib import Path

from security.bootstrap import Settings, build_ledger
from tests.support.sample import SampleApp


def main() -> None:
    data_dir, url = sys.argv[1], sys.argv[2] or None
    ledger = build_ledger(Settings(data_dir=Path(data_dir), database_url=url), app_class=SampleApp)
    i = 0
    while True:
        person = ledger.app.register(f"Writer {i}", f"1380000{i % 10000:04d}", f"W{i}")
        print(person, flush=True)
        i += 1


if __name__ == "__main__":
    main()
