"""Ledger core: append rate with encryption and sealing vs the plain library.

(a) this ledger: per-subject envelope encryption, then sealing every event;
(b) the plain eventsourcing library with its own AESCipher and zlib compressor;
same aggregate, same event count, same machine, same run, interleaved: each of
BENCH_ROUNDS (default 5) rounds appends BENCH_AGGREGATES (default 200) x 10 events to
each side, alternating between the sides aggregate by aggregate (and which goes
first), so a burst of noise lands on both; one ratio per round, reported as median
with min-max (benchmarks.rounds). The ledger seals each round's events after its timed append
(in production the sealer does this in the background), reported beside it. A
failed verification at the end fails the section.
"""

from __future__ import annotations

import os
import tempfile
import time
from pathlib import Path
from typing import Any
from uuid import UUID

import psycopg
from eventsourcing.application import Application
from eventsourcing.cipher import AESCipher
from eventsourcing.domain import Aggregate, event

from benchmarks.rounds import MIN_ROUNDS, Spread, fail_if, ratio
from security.bootstrap import Settings, build_ledger

AGGREGATES = int(os.environ.get("BENCH_AGGREGATES", "200"))  # per round
ROUNDS = max(MIN_ROUNDS, int(os.environ.get("BENCH_ROUNDS", str(MIN_ROUNDS))))
TARGET = 0.9
EVENTS_EACH = 10
PG_DSN = "postgresql://postgres@127.0.0.1:5432/test"


class Account(Aggregate):
    class Event(Aggregate.Event):
        @property
        def subject_id(self) -> UUID:
            return self.originator_id

    @event("Opened")
    def __init__(self, name: str, phone: str) -> None:
        self.name = name
        self.phone = phone

    @event("Noted")
    def note(self, text: str, amount: str) -> None:
        self.last = (text, amount)


class BenchApp(Application[UUID]):
    name = "Ledger"

    def __init__(self, env: Any = None, **_: Any) -> None:
        super().__init__(env)


def append_one(app: Application[UUID], i: int) -> float:
    """Append one aggregate's EVENTS_EACH events, one save per event; returns seconds."""
    start = time.perf_counter()
    account = Account(f"Customer {i} 客户", f"139{i:08d}")
    app.save(account)
    for j in range(EVENTS_EACH - 1):
        account.note(f"interaction {j} about product {i % 17}", f"{i * 13 % 9999}.{j:02d}")
        app.save(account)
    return time.perf_counter() - start


def append_round(
    plain: Application[UUID], ledger: Application[UUID], first: int
) -> tuple[float, float]:
    """One round: AGGREGATES aggregates to each side, alternating aggregate by aggregate
    (and which side goes first), so noise lands on both; returns (plain s, ledger s)."""
    plain_seconds = ledger_seconds = 0.0
    for k in range(AGGREGATES):
        i = first + k
        if k % 2 == 0:
            plain_seconds += append_one(plain, i)
            ledger_seconds += append_one(ledger, i)
        else:
            ledger_seconds += append_one(ledger, i)
            plain_seconds += append_one(plain, i)
    return plain_seconds, ledger_seconds


def plain_env(kind: str, where: str) -> dict[str, str]:
    env = {
        "CIPHER_TOPIC": "eventsourcing.cryptography:AESCipher",
        "CIPHER_KEY": AESCipher.create_key(32),
        "COMPRESSOR_TOPIC": "eventsourcing.compressor:ZlibCompressor",
    }
    if kind == "sqlite":
        env.update(PERSISTENCE_MODULE="eventsourcing.sqlite", SQLITE_DBNAME=where)
    else:
        env.update(
            PERSISTENCE_MODULE="eventsourcing.postgres",
            POSTGRES_DBNAME="test",
            POSTGRES_HOST="127.0.0.1",
            POSTGRES_PORT="5432",
            POSTGRES_USER="postgres",
            POSTGRES_PASSWORD="",
            POSTGRES_SCHEMA=where,
        )
    return env


def pg_schema() -> str | None:
    try:
        with psycopg.connect(PG_DSN, autocommit=True, connect_timeout=3) as conn:
            name = f"bench_{os.getpid()}_{time.monotonic_ns() % 100000}"
            conn.execute(f'CREATE SCHEMA "{name}"')
            return name
    except psycopg.Error:
        return None


def drop_schema(name: str) -> None:
    with psycopg.connect(PG_DSN, autocommit=True) as conn:
        conn.execute(f'DROP SCHEMA IF EXISTS "{name}" CASCADE')


def run_one(kind: str) -> list[str]:
    """Interleaved rounds on one store kind; returns problems (a failed verification)."""
    per_round = AGGREGATES * EVENTS_EACH
    with tempfile.TemporaryDirectory() as tmp:
        if kind == "sqlite":
            plain = Application[UUID](env=plain_env("sqlite", str(Path(tmp) / "plain.sqlite3")))
            config = Settings(data_dir=Path(tmp) / "ledger")
            schemas: list[str] = []
        else:
            s1, s2 = pg_schema(), pg_schema()
            if s1 is None or s2 is None:
                print("postgres: unreachable")
                return ["postgres unreachable: the core section needs both stores"]
            schemas = [s1, s2]
            plain = Application[UUID](env=plain_env("postgres", s1))
            config = Settings(data_dir=Path(tmp) / "ledger", database_url=f"{PG_DSN}?schema={s2}")
        seal_seconds: list[float] = []
        try:
            ledger = build_ledger(config, app_class=BenchApp)
            plain_rates: list[float] = []
            ledger_rates: list[float] = []
            for number in range(ROUNDS):
                plain_s, ledger_s = append_round(plain, ledger.app, number * AGGREGATES)
                plain_rates.append(per_round / plain_s)
                ledger_rates.append(per_round / ledger_s)
                t0 = time.perf_counter()
                ledger.seal()
                seal_seconds.append(time.perf_counter() - t0)
            spread = {"plain": Spread(tuple(plain_rates)), "ledger": Spread(tuple(ledger_rates))}
            t0 = time.perf_counter()
            report = ledger.verify()
            verify_seconds = time.perf_counter() - t0
            plain.close()
            ledger.close()
        finally:
            for schema in schemas:
                drop_schema(schema)
    total = per_round * ROUNDS
    with_seal = Spread(
        tuple(
            per_round / (per_round / rate + seconds)
            for rate, seconds in zip(spread["ledger"].samples, seal_seconds, strict=True)
        )
    )
    append_ratio = ratio(spread["ledger"], spread["plain"])
    print(
        f"{kind}: {ROUNDS} rounds of {per_round} events to each side ({AGGREGATES} aggregates"
        f" x {EVENTS_EACH}), one save per event, sides alternating aggregate by aggregate"
    )
    print(f"  (b) plain library, AESCipher + zlib : {spread['plain'].describe('events/s')}")
    print(f"  (a) ledger, envelope encryption     : {spread['ledger'].describe('events/s')}")
    print(f"  append ratio a/b (target >= 0.90)   : {append_ratio.describe(digits=2)}")
    print(f"  a incl. sealing each round's events : {with_seal.describe('events/s')}")
    print(
        f"  ratio a/b incl. sealing             : "
        f"{ratio(with_seal, spread['plain']).describe(digits=2)}"
    )
    print(
        f"  seal {per_round} events                : "
        f"{Spread(tuple(seal_seconds)).describe('s', digits=2)}"
    )
    print(f"  verify all {total} events           : {verify_seconds:.2f} s", flush=True)
    problems = []
    if not (report.ok and report.sealed == total):
        problems.append(f"{kind}: verification failed after the run: {report}")
    if append_ratio.median < TARGET:
        print(f"  note: median append ratio below {TARGET:.2f} on this run")
    return problems


def run() -> None:
    problems = run_one("sqlite")
    problems += run_one("postgres")
    fail_if(problems)
