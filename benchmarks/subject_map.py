"""Sealing with the subject map against sealing without it (issue 16).

One SQLite ledger holds BENCH_MAP_SUBJECTS subjects (default 2000, one account
each) and grows by rounds of BENCH_MAP_BATCH events (default 1000) about random
subjects, to BENCH_MAP_EVENTS events in all (default 20000). After each round two
sealed logs over the same events seal it, in alternating order: the ledger's own
(leaves, tree nodes, the subject map's chains and nodes, the map line) and one
without a map (prefix `bench_plain`: leaves and tree nodes only). Printed: the
median (min-max) seal time of a round for each, and their ratio, which should stay
near-constant as the log grows (the map's cost is O(batch * log subjects)).

The issue's figure, at 1M events and 100k subjects:
`BENCH_MAP_EVENTS=1000000 BENCH_MAP_SUBJECTS=100000 python -m benchmarks subject_map`
(hours on a shared two-core machine, mostly spent appending the events).
"""

from __future__ import annotations

import os
import random
import tempfile
import time
from pathlib import Path

from benchmarks.core import Account, BenchApp
from benchmarks.rounds import Spread, ratio
from security.bootstrap import Settings, build_ledger
from security.integrity.sealed_log import SealedLog

SUBJECTS = int(os.environ.get("BENCH_MAP_SUBJECTS", "2000"))
EVENTS = int(os.environ.get("BENCH_MAP_EVENTS", "20000"))
BATCH = int(os.environ.get("BENCH_MAP_BATCH", "1000"))


def run() -> None:
    rng = random.Random(16)
    with tempfile.TemporaryDirectory() as tmp:
        ledger = build_ledger(Settings(data_dir=Path(tmp) / "ledger"), app_class=BenchApp)
        try:
            app = ledger.app
            sealed = ledger.sealed_log
            dialect = sealed.dialect
            dialect.create_tables(
                sealed.datastore, SealedLog.create_table_statements(dialect, "bench_plain")
            )
            plain = SealedLog(
                sealed.source,
                sealed.datastore,
                dialect,
                sealed.signing_key,
                sealed.origin + "/bench-plain",
                prefix="bench_plain",
            )
            accounts: list[Account] = []
            for start in range(0, SUBJECTS, BATCH):
                batch = [
                    Account(f"n{i}", f"p{i}") for i in range(start, min(SUBJECTS, start + BATCH))
                ]
                app.save(*batch)
                accounts.extend(batch)
            sealed.seal()
            plain.seal()
            with_map: list[float] = []
            without: list[float] = []
            written = SUBJECTS
            while written < EVENTS:
                chosen = [rng.choice(accounts) for _ in range(min(BATCH, EVENTS - written))]
                for i, account in enumerate(chosen):
                    account.note(f"t{written + i}", "1.00")
                app.save(*{id(a): a for a in chosen}.values())
                written += len(chosen)
                order = [(sealed, with_map), (plain, without)]
                if len(with_map) % 2:
                    order.reverse()
                for log, times in order:
                    t0 = time.perf_counter()
                    log.seal()
                    times.append(time.perf_counter() - t0)
            if not with_map:
                print("  (no rounds: raise BENCH_MAP_EVENTS above BENCH_MAP_SUBJECTS)")
                return
            a, b = Spread(tuple(with_map)), Spread(tuple(without))
            print(f"  {written} events, {SUBJECTS} subjects, rounds of ~{BATCH} events")
            print(f"  seal a round with the subject map    : {a.describe('s', digits=3)}")
            print(f"  seal a round without (leaves, nodes) : {b.describe('s', digits=3)}")
            print(f"  ratio with/without                   : {ratio(a, b).describe(digits=2)}")
        finally:
            ledger.close()
