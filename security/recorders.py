"""The ledger's persistence modules: the library's SQLite and PostgreSQL recorders,
extended so that a new data key commits in the same transaction as its first event,
and factories that install the envelope-encrypting mapper.

The application selects them by configuration only:
`PERSISTENCE_MODULE=security.recorders:LedgerSQLiteFactory` (or `...:LedgerPostgresFactory`).
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import os
import random
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

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
from eventsourcing.sqlite import SQLITE3_DEFAULT_LOCK_TIMEOUT as DEFAULT_LOCK_TIMEOUT
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
from security.keys.envelope import Envelope, EnvelopeMapper
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
DDL_ATTEMPTS = 8  # start-up DDL that met a busy store (0.1 ... 6.4 s apart)
INSERT_RETRY_WAIT = 0.2


WRITER_LOCK_SUFFIX = "-writer.lock"
WRITER_LOCK_WAITS = (0.0001, 0.001)  # the first and the longest sleep between two tries


def writer_lock_path(db_name: str) -> Path | None:
    """The writer lock file beside a file database (`<database>-writer.lock`); None for
    an in-memory one."""
    if not db_name or SQLiteConnectionPool.detect_memory_mode(db_name):
        return None
    path = unquote(urlsplit(db_name).path) if db_name.startswith("file:") else db_name
    return Path(path + WRITER_LOCK_SUFFIX) if path else None


class WriterFileLock:
    """One connection's hold on the database's writer lock file: an exclusive `flock`
    taken before `BEGIN IMMEDIATE` and dropped after the commit or rollback.

    SQLite's own wait for a busy database sleeps and polls (1, 2, 5, 10 ... 100 ms):
    two processes writing in turn wait far longer than the other's transaction lasts,
    and a waiter can lose to the holder's next transaction again and again. This lock
    is tried every 0.1 ms at first, at most every 1 ms, so a writer starts within about
    a millisecond of the other's commit. It is bounded: after `timeout` seconds the
    writer goes on to `BEGIN IMMEDIATE` without it (SQLite's busy timeout then applies,
    as for a writer that does not use this lock: the lock is an optimisation, never a
    condition of correctness). Each connection opens the file itself, so connections of
    one process exclude each other too (flock locks belong to the open file)."""

    def __init__(self, path: Path, timeout: float) -> None:
        self.path = path
        self.timeout = timeout
        self._fd: int | None = None

    def acquire(self) -> bool:
        """Take the lock (True), or give up after `timeout` or when the file cannot be
        opened (False)."""
        try:
            if self._fd is None:
                self._fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
            fd = self._fd
        except OSError:
            return False
        deadline = time.monotonic() + self.timeout
        wait, longest = WRITER_LOCK_WAITS
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                return True
            except BlockingIOError:
                pass
            except OSError:
                return False
            if time.monotonic() >= deadline:
                return False
            time.sleep(wait)
            wait = min(wait * 2, longest)

    def release(self) -> None:
        if self._fd is not None:
            with contextlib.suppress(OSError):
                fcntl.flock(self._fd, fcntl.LOCK_UN)

    def close(self) -> None:
        fd, self._fd = self._fd, None
        if fd is not None:
            with contextlib.suppress(OSError):
                os.close(fd)


class ImmediateSQLiteTransaction(SQLiteTransaction):
    """A writing transaction that takes SQLite's write lock when it begins (`BEGIN
    IMMEDIATE`). The library's deferred `BEGIN` reads first and upgrades to a writer
    later; if another connection committed in between, SQLite refuses the upgrade at
    once ("database is locked", no busy wait). Taken up front, the lock is waited for
    within the busy timeout instead. Reading transactions stay deferred. A writing
    transaction of a connection with a `WriterFileLock` holds it from before BEGIN to
    after the commit or rollback."""

    connection: LedgerSQLiteConnection

    def __enter__(self) -> SQLiteCursor:
        lock = self.connection.writer_lock if self.commit else None
        self._locked = lock is not None and lock.acquire()
        try:
            cursor = self.connection.cursor()
            cursor.execute("BEGIN IMMEDIATE" if self.commit else "BEGIN")
        except BaseException:
            self._unlock()
            raise
        return cursor

    def __exit__(self, *exc_info: Any) -> None:
        try:
            super().__exit__(*exc_info)
        finally:
            self._unlock()

    def _unlock(self) -> None:
        if self._locked and self.connection.writer_lock is not None:
            self._locked = False
            self.connection.writer_lock.release()


class LedgerSQLiteConnection(SQLiteConnection):
    """The library's connection, whose writing transactions begin IMMEDIATE (after
    taking the database's writer lock file, when it has one)."""

    def __init__(
        self,
        sqlite_conn: sqlite3.Connection,
        max_age: float | None,
        writer_lock: WriterFileLock | None = None,
    ) -> None:
        super().__init__(sqlite_conn, max_age=max_age)
        self.writer_lock = writer_lock

    @contextmanager
    def transaction(self, *, commit: bool) -> Iterator[SQLiteCursor]:
        with ImmediateSQLiteTransaction(self, commit=commit) as curs, curs:
            yield curs

    def _close(self) -> None:
        if self.writer_lock is not None:
            self.writer_lock.close()
        super()._close()


class SecureDeleteConnectionPool(SQLiteConnectionPool):
    """The library's pool, with `PRAGMA secure_delete=ON` on every connection: deleted
    or replaced content (a shredded data key's cell, freed pages) is overwritten with
    zeros instead of lingering in the file. Set explicitly, whatever SQLite's build
    default (Debian's is ON, upstream's OFF). Its connections' writing transactions
    begin IMMEDIATE, after taking the database's writer lock file
    (`LedgerSQLiteConnection`, `WriterFileLock`)."""

    def _create_connection(self) -> SQLiteConnection:
        made = super()._create_connection()
        path = writer_lock_path(self.db_name)
        timeout = float(self.lock_timeout or DEFAULT_LOCK_TIMEOUT)
        connection = LedgerSQLiteConnection(
            made._sqlite_conn,
            max_age=self.max_age,
            writer_lock=None if path is None else WriterFileLock(path, timeout),
        )
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


class GroupWrite:
    """One caller's insert in a group commit: its events, the subject-index pairs it
    inserts, and (once the group is written) its notification ids or its own error."""

    __slots__ = ("done", "error", "events", "ids", "keys", "kwargs", "pairs")

    def __init__(
        self, events: Sequence[StoredEvent], pairs: list[tuple[str, str]], kwargs: dict[str, Any]
    ) -> None:
        self.events = events
        self.pairs = pairs
        self.kwargs = kwargs
        self.keys: list[PendingKey] = []  # the pending data keys its savepoint inserted
        self.ids: Sequence[int] | None = None
        self.error: BaseException | None = None
        self.done = False

    def reset(self) -> None:
        """Forget an attempt's outcome (the group's transaction is tried again)."""
        self.keys, self.ids, self.error = [], None, None


class GroupCommit:
    """Concurrent inserts of one process written together: each caller joins a queue;
    one of them (the leader) takes the queue and writes it in ONE transaction, each
    caller's insert in its own savepoint, with one commit (one fsync, one lock
    acquisition) for all; the others wait and then return their own ids or raise their
    own error. An insert the store refuses (a version conflict: IntegrityError; an
    erased subject) is rolled back to its savepoint and fails alone; a fault of the
    transaction itself (busy, full, cut) fails or retries the whole group, and nothing
    of it is committed. Callers arriving while a group is written form the next group.
    """

    def __init__(self) -> None:
        self._changed = threading.Condition()
        self._queue: list[GroupWrite] = []
        self._leading = False

    def run(
        self, write: GroupWrite, write_group: Callable[[list[GroupWrite]], None]
    ) -> Sequence[int] | None:
        """Have `write` written (by this thread or the leader of its group); its ids."""
        with self._changed:
            self._queue.append(write)
            while self._leading and not write.done:
                self._changed.wait()
            group: list[GroupWrite] | None = None
            if not write.done:
                self._leading = True
                group, self._queue = self._queue, []
        if group is not None:
            try:
                write_group(group)
            except BaseException as exc:
                for member in group:
                    if member is not write:
                        member.error = _for_follower(exc)
                write.error = exc
            finally:
                with self._changed:
                    self._leading = False
                    for member in group:
                        member.done = True
                    self._changed.notify_all()
        if write.error is not None:
            raise write.error
        return write.ids


def _for_follower(exc: BaseException) -> BaseException:
    """The group's error as another caller raises it: an exception of the same class and
    arguments, raised from the leader's (one exception object is not raised in two
    threads at once)."""
    try:
        copy = type(exc)(*exc.args)
    except Exception:  # a class whose constructor takes other arguments
        copy = RuntimeError(str(exc))
    copy.__cause__ = exc
    return copy


def _key_refs(events: Sequence[StoredEvent]) -> set[str] | None:
    """The data keys `events` are encrypted under, or None when one is no envelope (its
    key unknown: the caller then inserts every pending key, as a lone write does)."""
    refs = set()
    for event in events:
        try:
            refs.add(Envelope.unpack(event.state).key_ref)
        except Exception:
            return None
    return refs


WRITE_SAVEPOINT = "ledger_group_write"


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
        self.group_commit = GroupCommit()
        super().__init__(datastore, events_table_name)

    def construct_create_table_statements(self) -> list[str]:
        return [*super().construct_create_table_statements(), *self.extra_ddl]

    def insert_events(
        self, stored_events: Sequence[StoredEvent], **kwargs: Any
    ) -> Sequence[int] | None:
        """Insert atomically, in a group commit with the process's concurrent inserts
        (`GroupCommit`): one transaction, each insert in its own savepoint. A group that
        met a busy store (rolled back) is tried again with backoff (`retry_busy`).
        PostgreSQL's recorder needs no such wrapper: the library retries its insert on
        OperationalError (10 times, 0.2 s apart). The subject index's pairs this
        recorder has not committed before are inserted with the events, and remembered
        once the transaction committed; so are the pending data keys of the events."""
        pairs = self.indexed.missing(stream_pairs(stored_events))
        write = GroupWrite(stored_events, pairs, kwargs)
        return self.group_commit.run(write, self._write_group)

    def _write_group(self, group: list[GroupWrite]) -> None:
        """Write `group` in one transaction (tried again while busy), then remember the
        keys and pairs of the inserts that committed."""

        def attempt() -> list[PendingKey]:
            for member in group:
                member.reset()
            with self.datastore.transaction(commit=True) as cursor:
                return self._write_members(cursor, group)

        stray = retry_busy(attempt)
        if self.keystore and stray:
            self.keystore.mark_persisted(stray)
        for member in group:
            if member.error is None:
                if self.keystore and member.keys:
                    self.keystore.mark_persisted(member.keys)
                self.indexed.committed(member.pairs)

    def _write_members(self, cursor: SQLiteCursor, group: list[GroupWrite]) -> list[PendingKey]:
        """Each member's keys, events and pairs in its own savepoint (`_savepoint`): a
        member's pending keys are those its events are under, inserted by the first
        member that needs them. Keys no event of the group is under (a write that failed
        before its insert, or is still on its way) are stored as a lone write would
        have, in a savepoint of their own, and returned; if refused (their subject was
        erased: then forgotten) they are not. Returns those stored."""
        pending = {key.dek_id: key for key in self.keystore.pending()} if self.keystore else {}
        refs = [_key_refs(member.events) for member in group]
        if len(group) == 1 and (refs[0] is None or set(pending) <= refs[0]):
            # alone, and every pending key is its own: no savepoint (any error of its
            # insert is its own, and rolls the transaction back)
            (member,) = group
            keys = list(pending.values())
            extra = {PENDING_KEYS: keys, STREAM_PAIRS: member.pairs, **member.kwargs}
            member.ids = self._insert_events(cursor, member.events, **extra)
            member.keys = keys
            return []
        stray: list[PendingKey] = []
        if pending and all(r is not None for r in refs):
            known = set().union(*(r for r in refs if r is not None))
            stray = [key for ref, key in pending.items() if ref not in known]
            if stray and self._savepoint(cursor, self._insert_keys, cursor, stray)[1] is not None:
                stray = []
        inserted = {key.dek_id for key in stray}
        for member, member_refs in zip(group, refs, strict=True):
            keys = [
                key
                for ref, key in pending.items()
                if ref not in inserted and (member_refs is None or ref in member_refs)
            ]
            extra = {PENDING_KEYS: keys, STREAM_PAIRS: member.pairs, **member.kwargs}
            ids, error = self._savepoint(
                cursor, self._insert_events, cursor, member.events, **extra
            )
            if error is None:
                member.ids = ids
                member.keys = keys
                inserted.update(key.dek_id for key in keys)
            else:
                member.error = error
        return stray

    def _insert_keys(self, cursor: SQLiteCursor, keys: list[PendingKey]) -> None:
        assert self.keystore is not None
        self.keystore.insert_pending(cursor, keys)

    @staticmethod
    def _savepoint(
        cursor: SQLiteCursor, operation: Callable[..., Any], *args: Any, **kwargs: Any
    ) -> tuple[Any, BaseException | None]:
        """`operation(*args, **kwargs)` in a savepoint: (its result, None); or, when the
        store refused it (a constraint: a version conflict) or it raised a domain error,
        rolled back to the savepoint: (None, the error as the transaction would raise
        it). A fault of the store itself (busy, full, I/O) is raised: the whole
        transaction fails."""
        cursor.execute(f"SAVEPOINT {WRITE_SAVEPOINT}")
        try:
            result = operation(*args, **kwargs)
        except sqlite3.Error as exc:
            if not isinstance(exc, sqlite3.IntegrityError):
                raise
            error: BaseException = IntegrityError(exc)
            error.__cause__ = exc
        except (OperationalError, InterfaceError):
            raise
        except Exception as exc:
            error = exc
        else:
            cursor.execute(f"RELEASE {WRITE_SAVEPOINT}")
            return result, None
        cursor.execute(f"ROLLBACK TO {WRITE_SAVEPOINT}")
        cursor.execute(f"RELEASE {WRITE_SAVEPOINT}")
        return None, error

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

        Skipped when this schema already holds exactly this DDL (`ledger_ddl` records the
        digest of the statements last applied, and the events table exists): a worker
        starting while others write must not run it, because `CREATE INDEX IF NOT EXISTS`
        takes a SHARE lock on its table even when the index exists, and one DDL
        transaction locking the events, keys and subject-index tables in its own order
        deadlocks with writers locking them in theirs (seen: a 503 `store_busy` on the
        request that built a worker's ledger under 32 writers). When it must run (a new
        schema, new DDL), a busy store (a deadlock victim) runs it again with backoff.
        """
        digest = hashlib.sha256(
            "\n".join(statement.as_string() for statement in self.sql_create_statements).encode()
        ).hexdigest()
        if self._ddl_applied(digest):
            self.datastore.register_type_adapters()
            return

        def apply() -> None:
            with self.datastore.get_connection() as conn:
                conn.execute("SELECT pg_advisory_lock(hashtext('crm-ledger/ddl'))")
                try:
                    super(LedgerPostgresApplicationRecorder, self).create_table()
                    with conn.transaction():
                        conn.execute(
                            SQL(
                                "CREATE TABLE IF NOT EXISTS {0}.ledger_ddl "
                                "(digest TEXT PRIMARY KEY)"
                            ).format(Identifier(self.datastore.schema))
                        )
                        conn.execute(
                            SQL(
                                "INSERT INTO {0}.ledger_ddl (digest) VALUES (%s) "
                                "ON CONFLICT DO NOTHING"
                            ).format(Identifier(self.datastore.schema)),
                            (digest,),
                        )
                finally:
                    conn.execute("SELECT pg_advisory_unlock(hashtext('crm-ledger/ddl'))")

        retry_busy(apply, attempts=DDL_ATTEMPTS, base_delay=0.1)

    def _ddl_applied(self, digest: str) -> bool:
        """Whether this schema's `ledger_ddl` records `digest` and its events table exists
        (catalogue reads: no lock on any ledger table)."""
        schema = self.datastore.schema
        with self.datastore.get_connection() as conn:
            row = conn.execute(
                "SELECT to_regclass(%s) AS marker, to_regclass(%s) AS events",
                (f'"{schema}".ledger_ddl', f'"{schema}".{self.events_table_name}'),
            ).fetchone()
            if row is None or row["marker"] is None or row["events"] is None:
                return False
            found = conn.execute(
                SQL("SELECT 1 FROM {0}.ledger_ddl WHERE digest = %s").format(Identifier(schema)),
                (digest,),
            ).fetchone()
            return found is not None

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
