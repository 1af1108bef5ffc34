"""Ledger core: append rate with encryption and sealing vs the plain library.

(a) this ledger: per-subject envelope encryption, then sealing every event;
(b) the plain eventsourcing library with its own AESCipher and zlib compressor;
same aggregate, same event count, same machine, same run. Also the time to seal
and to verify everything.
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

from security.bootstrap import Settings, build_ledger

AGGREGATES = int(os.environ.get("BENCH_AGGREGATES", "2000"))
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


def append_load(app: Application[UUID]) -> float:
    """Append AGGREGATES x EVENTS_EACH events, one save per event; returns seconds."""
    start = time.perf_counter()
    for i in range(AGGREGATES):
        account = Account(f"Customer {i} 客户", f"139{i:08d}")
        app.save(account)
        for j in range(EVENTS_EACH - 1):
            account.note(f"interaction {j} about product {i % 17}", f"{i * 13 % 9999}.{j:02d}")
            app.save(account)
    return time.perf_counter() - start


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


def run_one(kind: str) -> None:
    total = AGGREGATES * EVENTS_EACH
    with tempfile.TemporaryDirectory() as tmp:
        if kind == "sqlite":
            plain = Application[UUID](env=plain_env("sqlite", str(Path(tmp) / "plain.sqlite3")))
            config = Settings(data_dir=Path(tmp) / "ledger")
            schemas: list[str] = []
        else:
            s1, s2 = pg_schema(), pg_schema()
            if s1 is None or s2 is None:
                print("postgres: unreachable, skipped")
                return
            schemas = [s1, s2]
            plain = Application[UUID](env=plain_env("postgres", s1))
            config = Settings(data_dir=Path(tmp) / "ledger", database_url=f"{PG_DSN}?schema={s2}")
        try:
            plain_seconds = append_load(plain)
            plain.close()
            ledger = build_ledger(config, app_class=BenchApp)
            write_seconds = append_load(ledger.app)
            t0 = time.perf_counter()
            ledger.seal()
            seal_seconds = time.perf_counter() - t0
            t0 = time.perf_counter()
            report = ledger.verify()
            verify_seconds = time.perf_counter() - t0
            ledger.close()
        finally:
            for schema in schemas:
                drop_schema(schema)
    assert report.ok and report.sealed == total, report
    plain_rate = total / plain_seconds
    ledger_rate = total / (write_seconds + seal_seconds)
    print(f"{kind}: {total} events ({AGGREGATES} aggregates x {EVENTS_EACH}), one save per event")
    print(f"  (b) plain library, AESCipher + zlib : {plain_rate:9.0f} events/s")
    print(f"  (a) ledger, envelope + Merkle seal  : {ledger_rate:9.0f} events/s")
    print(f"      of which append only            : {total / write_seconds:9.0f} events/s")
    print(f"  ratio a/b                           : {ledger_rate / plain_rate:9.2f}")
    print(f"  seal {total} events                  : {seal_seconds:9.2f} s")
    print(f"  verify {total} events                : {verify_seconds:9.2f} s", flush=True)


def run() -> None:
    run_one("sqlite")
    run_one("postgres")
