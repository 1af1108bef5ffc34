"""Verification: full `ledger verify --full` of N events, then incremental of M new on top.

Builds a fresh SQLite ledger of BENCH_VERIFY_EVENTS events (default 1,000,000, the
issue 11 figure; set e.g. 100000 for a quicker run) quickly: the aggregate of
benchmarks/core.py, 10 events each, SAVE_BATCH aggregates per save, then one seal.
Times `verify_all(full=True)` (event log, access log, key store, every leaf
recomputed), which keeps the verified state. Then appends BENCH_VERIFY_NEW events
(default 10,000), seals, and times the incremental `verify_all()` from that state,
with its parts: the event log alone (incremental; its full pass is timed apart too) and
the key store (incremental: the key facts kept with the state, the new events and every
key row; its full pass, reading every event, is timed apart too). It prints seconds
and the ratios full / incremental. A report that is not ok, or an
incremental run that is not incremental, prints FAIL and exits non-zero.
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

from benchmarks.core import EVENTS_EACH, Account, BenchApp
from security.bootstrap import Settings, build_ledger

EVENTS = int(os.environ.get("BENCH_VERIFY_EVENTS", "1000000"))
NEW = int(os.environ.get("BENCH_VERIFY_NEW", "10000"))
SAVE_BATCH = 100  # aggregates per save: 1,000 events per transaction
T = TypeVar("T")


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


def timed(what: Callable[[], T]) -> tuple[float, T]:
    t0 = time.perf_counter()
    result = what()
    return time.perf_counter() - t0, result


def run() -> None:
    total = -(-EVENTS // EVENTS_EACH) * EVENTS_EACH
    added = -(-NEW // EVENTS_EACH) * EVENTS_EACH
    failures: list[str] = []
    with tempfile.TemporaryDirectory(prefix="bench-verify-") as tmp:
        ledger = build_ledger(Settings(data_dir=Path(tmp) / "ledger"), app_class=BenchApp)
        try:
            write_seconds, _ = timed(lambda: build(ledger.app, total))
            seal_seconds, _ = timed(ledger.seal)
            log_full_seconds, _ = timed(lambda: ledger.verify(full=True))
            full_seconds, full = timed(lambda: ledger.verify_all(full=True))
            build(ledger.app, added)
            ledger.seal()
            events_seconds, events = timed(lambda: ledger.verify(full=False))
            keys_full_seconds, _ = timed(ledger.verify_keys)
            keys_seconds, keys = timed(lambda: ledger.verify_keys(events, full=False))
            incremental_seconds, incremental = timed(ledger.verify_all)
        finally:
            ledger.close()
    for name, report in (("full", full), ("incremental", incremental)):
        if not report.ok:
            failures.append(f"the {name} verify_all is not ok: {report.problems[:3]}")
    if events.mode != "incremental" or events.sealed != added:
        failures.append(f"the event log was not verified incrementally over {added}: {events}")
    if keys.mode != "incremental" or incremental.key_store.mode != "incremental":
        failures.append(f"the key store was not verified incrementally: {keys.describe()}")
    print(f"sqlite: {total} events ({total // EVENTS_EACH} aggregates x {EVENTS_EACH})")
    print(f"  build (append, {SAVE_BATCH} aggregates/save) : {write_seconds:9.1f} s")
    print(f"  seal all                             : {seal_seconds:9.1f} s")
    print(
        f"  verify_all --full, {total} events  : {full_seconds:9.2f} s"
        f"  ({total / full_seconds:.0f} events/s)"
    )
    print(f"    of which the event log             : {log_full_seconds:9.2f} s")
    print(f"  then {added} new events, sealed; incremental from size {total}:")
    print(
        f"    verify_all (incremental)           : {incremental_seconds:9.2f} s"
        f"  (full / incremental = {full_seconds / incremental_seconds:.1f})"
    )
    print(
        f"    of which the event log             : {events_seconds:9.2f} s"
        f"  (full / incremental = {log_full_seconds / events_seconds:.1f})"
    )
    print(
        f"    of which the key store             : {keys_seconds:9.2f} s"
        f"  (full / incremental = {keys_full_seconds / keys_seconds:.1f};"
        f" full {keys_full_seconds:.2f} s)",
        flush=True,
    )
    for failure in failures:
        print(f"FAIL: {failure}", flush=True)
    if failures:
        sys.exit(1)


if __name__ == "__main__":  # pragma: no cover
    run()
