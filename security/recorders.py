"""The ledger's persistence modules: the library's SQLite and PostgreSQL recorders,
extended so that a new data key commits in the same transaction as its first event,
and factories that install the envelope-encrypting mapper.

The application selects them by configuration only:
`PERSISTENCE_MODULE=security.recorders:LedgerSQLiteFactory` (or `...:LedgerPostgresFactory`).
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from eventsourcing.persistence import (
    ApplicationRecorder,
    IntegrityError,
    InterfaceError,
    Mapper,
    OperationalError,
    StoredEvent,
    Transcoder,
)
from eventsourcing.postgres import PostgresApplicationRecorder, PostgresDatastore, PostgresFactory
from eventsourcing.sqlite import (
    SQLiteApplicationRecorder,
    SQLiteConnection,
    SQLiteConnectionPool,
    SQLiteCursor,
    SQLiteDatastore,
    SQLiteFactory,
    SQLiteTransaction,
)
from eventsourcing.utils import Environment
from psycopg import Connection
from psycopg.generators import send as psycopg_send
from psycopg.sql import SQL, Identifier

from security.connection_check import PooledConnectionCheck
from security.connection_check import install as install_connection_check
from security.dialect import Dialect
from security.errors import ConfigurationError
from security.event_reads import StreamReadingRecorder
from security.integrity.access_log import AccessLog
from security.integrity.sealed_log import SealedLog
from security.integrity.subject_map import table_statements as subject_map_ddl
from security.keys.data_keys import KeyStore, PendingKey
from security.keys.envelope import EnvelopeMapper
from security.keys.keyring import Keyring, load_keyring
from security.store_faults import classify, retry_busy
from security.subject_streams import IndexedPairs, insert_pairs, stream_pairs
from security.subject_streams import create_table_statements as subject_streams_ddl

PENDING_KEYS = "ledger_pending_keys"
STREAM_PAIRS = "ledger_stream_pairs"  # the subject-index pairs a write still inserts
# the library's PostgreSQL insert without its retry decorator, and that retry's figures
_INSERT_ONCE: Callable[..., Sequence[int] | None] = (
    PostgresApplicationRecorder.insert_events.__wrapped__
)
INSERT_ATTEMPTS = 10
INSERT_RETRY_WAIT = 0.2


class ImmediateSQLiteTransaction(SQLiteTransaction):
    """A writing transaction that takes SQLite's write lock when it begins (`BEGIN
    IMMEDIATE`). The library's deferred `BEGIN` reads first and upgrades to a writer
    later; if another connection committed in between, SQLite refuses the upgrade at
    once ("database is locked", no busy wait). Taken up front, the lock is waited for
    within the busy timeout instead. Reading transactions stay deferred."""

    def __enter__(self) -> SQLiteCursor:
        cursor = self.connection.cursor()
        cursor.execute("BEGIN IMMEDIATE" if self.commit else "BEGIN")
        return cursor


class LedgerSQLiteConnection(SQLiteConnection):
    """The library's connection, whose writing transactions begin IMMEDIATE."""

    @contextmanager
    def transaction(self, *, commit: bool) -> Iterator[SQLiteCursor]:
        with ImmediateSQLiteTransaction(self, commit=commit) as curs, curs:
            yield curs


class SecureDeleteConnectionPool(SQLiteConnectionPool):
    """The library's pool, with `PRAGMA secure_delete=ON` on every connection: deleted
    or replaced content (a shredded data key's cell, freed pages) is overwritten with
    zeros instead of lingering in the file. Set explicitly, whatever SQLite's build
    default (Debian's is ON, upstream's OFF). Its connections' writing transactions
    begin IMMEDIATE (`LedgerSQLiteConnection`)."""

    def _create_connection(self) -> SQLiteConnection:
        made = super()._create_connection()
        connection = LedgerSQLiteConnection(made._sqlite_conn, max_age=self.max_age)
        cursor = connection.cursor()
        cursor.execute("PRAGMA secure_delete=ON")
        cursor.fetchall()
        return connection


def secure_delete_datastore(datastore: SQLiteDatastore) -> SQLiteDatastore:
    """`datastore` with its (still unused) pool replaced by a SecureDeleteConnectionPool."""
    return replace_pool(datastore, SecureDeleteConnectionPool)


def replace_pool(
    datastore: SQLiteDatastore, pool_class: type[SQLiteConnectionPool]
) -> SQLiteDatastore:
    """`datastore` with its (still unused) pool replaced by a `pool_class` of the same
    settings."""
    old = datastore.pool
    datastore.pool = pool_class(
        db_name=old.db_name,
        lock_timeout=old.lock_timeout,
        pool_size=old.pool_size,
        max_overflow=old.max_overflow,
        pool_timeout=old.pool_timeout,
        max_age=old.max_age,
        pre_ping=old.pre_ping,
    )
    old.close()
    return datastore


class LedgerSQLiteApplicationRecorder(SQLiteApplicationRecorder):
    """The library's SQLite recorder, inserting pending data keys with the events."""

    def __init__(
        self,
        datastore: SQLiteDatastore,
        events_table_name: str = "stored_events",
        *,
        keystore: KeyStore | None = None,
        extra_ddl: Sequence[str] = (),
    ) -> None:
        self.keystore = keystore
        self.extra_ddl = list(extra_ddl)
        self.indexed = IndexedPairs()
        super().__init__(datastore, events_table_name)

    def construct_create_table_statements(self) -> list[str]:
        return [*super().construct_create_table_statements(), *self.extra_ddl]

    def insert_events(
        self, stored_events: Sequence[StoredEvent], **kwargs: Any
    ) -> Sequence[int] | None:
        """Insert in one transaction; one that met a busy store (rolled back) is tried
        again with backoff (`retry_busy`). PostgreSQL's recorder needs no such wrapper:
        the library retries its insert on OperationalError (10 times, 0.2 s apart).
        The subject index's pairs this recorder has not committed before are inserted
        with the events, and remembered once the transaction committed."""
        pairs = self.indexed.missing(stream_pairs(stored_events))

        def attempt() -> Sequence[int] | None:
            pending = self.keystore.pending() if self.keystore else []
            ids = super(LedgerSQLiteApplicationRecorder, self).insert_events(
                stored_events, **{PENDING_KEYS: pending, STREAM_PAIRS: pairs}, **kwargs
            )
            if self.keystore and pending:
                self.keystore.mark_persisted(pending)
            return ids

        ids = retry_busy(attempt)
        self.indexed.committed(pairs)
        return ids

    def _insert_events(
        self, c: SQLiteCursor, stored_events: Sequence[StoredEvent], **kwargs: Any
    ) -> Sequence[int] | None:
        pending: list[PendingKey] = kwargs.pop(PENDING_KEYS, None) or []
        pairs: list[tuple[str, str]] | None = kwargs.pop(STREAM_PAIRS, None)
        if self.keystore and pending:
            self.keystore.insert_pending(c, pending)
        ids = super()._insert_events(c, stored_events, **kwargs)
        insert_pairs(Dialect("sqlite"), c, stream_pairs(stored_events) if pairs is None else pairs)
        return ids


class LedgerPostgresApplicationRecorder(StreamReadingRecorder):
    """The library's PostgreSQL recorder, inserting pending data keys with the events
    (and reading whole streams with a statement made once: security/event_reads.py)."""

    def __init__(
        self,
        datastore: PostgresDatastore,
        *,
        events_table_name: str = "stored_events",
        keystore: KeyStore | None = None,
        extra_ddl: Sequence[str] = (),
    ) -> None:
        super().__init__(datastore, events_table_name=events_table_name)
        self.keystore = keystore
        self.indexed = IndexedPairs()
        self.sql_create_statements.extend(SQL(ddl).format() for ddl in extra_ddl)

    def create_table(self) -> None:
        """Create tables under a session advisory lock: PostgreSQL's DDL is not safe
        against itself, and several processes (gunicorn workers, schedulers) start at once.
        """
        with self.datastore.get_connection() as conn:
            conn.execute("SELECT pg_advisory_lock(hashtext('crm-ledger/ddl'))")
            try:
                super().create_table()
            finally:
                conn.execute("SELECT pg_advisory_unlock(hashtext('crm-ledger/ddl'))")

    def insert_events(
        self, stored_events: Sequence[StoredEvent], **kwargs: Any
    ) -> Sequence[int] | None:
        pending = self.keystore.pending() if self.keystore else []
        pairs = self.indexed.missing(stream_pairs(stored_events))
        ids = self._insert_retrying(
            stored_events, **{PENDING_KEYS: pending, STREAM_PAIRS: pairs}, **kwargs
        )
        if self.keystore and pending:
            self.keystore.mark_persisted(pending)
        self.indexed.committed(pairs)
        return ids

    def _insert_retrying(
        self, stored_events: Sequence[StoredEvent], **kwargs: Any
    ) -> Sequence[int] | None:
        """Insert in one transaction, retried as the library retries it (on a connection
        or operational error, 10 attempts 0.2 s apart). If an attempt failed with the
        connection cut, the server may have committed before the cut lost its answer:
        the retry then meets its own rows and the store refuses them as a version
        conflict. Only then, rows identical byte for byte to ours (random nonces: no
        other writer's can be) are recognised as that commit. A plain duplicate insert
        stays an IntegrityError (the recorder's contract)."""
        cut = False
        attempt = 1
        while True:
            try:
                ids: Sequence[int] | None = _INSERT_ONCE(self, stored_events, **kwargs)
            except IntegrityError:
                own = self._own_commit(stored_events) if cut else None
                if own is None:
                    raise
                return own
            except (InterfaceError, OperationalError) as exc:
                if attempt >= INSERT_ATTEMPTS:
                    raise
                cut = cut or classify(exc) == "unavailable"
                time.sleep(INSERT_RETRY_WAIT * (1 + 0.1 * (random.random() - 0.5)))
                attempt += 1
            else:
                return ids

    def _own_commit(self, stored_events: Sequence[StoredEvent]) -> list[int] | None:
        """The notification ids of `stored_events` if the store holds exactly them."""
        if not stored_events:
            return None
        statement = SQL(
            "SELECT topic, state, notification_id FROM {0}.{1} "
            "WHERE originator_id = %s AND originator_version = %s"
        ).format(Identifier(self.datastore.schema), Identifier(self.events_table_name))
        ids = []
        with self.datastore.get_connection() as conn, conn.cursor() as curs:
            for event in stored_events:
                curs.execute(statement, (event.originator_id, event.originator_version))
                row = curs.fetchone()
                if row is None or row["topic"] != event.topic or bytes(row["state"]) != event.state:
                    return None
                ids.append(int(row["notification_id"]))
        return ids

    def _insert_stored_events(
        self, curs: Any, stored_events: Sequence[StoredEvent], **kwargs: Any
    ) -> None:
        """The library's lock, notify and INSERT, queued in its pipeline, then the whole
        pipeline sent to the server before the library's `sync()` waits for the results
        (`send_pipeline`)."""
        super()._insert_stored_events(curs, stored_events, **kwargs)
        send_pipeline(curs.connection)

    def _insert_events(
        self, curs: Any, stored_events: Sequence[StoredEvent], **kwargs: Any
    ) -> None:
        pending: list[PendingKey] = kwargs.pop(PENDING_KEYS, None) or []
        pairs: list[tuple[str, str]] | None = kwargs.pop(STREAM_PAIRS, None)
        if self.keystore and pending:
            self.keystore.insert_pending(curs, pending)
        super()._insert_events(curs, stored_events, **kwargs)
        insert_pairs(
            Dialect("postgres", self.datastore.schema),
            curs,
            stream_pairs(stored_events) if pairs is None else pairs,
        )


def send_pipeline(conn: Connection[Any]) -> None:
    """Send everything `conn` has queued for the server (libpq's output buffer), waiting
    while the socket is full; input that arrives meanwhile is read (so a server writing
    to us is never blocked by it).

    psycopg's `Pipeline.sync()` (3.3.9, and upstream since) sends what the socket takes
    and then waits for the server's answer; what the socket did not take stays in libpq's
    buffer, and only goes out when the socket becomes readable. If the server was not
    reading at that moment (waiting for the events table's lock, or still executing the
    statements before), the rest of a large INSERT is never sent: the server waits for
    it in `ClientRead` holding the table lock, the client waits for an answer, and every
    other writer waits on the lock (psycopg issue #685 fixed the same at the pipeline's
    exit, not at `sync()`). With the buffer empty, the sync that follows is a few bytes
    into a writable socket. `statement_timeout` and `idle_in_transaction_session_timeout`
    do not end such a session: the server is reading a message, not running one, and no
    Sync has been sent (docs/operations.md)."""
    with conn.lock:
        conn.wait(psycopg_send(conn.pgconn))


def _data_dir(env: Environment) -> Path:
    return Path(env.get("LEDGER_DATA_DIR") or "./var")


class _LedgerFactoryMixin:
    """What both ledger factories add: keyring, key store, sealed log, envelope mapper."""

    env: Environment
    datastore: Any
    dialect: Dialect
    keyring: Keyring
    keystore: KeyStore
    sealed_log: SealedLog

    def _init_ledger(self, dialect: Dialect) -> None:
        self.dialect = dialect
        self.keyring = load_keyring(self.env, _data_dir(self.env))
        self.keystore = KeyStore(self.datastore, dialect, self.keyring)

    def _ledger_ddl(self) -> list[str]:
        return [
            *self.keystore.create_table_statements(),
            *SealedLog.create_table_statements(self.dialect),
            *AccessLog.create_table_statements(self.dialect),
            *SealedLog.create_table_statements(self.dialect, "access"),
            *subject_streams_ddl(self.dialect),
            *subject_map_ddl(self.dialect),
        ]

    def mapper(
        self, transcoder: Transcoder | None = None, mapper_class: type[Mapper[Any]] | None = None
    ) -> Mapper[Any]:
        assert transcoder is not None, "the ledger application passes its transcoder"
        return EnvelopeMapper(transcoder, self.keystore)

    def close(self) -> None:
        """Stop the key store's shred watcher, then close the datastore."""
        self.keystore.close()
        super().close()  # type: ignore[misc]


class LedgerSQLiteFactory(_LedgerFactoryMixin, SQLiteFactory):
    """SQLite (WAL) store with envelope encryption and the Merkle log tables."""

    def __init__(self, env: Environment) -> None:
        super().__init__(env)
        self.datastore = secure_delete_datastore(self.datastore)
        self._init_ledger(Dialect("sqlite"))

    def application_recorder(self) -> ApplicationRecorder:
        recorder = LedgerSQLiteApplicationRecorder(
            self.datastore, keystore=self.keystore, extra_ddl=self._ledger_ddl()
        )
        if self.env_create_table():
            recorder.create_table()
        return recorder


class LedgerPostgresFactory(_LedgerFactoryMixin, PostgresFactory):
    """PostgreSQL store (the library's module) with envelope encryption and Merkle log."""

    def __init__(self, env: Environment) -> None:
        super().__init__(env)
        if self.datastore.enable_db_functions:
            raise ConfigurationError(
                "POSTGRES_ENABLE_DB_FUNCTIONS must be off: the Merkle log needs the table lock"
            )
        # the pre-ping without a round trip for a connection in use moments ago
        # (security.connection_check)
        self.connection_check: PooledConnectionCheck | None = None
        if self.datastore.pre_ping:
            self.connection_check = install_connection_check(self.datastore.pool)
        self._init_ledger(Dialect("postgres", self.datastore.schema))

    def application_recorder(self) -> ApplicationRecorder:
        prefix = self.env.name.lower() or "stored"
        recorder = LedgerPostgresApplicationRecorder(
            self.datastore,
            events_table_name=prefix + "_events",
            keystore=self.keystore,
            extra_ddl=self._ledger_ddl(),
        )
        if self.env_create_table():
            recorder.create_table()
        return recorder
