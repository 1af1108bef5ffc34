"""A worker starting while others write runs no DDL on a PostgreSQL schema that already
holds it: `CREATE INDEX IF NOT EXISTS` locks its table even when the index exists, and the
recorder's DDL transaction, locking the events, keys and subject-index tables in its own
order, deadlocked with writers (a 503 `store_busy` on the request that built a worker's
ledger, 1 run in 3 of the 32-writer load test). New DDL still runs, and a busy store
during it is retried."""

from __future__ import annotations

import uuid
from typing import Any

import psycopg
import pytest
from eventsourcing.persistence import StoredEvent
from eventsourcing.postgres import PostgresApplicationRecorder, PostgresDatastore
from psycopg import errors as pg

from security.dialect import Dialect
from security.integrity.sealed_log import SealedLog
from security.keys.data_keys import KeyStore
from security.keys.keyring import LocalKeyring
from security.recorders import LedgerPostgresApplicationRecorder
from tests.conftest import PG_DSN

pytestmark = [pytest.mark.integration, pytest.mark.postgres]


@pytest.fixture
def schema(pg_schema: str) -> str:
    return pg_schema


def recorder(schema: str, extra: tuple[str, ...] = ()) -> LedgerPostgresApplicationRecorder:
    """A recorder of a fresh datastore (as a newly started worker builds it)."""
    datastore = PostgresDatastore(
        "test", "127.0.0.1", 5432, "postgres", "", schema=schema, pool_size=2
    )
    dialect = Dialect("postgres", schema)
    keystore = KeyStore(datastore, dialect, LocalKeyring.generate())
    ddl = [*keystore.create_table_statements(), *SealedLog.create_table_statements(dialect)]
    return LedgerPostgresApplicationRecorder(
        datastore, events_table_name="ledger_events", keystore=keystore, extra_ddl=[*ddl, *extra]
    )


def counting_ddl(monkeypatch: pytest.MonkeyPatch, fail_first: int = 0) -> list[int]:
    """Count the library's DDL runs (and make the first `fail_first` of them deadlock)."""
    runs: list[int] = []
    original = PostgresApplicationRecorder.create_table

    def create_table(self: Any) -> None:
        runs.append(1)
        if len(runs) <= fail_first:
            raise pg.DeadlockDetected("deadlock detected")
        original(self)

    monkeypatch.setattr(PostgresApplicationRecorder, "create_table", create_table)
    return runs


def event(version: int = 1) -> StoredEvent:
    return StoredEvent(uuid.uuid4(), version, "tests:Event", b"{}")


def test_a_schema_holding_the_ddl_gets_none_and_the_recorder_still_writes(
    schema: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    runs = counting_ddl(monkeypatch)
    first = recorder(schema)
    first.create_table()
    assert len(runs) == 1
    second = recorder(schema)  # another worker starting
    second.create_table()
    assert len(runs) == 1  # no DDL: no table lock taken
    ids = second.insert_events([event()])
    assert ids and len(second.select_notifications(start=None, limit=10)) == 1
    first.datastore.close()
    second.datastore.close()


def test_new_ddl_runs_and_a_dropped_events_table_is_made_again(
    schema: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    runs = counting_ddl(monkeypatch)
    recorder(schema).create_table()
    upgraded = recorder(schema, extra=(f'CREATE TABLE IF NOT EXISTS "{schema}".extra (x INT)',))
    upgraded.create_table()
    assert len(runs) == 2
    with psycopg.connect(PG_DSN, autocommit=True) as conn:
        assert conn.execute("SELECT to_regclass(%s)", (f'"{schema}".extra',)).fetchone()[0]
        conn.execute(f'DROP TABLE "{schema}".ledger_events')
    again = recorder(schema, extra=(f'CREATE TABLE IF NOT EXISTS "{schema}".extra (x INT)',))
    again.create_table()
    assert len(runs) == 3
    assert again.insert_events([event()])
    again.datastore.close()
    upgraded.datastore.close()


def test_a_deadlock_in_the_startup_ddl_is_run_again(
    schema: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    runs = counting_ddl(monkeypatch, fail_first=2)
    made = recorder(schema)
    made.create_table()
    assert len(runs) == 3
    assert made.insert_events([event()])
    made.datastore.close()
