"""The library's own recorder conformance suites, run against the ledger's recorders."""

from __future__ import annotations

import tempfile
import threading
import uuid
from pathlib import Path

import psycopg
import pytest
from eventsourcing.postgres import PostgresDatastore
from eventsourcing.sqlite import SQLiteDatastore
from eventsourcing.tests.persistence import (
    ApplicationRecorderTestCase,
    NonInterleavingNotificationIDsBaseCase,
)

from security.dialect import Dialect
from security.integrity.sealed_log import SealedLog
from security.keys.data_keys import KeyStore
from security.keys.keyring import LocalKeyring
from security.recorders import LedgerPostgresApplicationRecorder, LedgerSQLiteApplicationRecorder
from tests.conftest import PG_DSN, require_postgres

pytestmark = pytest.mark.integration


def join_threads_started_since(before: set[threading.Thread], timeout: float = 30) -> None:
    """Wait for the threads a test started (the SQLite datastore starts none of its own)."""
    for thread in set(threading.enumerate()) - before:
        if thread is not threading.current_thread() and not thread.name.startswith("pool-"):
            thread.join(timeout)


def ledger_ddl(dialect: Dialect, keystore: KeyStore) -> list[str]:
    return [*keystore.create_table_statements(), *SealedLog.create_table_statements(dialect)]


class SQLiteLedgerRecorderConformance(ApplicationRecorderTestCase[LedgerSQLiteApplicationRecorder]):
    def setUp(self) -> None:
        self.threads_before = set(threading.enumerate())
        self.tmp = tempfile.TemporaryDirectory()
        self.datastore = SQLiteDatastore(str(Path(self.tmp.name) / "conformance.sqlite3"))

    def tearDown(self) -> None:
        # the library's concurrency tests can return while their reader threads are
        # still inside a query: closing the pool under them crashes CPython's sqlite3
        join_threads_started_since(self.threads_before)
        self.datastore.close()
        self.tmp.cleanup()

    def create_recorder(self) -> LedgerSQLiteApplicationRecorder:
        dialect = Dialect("sqlite")
        keystore = KeyStore(self.datastore, dialect, LocalKeyring.generate())
        recorder = LedgerSQLiteApplicationRecorder(
            self.datastore, keystore=keystore, extra_ddl=ledger_ddl(dialect, keystore)
        )
        recorder.create_table()
        return recorder


class PostgresLedgerRecorderMixin:
    schema: str

    def setUp(self) -> None:
        require_postgres()
        self.schema = f"c_{uuid.uuid4().hex[:12]}"
        with psycopg.connect(PG_DSN, autocommit=True) as conn:
            conn.execute(f'CREATE SCHEMA "{self.schema}"')
        self.datastore = PostgresDatastore(
            "test", "127.0.0.1", 5432, "postgres", "", schema=self.schema, pool_size=4
        )

    def tearDown(self) -> None:
        self.datastore.close()
        with psycopg.connect(PG_DSN, autocommit=True) as conn:
            conn.execute(f'DROP SCHEMA IF EXISTS "{self.schema}" CASCADE')

    def create_recorder(self) -> LedgerPostgresApplicationRecorder:
        dialect = Dialect("postgres", self.schema)
        keystore = KeyStore(self.datastore, dialect, LocalKeyring.generate())
        recorder = LedgerPostgresApplicationRecorder(
            self.datastore,
            events_table_name="ledger_events",
            keystore=keystore,
            extra_ddl=ledger_ddl(dialect, keystore),
        )
        recorder.create_table()
        return recorder


@pytest.mark.postgres
class PostgresLedgerRecorderConformance(
    PostgresLedgerRecorderMixin, ApplicationRecorderTestCase[LedgerPostgresApplicationRecorder]
):
    EXPECT_CONTIGUOUS_NOTIFICATION_IDS = False


@pytest.mark.postgres
class PostgresLedgerRecorderNonInterleaving(
    PostgresLedgerRecorderMixin, NonInterleavingNotificationIDsBaseCase
):
    pass
