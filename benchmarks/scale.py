"""How costs grow with the log: one PostgreSQL store grown through several sizes.

`python -m benchmarks scale` (not part of the default run: it takes hours at 10M).
Sizes from LEDGER_SCALE_SIZES (default "1000000,3000000,10000000"); the store lives
in a schema of its own, dropped at the end (LEDGER_SCALE_KEEP=1 keeps it). The
events are genuine: demo customers (demo.bulk: a registration and contacts, ten
events each) saved through the ledger's own encrypting mapper, a batch of
aggregates per transaction.

The loader (LEDGER_SCALE_WORKERS processes, LEDGER_SCALE_BATCH events a transaction,
default 10,000) makes each batch's data keys in one step before the save (the new
customers have none: `new_subject_keys`) instead of one key-store query per customer,
and the store seals the whole bulk load as one backlog.

At each size, after bulk-loading up to it:
- append rate of the bulk load (events/s);
- seal with and without the subject map (issue 16): LEDGER_SCALE_MAP_ROUNDS rounds
  (default 5) each append 10,000 new events, then seal them twice in alternating
  order: the ledger's own seal (leaves, tree nodes, subject map, map line) and a
  second sealed log without a map (prefix `bench_plain`, leaves and tree nodes only).
  That log starts each size as a copy of the ledger's leaves, tree nodes and latest
  checkpoint (the same bytes; copying is SQL, not timed as sealing), so both seal the
  same new events on top of the same tree. Median (min-max) of each, and the ratio;
- incremental verify of the last round's 10,000 new events, from the state the full
  verify (after the other rounds) kept; labelled as a full pass if it fell back;
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

import json
import multiprocessing
import os
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any
from uuid import UUID

import psycopg

from benchmarks import scale_report
from benchmarks.rounds import Spread, ratio
from demo.bulk import bulk_customers, long_history
from ledger_verify.merkle import verify_inclusion
from projections.runtime import close_read_models, read_models
from security.bootstrap import Ledger, Settings, build_ledger
from security.export.exporter import ExportActor, export_bundle
from security.export.scope import ExportScope
from security.integrity.sealed_log import SealedLog
from security.keys.data_keys import KeyStore

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
BATCH_EVENTS = int(os.environ.get("LEDGER_SCALE_BATCH", "10000"))  # events a transaction
MAP_ROUNDS = max(1, int(os.environ.get("LEDGER_SCALE_MAP_ROUNDS", "5")))
PLAIN = "bench_plain"  # the sealed log without a subject map
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


def new_subject_keys(keystore: KeyStore) -> Callable[[Sequence[UUID]], None]:
    """What the loader calls before saving a batch of brand-new customers: make each
    one's data key at once, as `KeyStore.dek_for_subject` does after its query finds
    none, without that query (a round trip a customer, half the loader's time). The
    keys stay pending and are inserted in the events' transaction as any new key is,
    where the key store still refuses a shredded subject."""

    def make(customer_ids: Sequence[UUID]) -> None:
        now = time.monotonic()
        for customer_id in customer_ids:
            # the key store has no public "these subjects are new" call (reported)
            keystore._create(str(customer_id), now)

    return make


def _warm(config: Settings) -> None:
    """In a worker process: build its ledger now, so the first append's rate does not
    include starting the workers (the pause lets every worker take one)."""
    global _worker_ledger
    if _worker_ledger is None:
        _worker_ledger = build_ledger(config)
    time.sleep(0.5)


def _load_chunk(config: Settings, first_index: int, customers: int) -> tuple[int, UUID]:
    """In a worker process: save `customers` bulk customers from `first_index` on."""
    global _worker_ledger
    if _worker_ledger is None:
        _worker_ledger = build_ledger(config)
    written, first = 0, None
    for batch in bulk_customers(
        _worker_ledger.app,
        customers,
        first_index=first_index,
        batch_events=BATCH_EVENTS,
        before_save=new_subject_keys(_worker_ledger.keystore),
    ):
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
        for future in [self.pool.submit(_warm, config) for _ in range(WORKERS)]:
            future.result()

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


def plain_log(ledger: Ledger) -> SealedLog:
    """A second sealed log over the ledger's events without a subject map (prefix
    PLAIN; no anchor file: it is never verified, only timed)."""
    sealed = ledger.sealed_log
    sealed.dialect.create_tables(
        sealed.datastore, SealedLog.create_table_statements(sealed.dialect, PLAIN)
    )
    return SealedLog(
        sealed.source,
        sealed.datastore,
        sealed.dialect,
        sealed.signing_key,
        sealed.origin + "/bench-plain",
        prefix=PLAIN,
    )


def mirror_statements(table: Callable[[str], str], source: str, target: str) -> list[str]:
    """SQL that brings log `target` up to log `source`'s latest checkpoint: the leaves,
    the tree nodes those leaves complete and the nodes' coverage, and that checkpoint's
    row (its frontier is what the next seal of `target` continues from). Run after a
    seal of `source` and before one of `target`, both being extensions of the same
    leaves; `target`'s own checkpoints below stay as they are."""
    leaves, nodes = table(f"{target}_leaves"), table(f"{target}_tree_nodes")
    state, checkpoints = table(f"{target}_tree_state"), table(f"{target}_checkpoints")
    return [
        f"INSERT INTO {leaves} (seq, notification_id, leaf_hash) "
        f"SELECT seq, notification_id, leaf_hash FROM {table(source + '_leaves')} "
        f"WHERE seq >= (SELECT COALESCE(MAX(seq) + 1, 0) FROM {leaves}) ORDER BY seq",
        # a node (level, idx) is complete once (idx + 1) << level leaves are covered
        f"INSERT INTO {nodes} (level, idx, hash) "
        f"SELECT level, idx, hash FROM {table(source + '_tree_nodes')} "
        f"WHERE ((idx + 1) << CAST(level AS INTEGER)) > "
        f"(SELECT COALESCE(MAX(covered), 0) FROM {state})",
        f"DELETE FROM {state}",
        f"INSERT INTO {state} (id, covered) "
        f"SELECT id, covered FROM {table(source + '_tree_state')}",
        f"INSERT INTO {checkpoints} (size, root, note, frontier, created_at) "
        f"SELECT size, root, note, frontier, created_at FROM {table(source + '_checkpoints')} "
        f"WHERE size = (SELECT MAX(size) FROM {table(source + '_checkpoints')}) "
        f"AND size > (SELECT COALESCE(MAX(size), 0) FROM {checkpoints})",
    ]


def mirror(ledger: Ledger, plain: SealedLog) -> None:
    """Bring the plain log up to the ledger's latest checkpoint (mirror_statements)."""
    sealed = ledger.sealed_log
    with sealed.datastore.transaction(commit=True) as cursor:
        for statement in mirror_statements(sealed.dialect.table, sealed.prefix, plain.prefix):
            sealed.dialect.execute(cursor, statement)
    if plain.sizes() != sealed.sizes():
        raise SystemExit(
            f"FAIL: the plain log {plain.sizes()} is not the ledger's {sealed.sizes()}"
        )


def seal_round(ledger: Ledger, plain: SealedLog, number: int) -> tuple[float, float]:
    """Seal the same new events with the subject map and without it, the first of
    the two alternating by round; (with, without) seconds. Both must reach one size."""
    sides = [("with", ledger.seal), ("without", plain.seal)]
    if number % 2:
        sides.reverse()
    seconds: dict[str, float] = {}
    for name, seal in sides:
        seconds[name], _ = timed(seal)
    if plain.sizes() != ledger.sealed_log.sizes():
        raise SystemExit("FAIL: the two logs sealed different sizes")
    return seconds["with"], seconds["without"]


def analyze(ledger: Ledger) -> None:
    """Refresh the planner's statistics of the store's tables, as autovacuum does on a
    server that runs it (the test server here does not) and as a DBA does after a
    bulk load. Without them every table looks as it did when empty, and the planner
    picks whole-table scans for the indexed lookups of an export and of sealing
    (measured: exporting one customer grew 0.21 -> 0.57 s from 100k to 300k events)."""
    dialect = ledger.sealed_log.dialect
    if dialect.name != "postgres":
        return
    schema = dialect.schema or "public"
    with ledger.datastore.transaction(commit=True) as cursor:
        cursor.execute("SELECT tablename FROM pg_tables WHERE schemaname = %s", (schema,))
        tables = [str(row["tablename"]) for row in cursor.fetchall()]
        for table in tables:
            cursor.execute(f'ANALYZE "{schema}"."{table}"')


def verify_kept(ledger: Ledger) -> float:
    """A full verify of the event log whose end is kept as the verified state, as an
    ok `ledger verify` keeps it, so the next incremental run starts there."""
    seconds, report = timed(lambda: ledger.verify(full=True))
    if not report.ok:
        raise SystemExit(f"FAIL: full verification found problems: {report}")
    if ledger.verified_states is not None and report.state is not None:
        ledger.verified_states.save(report.state)
    return float(seconds)


def incremental_verify(ledger: Ledger) -> tuple[float, str]:
    """Verify the events sealed since the kept state (`full=False`); labelled as the
    full pass it was if the run fell back to one."""
    seconds, report = timed(lambda: ledger.verify(full=False))
    if not report.ok:
        raise SystemExit(f"FAIL: verification found problems: {report}")
    if report.mode == "incremental":
        return seconds, "incremental"
    return seconds, f"full pass ({report.fallback or 'no incremental mode'})"


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
    plain: SealedLog,
    grower: Grower,
    history: tuple[UUID, Any],
    tmp: Path,
) -> dict[str, Any]:
    figures: dict[str, Any] = {"target": size, "load_average": os.getloadavg()}
    print(f"-- growing to {size:,} events", flush=True)
    wanted = size - NEW * MAP_ROUNDS - head(ledger)
    written, seconds = grower.append(wanted) if wanted > 0 else (0, 0.0)
    figures["append_rate"] = written / seconds if seconds else None
    figures["bulk_seconds"] = seconds
    analyzed, _ = timed(lambda: analyze(ledger))  # the events' tables, before sealing them
    figures["seal_backlog_seconds"], _ = timed(ledger.seal)
    figures["mirror_seconds"], _ = timed(lambda: mirror(ledger, plain))
    figures["analyze_seconds"], _ = timed(lambda: analyze(ledger))  # and the log's
    figures["analyze_seconds"] += analyzed
    print(
        f"   bulk load {written:,} events in {seconds:.0f} s "
        f"({figures['append_rate'] or 0:,.0f} events/s); sealed them in "
        f"{figures['seal_backlog_seconds']:.1f} s; plain log mirrored in "
        f"{figures['mirror_seconds']:.1f} s; ANALYZE {figures['analyze_seconds']:.1f} s",
        flush=True,
    )
    with_map: list[float] = []
    without: list[float] = []
    for number in range(MAP_ROUNDS):
        if number == MAP_ROUNDS - 1:  # the last round's 10k are the incremental verify's
            figures["full_verify_seconds"] = verify_kept(ledger)
            figures["full_verify_events"] = ledger.sealed_log.sealed_size()
        grower.append(NEW)
        seconds_with, seconds_without = seal_round(ledger, plain, number)
        with_map.append(seconds_with)
        without.append(seconds_without)
    a, b = Spread(tuple(with_map)), Spread(tuple(without))
    figures["seal_new_rounds"] = with_map
    figures["seal_plain_rounds"] = without
    figures["seal_new_seconds"] = a.median
    figures["seal_plain_seconds"] = b.median
    figures["seal_map_ratio"] = ratio(a, b).median
    figures["seal_map_ratio_range"] = [ratio(a, b).low, ratio(a, b).high]
    figures["incremental_verify_seconds"], figures["incremental_verify_kind"] = incremental_verify(
        ledger
    )
    events = ledger.sealed_log.sealed_size()
    figures["events"] = events
    figures["subjects"] = subjects(ledger)
    figures["full_verify_rate"] = figures["full_verify_events"] / figures["full_verify_seconds"]
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
    figures["load_average_end"] = os.getloadavg()
    return figures


def subjects(ledger: Ledger) -> int:
    """Subjects with a data key: the subject map's entries, give or take `system`."""
    with ledger.datastore.transaction(commit=False) as cursor:
        ledger.sealed_log.dialect.execute(
            cursor, f"SELECT COUNT(DISTINCT subject_id) AS n FROM {ledger.keystore.table}"
        )
        return int(cursor.fetchone()["n"])


def show(figures: dict[str, Any]) -> None:
    rate = figures.get("views_rate")
    low, high = figures["seal_map_ratio_range"]
    print(f"   events in the store           : {figures['events']:,}")
    print(f"   subjects (data keys)          : {figures['subjects']:,}")
    print(
        f"   seal 10k new, with map        : {figures['seal_new_seconds']:8.2f} s"
        f"  (median of {len(figures['seal_new_rounds'])}: "
        + ", ".join(f"{x:.2f}" for x in figures["seal_new_rounds"])
        + ")"
    )
    print(
        f"   seal 10k new, without map     : {figures['seal_plain_seconds']:8.2f} s  ("
        + ", ".join(f"{x:.2f}" for x in figures["seal_plain_rounds"])
        + f"); with/without {figures['seal_map_ratio']:.2f} ({low:.2f}-{high:.2f})"
    )
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
    print(
        "   load average start / end      : "
        + " ".join(f"{x:.1f}" for x in figures["load_average"])
        + " / "
        + " ".join(f"{x:.1f}" for x in figures["load_average_end"])
    )
    print(flush=True)


def run() -> None:
    schema = os.environ.get("LEDGER_SCALE_SCHEMA") or f"bench_scale_{uuid.uuid4().hex[:8]}"
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
                plain = plain_log(ledger)
                grower = Grower(config)
                try:
                    for size in sorted(SIZES):
                        started = time.perf_counter()
                        figures = measure(size, config, ledger, plain, grower, history, Path(tmp))
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
