"""How costs grow with the log: one PostgreSQL store grown through several sizes.

`python -m benchmarks scale` (not part of the default run: it takes hours at 10M).
Sizes from LEDGER_SCALE_SIZES (default "1000000,3000000,10000000"); the store lives
in a schema of its own, dropped at the end (LEDGER_SCALE_KEEP=1 keeps it). The
events are genuine: demo customers (demo.bulk: a registration and contacts, ten
events each) saved through the ledger's own encrypting mapper, a batch of
aggregates per transaction.

At each size, after bulk-loading up to it:
- append rate of the bulk load (events/s);
- seal: 10,000 new events appended, then one seal covering them (seconds);
- incremental verify of those 10,000 new events, where `Ledger.verify` offers it,
  else labelled as the full pass it is;
- full verify of the event log (events/s);
- projections: the views' catch-up rate over the next LEDGER_SCALE_VIEW_SAMPLE
  events (default 10,000) from where they stopped (events/s; LEDGER_SCALE_VIEWS=0
  skips them);
- exporting one customer (ten events) as a bundle;
- proving one event: an inclusion proof as `GET /api/v1/integrity/proof` builds it,
  cold (a freshly started worker) and warm, checked with ledger_verify.merkle;
- a time-travel read: a customer with 1,000 events as of a moment halfway through.

Each size's figures are appended to var/bench/scale.json as soon as they are
measured; docs/performance.md (the block between its scale markers) and
docs/img/scale.svg are rewritten from that file (benchmarks.scale_report). Then the
partition simulation of benchmarks.partitions runs (docs/scaling.md).
"""

from __future__ import annotations

import inspect
import json
import multiprocessing
import os
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any
from uuid import UUID

import psycopg

from benchmarks import scale_report
from demo.bulk import bulk_customers, long_history
from ledger_verify.merkle import verify_inclusion
from projections.runtime import close_read_models, read_models
from security.bootstrap import Ledger, Settings, build_ledger
from security.export.exporter import ExportActor, export_bundle
from security.export.scope import ExportScope

PG_DSN = os.environ.get("LEDGER_TEST_PG", "postgresql://postgres@127.0.0.1:5432/test")
SIZES = [
    int(s)
    for s in os.environ.get("LEDGER_SCALE_SIZES", "1000000,3000000,10000000").split(",")
    if s.strip()
]
NEW = 10_000  # the "new events" of the seal and incremental-verify figures
EVENTS_EACH = 10
HISTORY = 1_000
VIEWS = os.environ.get("LEDGER_SCALE_VIEWS", "1") != "0"
WORKERS = int(os.environ.get("LEDGER_SCALE_WORKERS", str(os.cpu_count() or 1)))
CHUNK = 2_000  # customers (20,000 events) per task of a loading worker
VIEW_SAMPLE = int(os.environ.get("LEDGER_SCALE_VIEW_SAMPLE", "10000"))
RESULTS = Path(os.environ.get("LEDGER_SCALE_RESULTS", "var/bench/scale.json"))


def timed(action: Callable[[], Any]) -> tuple[float, Any]:
    started = time.perf_counter()
    value = action()
    return time.perf_counter() - started, value


def head(ledger: Ledger) -> int:
    """The highest notification id: the events in the store, give or take the gaps
    PostgreSQL leaves (the figures use the sealed size, which is exact)."""
    return int(ledger.app.recorder.max_notification_id() or 0)


_worker_ledger: Ledger | None = None


def _load_chunk(config: Settings, first_index: int, customers: int) -> tuple[int, UUID]:
    """In a worker process: save `customers` bulk customers from `first_index` on."""
    global _worker_ledger
    if _worker_ledger is None:
        _worker_ledger = build_ledger(config)
    written, first = 0, None
    for batch in bulk_customers(_worker_ledger.app, customers, first_index=first_index):
        written += batch.events
        first = first or batch.customer_ids[0]
    assert first is not None
    return written, first


class Grower:
    """Appends bulk demo customers to one ledger from WORKERS processes (encrypting
    in parallel; the store still orders the inserts), remembering where it stopped."""

    def __init__(self, config: Settings) -> None:
        self.config = config
        self.next_index = 0
        self.sample: UUID | None = None
        self.pool = ProcessPoolExecutor(WORKERS, mp_context=multiprocessing.get_context("spawn"))

    def append(self, events: int) -> tuple[int, float]:
        """Append about `events` events; returns (events written, seconds)."""
        customers = max(1, events // EVENTS_EACH)
        chunk = max(1, min(CHUNK, -(-customers // WORKERS)))
        started = time.perf_counter()
        futures = [
            self.pool.submit(
                _load_chunk, self.config, self.next_index + at, min(chunk, customers - at)
            )
            for at in range(0, customers, chunk)
        ]
        written = 0
        for future in futures:
            events_written, first = future.result()
            written += events_written
            if self.sample is None:
                self.sample = first
        self.next_index += customers
        return written, time.perf_counter() - started

    def close(self) -> None:
        self.pool.shutdown()


def incremental_verify(ledger: Ledger) -> tuple[float, str]:
    """Verify the events sealed since the last verification if `Ledger.verify` can
    (an `incremental` or `full` parameter), else run the full pass and say so."""
    parameters = inspect.signature(ledger.verify).parameters
    if "incremental" in parameters:
        seconds, report = timed(lambda: ledger.verify(incremental=True))  # type: ignore[call-arg]
        label = "incremental"
    elif "full" in parameters:
        seconds, report = timed(lambda: ledger.verify(full=False))  # type: ignore[call-arg]
        label = "incremental"
    else:
        seconds, report = timed(ledger.verify)
        label = "full pass (incremental verify not built)"
    if not report.ok:
        raise SystemExit(f"FAIL: verification found problems: {report}")
    return seconds, label


def full_verify(ledger: Ledger) -> float:
    parameters = inspect.signature(ledger.verify).parameters
    if "full" in parameters:
        seconds, report = timed(lambda: ledger.verify(full=True))  # type: ignore[call-arg]
    elif "incremental" in parameters:
        seconds, report = timed(lambda: ledger.verify(incremental=False))  # type: ignore[call-arg]
    else:
        seconds, report = timed(ledger.verify)
    if not report.ok:
        raise SystemExit(f"FAIL: full verification found problems: {report}")
    return float(seconds)


def views_catch_up(ledger: Ledger) -> tuple[int, float]:
    """(events read, events/s) of the views catching up over the next VIEW_SAMPLE
    events from where they stopped (they lag behind the log: following a million
    events at today's rate would take longer than the rest of a size step)."""
    models = read_models(ledger)
    try:
        projector = models.projector(batch_size=1000)
        read, started = 0, time.perf_counter()
        while read < VIEW_SAMPLE:
            count = projector.run_once()
            read += count
            if count == 0:
                break
        seconds = time.perf_counter() - started
    finally:
        close_read_models(ledger)
    return read, read / seconds if seconds else 0.0


def prove_one(config: Settings, ledger: Ledger) -> tuple[float, float]:
    """(cold, warm) seconds to build an inclusion proof of one event as the API does;
    cold in a ledger built afresh, as a new worker would be. The proof must verify."""
    latest = ledger.sealed_log.latest_checkpoint()
    assert latest is not None
    seq = latest.size // 2
    fresh = build_ledger(config)
    try:
        times = []
        for _ in range(2):
            started = time.perf_counter()
            proof = fresh.sealed_log.proofs().inclusion_proof(seq, latest.size)
            times.append(time.perf_counter() - started)
        leaf = next(fresh.sealed_log.leaf_rows(seq, seq + 1)).leaf_hash
        verify_inclusion(leaf, seq, latest.size, proof, latest.root)
    finally:
        fresh.close()
    return times[0], times[1]


def export_one(ledger: Ledger, customer: UUID, where: Path) -> tuple[float, int]:
    target = where / f"bundle-{uuid.uuid4().hex[:8]}"
    seconds, result = timed(
        lambda: export_bundle(
            ledger,
            target,
            ExportScope(customers=(str(customer),)),
            ExportActor("bench-scale", channel="bench"),
        )
    )
    return seconds, int(result.events)


def measure(
    size: int,
    config: Settings,
    ledger: Ledger,
    grower: Grower,
    history: tuple[UUID, Any],
    tmp: Path,
) -> dict[str, Any]:
    figures: dict[str, Any] = {"target": size}
    print(f"-- growing to {size:,} events", flush=True)
    wanted = size - NEW - head(ledger)
    written, seconds = grower.append(wanted) if wanted > 0 else (0, 0.0)
    figures["append_rate"] = written / seconds if seconds else None
    figures["bulk_seconds"] = seconds
    figures["seal_backlog_seconds"], _ = timed(ledger.seal)
    print(
        f"   bulk load {written:,} events in {seconds:.0f} s "
        f"({figures['append_rate'] or 0:,.0f} events/s); sealed them in "
        f"{figures['seal_backlog_seconds']:.1f} s",
        flush=True,
    )
    if {"incremental", "full"} & set(inspect.signature(ledger.verify).parameters):
        figures["previous_verify_seconds"] = full_verify(ledger)  # what the new 10k extend
    grower.append(NEW)
    figures["seal_new_seconds"], _ = timed(ledger.seal)
    figures["incremental_verify_seconds"], figures["incremental_verify_kind"] = incremental_verify(
        ledger
    )
    events = ledger.sealed_log.sealed_size()
    figures["events"] = events
    if figures["incremental_verify_kind"] == "incremental":
        figures["full_verify_seconds"] = full_verify(ledger)
    else:  # that pass was the full one already
        figures["full_verify_seconds"] = figures["incremental_verify_seconds"]
    figures["full_verify_rate"] = events / figures["full_verify_seconds"]
    if VIEWS:
        figures["views_events"], figures["views_rate"] = views_catch_up(ledger)
    assert grower.sample is not None
    figures["export_one_seconds"], figures["export_one_events"] = export_one(
        ledger, grower.sample, tmp
    )
    figures["proof_cold_seconds"], figures["proof_warm_seconds"] = prove_one(config, ledger)
    customer, middle = history
    figures["as_of_seconds"], record = timed(lambda: ledger.app.customer_as_of(customer, middle))
    assert record.address is not None
    return figures


def show(figures: dict[str, Any]) -> None:
    rate = figures.get("views_rate")
    print(f"   events in the store           : {figures['events']:,}")
    print(f"   seal 10k new events           : {figures['seal_new_seconds']:8.2f} s")
    print(
        f"   verify 10k new events         : {figures['incremental_verify_seconds']:8.2f} s"
        f"  ({figures['incremental_verify_kind']})"
    )
    print(
        f"   full verify                   : {figures['full_verify_seconds']:8.1f} s"
        f"  ({figures['full_verify_rate']:,.0f} events/s)"
    )
    if rate is not None:
        print(
            f"   views catch-up                : {rate:8,.0f} events/s"
            f"  (over {figures['views_events']:,} events)"
        )
    print(
        f"   export one customer           : {figures['export_one_seconds']:8.2f} s"
        f"  ({figures['export_one_events']} events)"
    )
    print(
        f"   prove one event               : {figures['proof_cold_seconds']:8.2f} s cold, "
        f"{figures['proof_warm_seconds'] * 1000:.1f} ms warm"
    )
    print(f"   customer of {HISTORY:,} events as of: {figures['as_of_seconds'] * 1000:8.1f} ms")
    print(flush=True)


def run() -> None:
    schema = f"bench_scale_{uuid.uuid4().hex[:8]}"
    try:
        with psycopg.connect(PG_DSN, autocommit=True, connect_timeout=3) as conn:
            conn.execute(f'CREATE SCHEMA "{schema}"')
    except psycopg.Error as exc:
        print(f"FAIL: PostgreSQL unreachable at {PG_DSN}: {exc}", flush=True)
        sys.exit(1)
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    results: list[dict[str, Any]] = []
    try:
        with tempfile.TemporaryDirectory(prefix="bench-scale-") as tmp:
            config = Settings(
                data_dir=Path(tmp) / "ledger", database_url=f"{PG_DSN}?schema={schema}"
            )
            ledger = build_ledger(config)
            try:
                history = long_history(ledger.app, HISTORY)
                grower = Grower(config)
                try:
                    for size in sorted(SIZES):
                        started = time.perf_counter()
                        figures = measure(size, config, ledger, grower, history, Path(tmp))
                        figures["step_seconds"] = time.perf_counter() - started
                        results.append(figures)
                        show(figures)
                        RESULTS.write_text(json.dumps(results, indent=2))
                        scale_report.write(results)
                finally:
                    grower.close()
            finally:
                ledger.close()
    finally:
        if os.environ.get("LEDGER_SCALE_KEEP") != "1":
            with psycopg.connect(PG_DSN, autocommit=True) as conn:
                conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
    from benchmarks import partitions

    partitions.run()


if __name__ == "__main__":  # pragma: no cover
    run()
