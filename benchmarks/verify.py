"""Full verification: `Ledger.verify_all()` over N sealed events (SQLite).

Builds a fresh ledger of BENCH_VERIFY_EVENTS events (default 20,000; set 1000000 for
the issue 11 figure) quickly: the aggregate of benchmarks/core.py, 10 events each,
SAVE_BATCH aggregates per save, then one seal. Then times `verify_all()` (event log,
access log, key store, in full) and prints seconds and events/s. A report that is not
ok prints FAIL and exits non-zero.

There is no incremental verification yet: issue 11 asks for verifying 10k new events
on top of 1M already verified; that mode is not built, so only the full pass is timed.
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from pathlib import Path

from benchmarks.core import EVENTS_EACH, Account, BenchApp
from security.bootstrap import Settings, build_ledger

EVENTS = int(os.environ.get("BENCH_VERIFY_EVENTS", "20000"))
SAVE_BATCH = 100  # aggregates per save: 1,000 events per transaction


def build(app: BenchApp, events: int) -> None:
    """Append `events` events (rounded up to whole aggregates), SAVE_BATCH per save."""
    aggregates = -(-events // EVENTS_EACH)
    for start in range(0, aggregates, SAVE_BATCH):
        batch = []
        for i in range(start, min(start + SAVE_BATCH, aggregates)):
            account = Account(f"Customer {i} 客户", f"139{i:08d}")
            for j in range(EVENTS_EACH - 1):
                account.note(f"interaction {j} about product {i % 17}", f"{i * 13 % 9999}.{j:02d}")
            batch.append(account)
        app.save(*batch)


def run() -> None:
    total = -(-EVENTS // EVENTS_EACH) * EVENTS_EACH
    with tempfile.TemporaryDirectory(prefix="bench-verify-") as tmp:
        ledger = build_ledger(Settings(data_dir=Path(tmp) / "ledger"), app_class=BenchApp)
        try:
            t0 = time.perf_counter()
            build(ledger.app, total)
            write_seconds = time.perf_counter() - t0
            t0 = time.perf_counter()
            ledger.seal()
            seal_seconds = time.perf_counter() - t0
            t0 = time.perf_counter()
            report = ledger.verify_all()
            verify_seconds = time.perf_counter() - t0
        finally:
            ledger.close()
    print(f"sqlite: {total} events ({total // EVENTS_EACH} aggregates x {EVENTS_EACH})")
    print(f"  build (append, {SAVE_BATCH} aggregates/save) : {write_seconds:9.1f} s")
    print(f"  seal all                             : {seal_seconds:9.1f} s")
    print(
        f"  verify_all (full)                    : {verify_seconds:9.1f} s"
        f"  ({total / verify_seconds:.0f} events/s)"
    )
    print("  incremental verify: not built (issue 11: 10k new on top of 1M)", flush=True)
    if not report.ok or report.event_log.sealed != total:
        print(f"FAIL: verify_all did not verify {total} sealed events: {report}", flush=True)
        sys.exit(1)


if __name__ == "__main__":  # pragma: no cover
    run()
