"""Read views: catch-up rate from zero and view query latency at that size.

BENCH_PROJECTION_EVENTS (default 100,000) demo events (demo.year, about 16.5 per
customer) are written once into a SQLite ledger and kept under
BENCH_PROJECTION_CACHE (default `var/bench/projections-<events>`), since writing
them through the application takes minutes; later runs copy that ledger. The same
stored events and data keys are then loaded into a fresh PostgreSQL schema. On each
store: every view is built from zero (events/s, and events per CPU-second of this
process, the steadier figure on a shared machine) in batches of BENCH_PROJECTION_BATCH
(default: the rebuild's, 5,000), then each kind of view query runs
BENCH_PROJECTION_QUERIES times (default 300) on random customers: p50 and p99.

Then set-wise against one-by-one, in interleaved rounds (BENCH_PROJECTION_ROUNDS,
default 5 each; benchmarks.rounds): every view rebuilt from zero with the projector's
set-wise batches (a batch's data keys preloaded in one query, each view's writes sent
as `executemany` runs) and with `setwise=False` (keys looked up event by event, each
statement run at once: the projector before issue 12), each round from a cold key
cache; median with min-max of events/s and of their ratio, events per CPU-second of
this process, and the load average.
"""

from __future__ import annotations

import os
import random
import shutil
import statistics
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import psycopg
from eventsourcing.persistence import StoredEvent

from benchmarks.rounds import MIN_ROUNDS, Spread, interleave, ratio
from demo.year import generate_demo
from projections.rebuild import REBUILD_BATCH, rebuild
from projections.runtime import ReadModels, close_read_models, read_models
from security.bootstrap import Ledger, Settings, build_ledger

EVENTS = int(os.environ.get("BENCH_PROJECTION_EVENTS", "100000"))
ROUNDS = int(os.environ.get("BENCH_PROJECTION_ROUNDS", str(MIN_ROUNDS)))
QUERIES = int(os.environ.get("BENCH_PROJECTION_QUERIES", "300"))
CACHE = Path(os.environ.get("BENCH_PROJECTION_CACHE", f"var/bench/projections-{EVENTS}"))
PG_DSN = os.environ.get("LEDGER_TEST_PG", "postgresql://postgres@127.0.0.1:5432/test")
EVENTS_PER_CUSTOMER = 16.5  # what the demo writes per customer at this scale
COPY_BATCH = 5000
BATCH = int(os.environ.get("BENCH_PROJECTION_BATCH", str(REBUILD_BATCH)))  # events per batch


def demo_ledger() -> Path:
    """A directory holding a SQLite ledger with about EVENTS demo events (cached)."""
    done = CACHE / "complete"
    if done.exists():
        return CACHE
    shutil.rmtree(CACHE, ignore_errors=True)
    CACHE.mkdir(parents=True)
    started = time.perf_counter()
    ledger = build_ledger(Settings(data_dir=CACHE))
    try:
        customers = max(1, round(EVENTS / EVENTS_PER_CUSTOMER))
        summary = generate_demo(ledger.app, customers=customers, seed=11)
    finally:
        ledger.close()
    print(
        f"   demo ledger: {summary.events} events about {customers} customers written in "
        f"{time.perf_counter() - started:.0f} s (cached in {CACHE})",
        flush=True,
    )
    done.write_text(str(summary.events))
    return CACHE


def copy_to_postgres(source: Ledger, target: Ledger) -> None:
    """Load the source's stored events and data keys into the target store as they are."""
    with source.datastore.transaction(commit=False) as cursor:
        cursor.execute(f"SELECT * FROM {source.keystore.table}")
        keys = [dict(row) for row in cursor.fetchall()]
    with target.datastore.transaction(commit=True) as cursor:
        columns = list(keys[0])
        target.keystore.dialect.executemany(
            cursor,
            f"INSERT INTO {target.keystore.table} ({', '.join(columns)}) "
            f"VALUES ({', '.join('?' for _ in columns)})",
            [tuple(row[c] for c in columns) for row in keys],
        )
    position = 1
    while True:
        batch = source.app.recorder.select_notifications(position, COPY_BATCH)
        if not batch:
            return
        target.app.recorder.insert_events(
            [StoredEvent(n.originator_id, n.originator_version, n.topic, n.state) for n in batch]
        )
        position = batch[-1].id + 1


def percentiles(samples: list[float]) -> tuple[float, float]:
    """(p50, p99) in milliseconds."""
    ordered = sorted(samples)
    p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]
    return statistics.median(ordered) * 1000, p99 * 1000


def query_mix(models: ReadModels, rng: random.Random) -> dict[str, Callable[[], Any]]:
    """One callable per kind of view query, each picking its own random arguments."""
    customers = [
        r["customer_id"]
        for r in models.store.rows(
            f"SELECT customer_id FROM {models.store.table('pv_customer')} WHERE status<>'erased'"
        )
    ]
    branches = sorted({r["branch"] for r in models.customers.search(limit=200).items})
    return {
        "customer 360": lambda: models.customers.customer_360(rng.choice(customers)),
        "search branch+tier": lambda: models.customers.search(
            branch=rng.choice(branches), tier="ordinary", limit=50
        ),
        "search by phone": lambda: models.customers.search(phone=f"139{rng.randrange(10**8):08d}"),
        "complaint queue": lambda: models.cases.complaint_queue(limit=50),
        "consent register": lambda: models.cases.consent_register(
            customer_id=rng.choice(customers)
        ),
        "churn watch-list": lambda: models.customers.churn_watch(limit=50),
        "tier/segment mix": lambda: models.customers.distribution(),
        "KPIs by branch": lambda: models.kpis.kpi_table("2026-01", "2026-06", by="branch"),
    }


def measure(kind: str, ledger: Ledger) -> None:
    models = read_models(ledger)
    try:
        head = ledger.app.recorder.max_notification_id() or 0
        ledger.keystore.drop_cache()
        load = os.getloadavg()[0]
        started, cpu = time.perf_counter(), time.process_time()
        read = models.projector(batch_size=BATCH).catch_up()
        seconds = time.perf_counter() - started
        cpu_seconds = max(time.process_time() - cpu, 1e-9)
        print(f"{kind}: {head} events, views built from zero in {seconds:.1f} s")
        print(
            f"  catch-up rate                 : {read / seconds:9.0f} events/s "
            f"({read / cpu_seconds:.0f} per CPU-second of this process; batches of {BATCH}; "
            f"load average {load:.1f}-{os.getloadavg()[0]:.1f})",
            flush=True,
        )
        rng = random.Random(5)
        for name, query in query_mix(models, rng).items():
            times = []
            for _ in range(QUERIES):
                t0 = time.perf_counter()
                query()
                times.append(time.perf_counter() - t0)
            p50, p99 = percentiles(times)
            print(f"  {name:<30}: p50 {p50:7.2f} ms   p99 {p99:7.2f} ms", flush=True)
        compare_setwise(ledger, models, head)
    finally:
        close_read_models(ledger)


def compare_setwise(ledger: Ledger, models: ReadModels, head: int) -> None:
    """Rebuild rate from zero, set-wise against one-by-one, in interleaved rounds."""

    per_cpu: dict[str, list[float]] = {"set-wise": [], "one-by-one": []}

    def side(setwise: bool) -> Callable[[], float]:
        def once() -> float:
            ledger.keystore.drop_cache()  # each round starts as a new process would
            started, cpu = time.perf_counter(), time.process_time()
            rebuild(ledger, models.store, models.projections, batch_size=BATCH, setwise=setwise)
            seconds = time.perf_counter() - started
            per_cpu["set-wise" if setwise else "one-by-one"].append(
                head / max(time.process_time() - cpu, 1e-9)
            )
            return head / seconds

        return once

    loads = [os.getloadavg()[0]]
    spread = interleave(
        {"set-wise": side(True), "one-by-one": side(False)},
        rounds=ROUNDS,
        between=lambda: loads.append(os.getloadavg()[0]),
    )
    print(f"  rebuild from zero, set-wise   : {spread['set-wise'].describe('events/s')}")
    print(f"  rebuild from zero, one-by-one : {spread['one-by-one'].describe('events/s')}")
    for name, samples in per_cpu.items():
        # this process's CPU time: steadier than the wall clock on a shared machine (on
        # PostgreSQL the server's own CPU is not in it)
        print(f"  {name + ' per CPU-second':<30}: {Spread(tuple(samples)).describe('events')}")
    print(
        f"  set-wise / one-by-one         : "
        f"{ratio(spread['set-wise'], spread['one-by-one']).describe(digits=2)}"
        f"   (load average {min(loads):.1f}-{max(loads):.1f})",
        flush=True,
    )


def run() -> None:
    cached = demo_ledger()
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        for name in ("ledger.sqlite3", "keyring.json"):
            shutil.copy(cached / name, work / name)
        sqlite = build_ledger(Settings(data_dir=work))
        try:
            measure("sqlite", sqlite)
            schema = f"bench_views_{uuid.uuid4().hex[:8]}"
            try:
                with psycopg.connect(PG_DSN, autocommit=True, connect_timeout=3) as conn:
                    conn.execute(f'CREATE SCHEMA "{schema}"')
            except psycopg.Error:
                print("postgres: unreachable, skipped")
                return
            try:
                pg = build_ledger(Settings(data_dir=work, database_url=f"{PG_DSN}?schema={schema}"))
                try:
                    copy_to_postgres(sqlite, pg)
                    measure("postgres", pg)
                finally:
                    pg.close()
            finally:
                with psycopg.connect(PG_DSN, autocommit=True) as conn:
                    conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
        finally:
            sqlite.close()
