"""Per-subject data keys (DEKs), stored only wrapped by a KEK; crypto-shredding.

Table `ledger_keys`: one row per DEK, `(dek_id, subject_id, kek_id, wrapped, created_at,
shredded_at)`. A subject is a customer id, or `system` for events about no customer.
The `dek_id` is the event's clear-text `key_ref`.

Guarantees:
- a DEK is created only when an event is *written* for a subject with no live key,
  never on a read;
- a new DEK is inserted in the same transaction as the first event that uses it
  (the ledger recorders call `insert_pending`), so no event can name a key that
  was never stored;
- shredding sets `wrapped` to NULL for every DEK of the subject and leaves a
  tombstone: later reads raise `SubjectErased` and later writes are refused;
- shredding leaves no copy of the key where the store can reach it (issue 11): on
  SQLite every connection runs with `PRAGMA secure_delete=ON` (the replaced cell and
  freed pages are zeroed) and the shred ends with a truncating WAL checkpoint, so the
  database file, its -wal and -shm no longer hold the wrapped key. A reader holding a
  snapshot from before the shred keeps the WAL pinned: the checkpoint then reports busy
  (the shred itself stands) and the next `purge()`/shred/close completes it. On
  PostgreSQL the old row version holds the wrapped key until VACUUM removes it, and
  WAL archives and backups hold it until they expire (docs/operations.md, Erasure);
- every in-process copy of the subject's DEKs is dropped at shred time (this store's
  caches, each DEK with the HKDF extract cached beside it for event keys, and the
  caches registered with `on_shred`, e.g. the view-key cache); every other process
  drops its copies, and calls its `on_shred` cache listeners, within
  SHRED_WATCH_SECONDS (the sealing delay): a watcher thread (started with the first
  cached key) and every key lookup look for shreds recorded since (`watch_shreds`), so
  an idle process forgets too. A cached DEK is otherwise re-checked after CACHE_SECONDS.
"""

from __future__ import annotations

import logging
import secrets
import threading
import time
import weakref
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, NamedTuple, Protocol
from uuid import UUID

from domain.errors import KeyUnavailable, SubjectErased
from ledger_verify.leaf import hkdf_extract
from security.dialect import Dialect
from security.errors import KeyringError
from security.keys.keyring import KeyWrapper

SYSTEM_SUBJECT = "system"
CACHE_SECONDS = 30.0  # how long a process trusts a cached DEK before re-checking shredding
PRELOAD_CHUNK = 500  # key references per query when a batch reader preloads its keys
SHRED_WATCH_SECONDS = 1.0  # the sealing delay: another process's shred reaches our caches
# how far back each look for shreds reaches: a shredding process whose clock is behind
# this one's by less than this is not missed
SHRED_WATCH_WINDOW = timedelta(minutes=5)

log = logging.getLogger(__name__)


class Datastore(Protocol):
    """The library datastores' shared shape: a transaction context yielding a cursor."""

    def transaction(self, *, commit: bool) -> Any: ...


class CachedKey(NamedTuple):
    """A DEK in this process's cache, with what is derived from it (dropped with it)."""

    dek: bytes
    at: float  # time.monotonic() when cached
    subject: str
    prk: bytes  # its HKDF extract: each event key of the DEK is one expand of it

    @classmethod
    def of(cls, dek: bytes, now: float, subject: str) -> CachedKey:
        return cls(dek, now, subject, hkdf_extract(dek))


@dataclass(frozen=True)
class PendingKey:
    """A DEK created in this process, not yet committed with an event."""

    dek_id: str
    subject: str
    kek_id: str
    wrapped: bytes
    created_at: str


@dataclass(frozen=True)
class ShredReport:
    """What a shred (or `KeyStore.purge`) left behind in the store's files.

    `purged` is True when no earlier copy of a destroyed key remains where the store
    keeps data (SQLite: the WAL was checkpointed and truncated); False with `detail`
    saying what remains (a busy checkpoint, or PostgreSQL's dead row versions until
    VACUUM). The shred itself is done either way.
    """

    subject: str
    keys_destroyed: int
    purged: bool
    detail: str


def subject_of(subject_id: UUID | str | None) -> str:
    """The key-store subject for an event's `subject_id` (None means the system key)."""
    if subject_id is None:
        return SYSTEM_SUBJECT
    return str(subject_id)


def wrap_aad(dek_id: str, subject: str) -> bytes:
    """Associated data of a wrapped DEK: a wrapped key cannot be moved to another row."""
    return f"crm-ledger/dek/v1|{dek_id}|{subject}".encode()


class KeyStore:
    """Creates, caches, unwraps, rewraps and shreds data keys."""

    def __init__(self, datastore: Datastore, dialect: Dialect, keyring: KeyWrapper) -> None:
        self.datastore = datastore
        self.dialect = dialect
        self.keyring = keyring
        self.table = dialect.table("ledger_keys")
        self._lock = threading.Lock()
        self._by_subject: dict[str, tuple[str, bytes, float]] = {}
        self._by_ref: dict[str, CachedKey] = {}
        self._pending: dict[str, PendingKey] = {}
        self._swept = time.monotonic()
        self._shred_listeners: list[Callable[[str], None]] = []
        self._local_listeners: list[Callable[[str], None]] = []
        # shreds already acted on (subject -> shredded_at), within SHRED_WATCH_WINDOW
        self._seen_shreds: dict[str, str] = {}
        self._forgotten = 0  # how many times a subject's keys were dropped (see preload)
        self._watched = time.monotonic()
        self._watch_lock = threading.Lock()
        self._watcher: threading.Thread | None = None
        self._closed = threading.Event()

    # --- schema ----------------------------------------------------------------------

    def create_table_statements(self) -> list[str]:
        """DDL for the key table (run by the ledger recorders' create_table)."""
        d = self.dialect
        return [
            f"CREATE TABLE IF NOT EXISTS {self.table} ("
            "dek_id TEXT PRIMARY KEY, subject_id TEXT NOT NULL, kek_id TEXT, "
            f"wrapped {d.blob}, created_at TEXT NOT NULL, shredded_at TEXT)",
            f"CREATE INDEX IF NOT EXISTS ledger_keys_subject_idx ON {self.table} (subject_id)",
            # every process looks for recent shreds each SHRED_WATCH_SECONDS
            f"CREATE INDEX IF NOT EXISTS ledger_keys_shredded_idx ON {self.table} (shredded_at)",
            *(
                # a shredded key's old row version lives until VACUUM: have autovacuum
                # visit this small, rarely updated table after any dead row
                [
                    f"ALTER TABLE {self.table} SET (autovacuum_vacuum_threshold = 0, "
                    "autovacuum_vacuum_scale_factor = 0)"
                ]
                if d.name == "postgres"
                else []
            ),
        ]

    # --- write path ------------------------------------------------------------------

    def dek_for_subject(self, subject_id: UUID | str | None) -> tuple[str, bytes]:
        """(dek_id, DEK) to encrypt a new event about the subject; creates one if none.

        Raises SubjectErased if the subject was shredded.
        """
        subject = subject_of(subject_id)
        now = time.monotonic()
        self._watch_if_due(now)
        with self._lock:
            self._sweep(now)
            cached = self._by_subject.get(subject)
            if cached is not None and (
                now - cached[2] < CACHE_SECONDS or cached[0] in self._pending
            ):
                return cached[0], cached[1]
        rows = self._select("SELECT * FROM {t} WHERE subject_id=?", (subject,))
        if any(row["shredded_at"] is not None for row in rows):
            self._forget(subject)
            raise SubjectErased("this subject was erased: its data key was destroyed")
        if rows:
            row = min(rows, key=lambda r: (r["created_at"], r["dek_id"]))
            dek = self._unwrap_row(row)
            with self._lock:
                self._by_subject[subject] = (row["dek_id"], dek, now)
                self._by_ref[row["dek_id"]] = CachedKey.of(dek, now, subject)
            self._start_watcher()
            return row["dek_id"], dek
        return self._create(subject, now)

    def prk_for_subject(self, subject_id: UUID | str | None) -> tuple[str, bytes]:
        """(dek_id, HKDF extract of the DEK) to encrypt a new event about the subject: as
        `dek_for_subject` (creates a key if none, raises SubjectErased after a shred),
        with the extract cached beside the DEK (`CachedKey.prk`, dropped with it), so an
        event key is one HKDF expand (`ledger_verify.leaf.event_key_from_prk`)."""
        dek_id, dek = self.dek_for_subject(subject_id)
        with self._lock:
            cached = self._by_ref.get(dek_id)
        if cached is not None and cached.dek == dek:
            return dek_id, cached.prk
        return dek_id, hkdf_extract(dek)

    def _create(self, subject: str, now: float) -> tuple[str, bytes]:
        with self._lock:
            cached = self._by_subject.get(subject)
            if cached is not None and cached[0] in self._pending:
                return cached[0], cached[1]
            dek_id = "dek-" + secrets.token_hex(16)
            dek = secrets.token_bytes(32)
            kek_id, wrapped = self.keyring.wrap(dek, wrap_aad(dek_id, subject))
            self._pending[dek_id] = PendingKey(
                dek_id, subject, kek_id, wrapped, datetime.now(UTC).isoformat()
            )
            self._by_subject[subject] = (dek_id, dek, now)
            self._by_ref[dek_id] = CachedKey.of(dek, now, subject)
        self._start_watcher()
        return dek_id, dek

    def pending(self) -> list[PendingKey]:
        """DEKs created here and not yet known to be stored."""
        with self._lock:
            return list(self._pending.values())

    def insert_pending(self, cursor: Any, pending: list[PendingKey]) -> None:
        """Insert pending DEK rows inside the caller's (event-inserting) transaction."""
        if not pending:
            return
        # another process may have shredded a subject since this one made its key:
        # refusing here aborts the whole write, so no event of an erased subject lands
        subjects = sorted({key.subject for key in pending})
        marks = ",".join("?" * len(subjects))
        self.dialect.execute(
            cursor,
            f"SELECT subject_id FROM {self.table} WHERE shredded_at IS NOT NULL "
            f"AND subject_id IN ({marks})",
            tuple(subjects),
        )
        erased = [row["subject_id"] for row in cursor.fetchall()]
        if erased:
            for subject in erased:
                self._forget(subject)
            raise SubjectErased("this subject was erased: its data key was destroyed")
        statement = (
            f"INSERT INTO {self.table} (dek_id, subject_id, kek_id, wrapped, created_at) "
            "VALUES (?,?,?,?,?) ON CONFLICT (dek_id) DO NOTHING"
        )
        for key in pending:
            self.dialect.execute(
                cursor,
                statement,
                (key.dek_id, key.subject, key.kek_id, key.wrapped, key.created_at),
            )

    def mark_persisted(self, pending: list[PendingKey]) -> None:
        """Called after the transaction that inserted `pending` committed."""
        with self._lock:
            for key in pending:
                self._pending.pop(key.dek_id, None)

    # --- read path -------------------------------------------------------------------

    def dek_by_ref(self, dek_id: str) -> bytes:
        """The DEK named by an event's key_ref. Never creates anything.

        Raises SubjectErased for a shredded key, KeyUnavailable for an unknown one.
        """
        return self._cached_by_ref(dek_id).dek

    def prk_by_ref(self, dek_id: str) -> bytes:
        """The HKDF extract (`ledger_verify.leaf.hkdf_extract`) of the DEK named by an
        event's key_ref, which each event key of that DEK is expanded from; cached with
        the DEK and dropped with it (a shred, the cache's expiry). Raises as `dek_by_ref`."""
        return self._cached_by_ref(dek_id).prk

    def _cached_by_ref(self, dek_id: str) -> CachedKey:
        now = time.monotonic()
        self._watch_if_due(now)
        with self._lock:
            self._sweep(now)
            cached = self._by_ref.get(dek_id)
            if cached is not None and (now - cached.at < CACHE_SECONDS or dek_id in self._pending):
                return cached
        rows = self._select("SELECT * FROM {t} WHERE dek_id=?", (dek_id,))
        if not rows:
            raise KeyUnavailable("no data key is stored for this event's key reference")
        row = rows[0]
        if row["shredded_at"] is not None or row["wrapped"] is None:
            with self._lock:
                self._by_ref.pop(dek_id, None)
            raise SubjectErased("this subject was erased: its data key was destroyed")
        entry = CachedKey.of(self._unwrap_row(row), now, str(row["subject_id"]))
        with self._lock:
            self._by_ref[dek_id] = entry
        self._start_watcher()
        return entry

    def preload(self, dek_ids: Iterable[str]) -> int:
        """Cache the DEKs named by `dek_ids` that are not cached yet, with one query per
        PRELOAD_CHUNK of them: a reader about to decrypt a batch of events (the
        projector) unwraps each subject's key once for the batch instead of looking it
        up event by event. Returns how many keys it unwrapped.

        Never creates a key, and never caches a shredded one: the query asks for live
        keys only, and if any subject is shredded in this process while it runs (its
        keys forgotten between the query and the caching), nothing is cached. Unknown,
        shredded and unwrappable references are left out: `dek_by_ref` then raises for
        them exactly as without the preload. What it caches is `dek_by_ref`'s own cache,
        so a shred drops it like any other cached key.
        """
        now = time.monotonic()
        self._watch_if_due(now)
        with self._lock:
            self._sweep(now)
            missing = sorted(
                {
                    ref
                    for ref in dek_ids
                    if (cached := self._by_ref.get(ref)) is None or now - cached.at >= CACHE_SECONDS
                }
            )
            forgotten = self._forgotten
        unwrapped = 0
        for start in range(0, len(missing), PRELOAD_CHUNK):
            chunk = missing[start : start + PRELOAD_CHUNK]
            rows = self._select(
                f"SELECT * FROM {{t}} WHERE dek_id IN ({','.join('?' * len(chunk))}) "
                "AND wrapped IS NOT NULL AND shredded_at IS NULL",
                tuple(chunk),
            )
            keys: list[tuple[str, bytes, str]] = []
            for row in rows:
                try:
                    keys.append((str(row["dek_id"]), self._unwrap_row(row), str(row["subject_id"])))
                except KeyUnavailable:
                    continue  # dek_by_ref raises it for the event that names this key
            with self._lock:
                if self._forgotten != forgotten:
                    return unwrapped  # a shred ran meanwhile: cache nothing it may cover
                for dek_id, dek, subject in keys:
                    self._by_ref[dek_id] = CachedKey.of(dek, now, subject)
            unwrapped += len(keys)
        if unwrapped:
            self._start_watcher()
        return unwrapped

    def _unwrap_row(self, row: Any) -> bytes:
        try:
            return self.keyring.unwrap(
                row["kek_id"],
                self.dialect.to_bytes(row["wrapped"]),
                wrap_aad(row["dek_id"], row["subject_id"]),
            )
        except KeyringError as exc:
            raise KeyUnavailable(f"the data key {row['dek_id']} cannot be unwrapped") from exc

    # --- shredding -------------------------------------------------------------------

    def shred(self, subject_id: UUID | str) -> ShredReport:
        """Destroy every DEK of the subject; leaves a tombstone so no new key is made.

        Then purges what the store keeps of the old key (SQLite: truncating WAL
        checkpoint, see `purge`); a failed purge is reported, never raised.
        """
        subject = subject_of(subject_id)
        if subject == SYSTEM_SUBJECT:
            raise KeyUnavailable("the system key cannot be shredded")
        now = datetime.now(UTC).isoformat()
        with self.datastore.transaction(commit=True) as cursor:
            self.dialect.execute(
                cursor,
                f"UPDATE {self.table} SET wrapped=NULL, kek_id=NULL, shredded_at=? "
                "WHERE subject_id=? AND shredded_at IS NULL",
                (now, subject),
            )
            destroyed = self.dialect.rowcount(cursor)
            self.dialect.execute(
                cursor,
                f"INSERT INTO {self.table} (dek_id, subject_id, kek_id, wrapped, created_at, "
                "shredded_at) VALUES (?,?,NULL,NULL,?,?)",
                ("tombstone-" + secrets.token_hex(16), subject, now, now),
            )
        with self._lock:
            self._seen_shreds[subject] = now
        self._forget(subject)
        try:
            for listener in [*self._shred_listeners, *self._local_listeners]:
                listener(subject)
        finally:
            # a failing listener (its error goes to the caller) must not skip the purge
            purged, detail = self.dialect.purge(self.datastore)
        if not purged:
            # SQLite: a busy checkpoint is worth a warning; PostgreSQL: the usual case
            level = logging.WARNING if self.dialect.name == "sqlite" else logging.INFO
            log.log(level, "shredded subject %s; %s", subject, detail)
        return ShredReport(subject, destroyed, purged, detail)

    def purge(self) -> ShredReport:
        """Remove what the store still keeps of shredded keys: on SQLite a truncating WAL
        checkpoint (retried briefly; busy while a reader holds an older snapshot). Run it
        again after a shred reported `purged=False`."""
        purged, detail = self.dialect.purge(self.datastore)
        return ShredReport("", 0, purged, detail)

    def on_shred(self, listener: Callable[[str], None], *, everywhere: bool = True) -> None:
        """Call `listener(subject)` after each shred in this process and, unless
        `everywhere` is False, once this process notices a shred done by another one
        (within SHRED_WATCH_SECONDS): what caches anything derived from a DEK registers
        with `everywhere`; what acts once per erasure (deleting side stores) without."""
        with self._lock:
            listeners = self._shred_listeners if everywhere else self._local_listeners
            if listener not in listeners:
                listeners.append(listener)

    def remove_shred_listener(self, listener: Callable[[str], None]) -> None:
        """Stop calling a listener registered with `on_shred` (no error if it was not)."""
        with self._lock:
            for listeners in (self._shred_listeners, self._local_listeners):
                if listener in listeners:
                    listeners.remove(listener)

    # --- other processes' shreds -----------------------------------------------------

    def watch_shreds(self) -> list[str]:
        """Act on shreds recorded by any process that this one has not acted on: drop
        the subjects' keys from this store's caches and call the `everywhere` listeners.
        Returns those subjects. Cheap: an index range scan over the recent shreds."""
        since = (datetime.now(UTC) - SHRED_WATCH_WINDOW).isoformat()
        rows = self._select(
            "SELECT subject_id, MAX(shredded_at) AS last_at FROM {t} WHERE shredded_at >= ? "
            "GROUP BY subject_id",
            (since,),
        )
        with self._lock:
            fresh = [str(r["subject_id"]) for r in rows if r["subject_id"] not in self._seen_shreds]
            for row in rows:
                self._seen_shreds[str(row["subject_id"])] = str(row["last_at"])
            for subject, at in list(self._seen_shreds.items()):
                if at < since:
                    del self._seen_shreds[subject]
            listeners = list(self._shred_listeners)
        for subject in fresh:
            self._forget(subject)
            for listener in listeners:
                listener(subject)
        return fresh

    def _watch_if_due(self, now: float) -> None:
        """Look for other processes' shreds when the last look is SHRED_WATCH_SECONDS old
        (one look at a time; a lookup never waits for another's look)."""
        if now - self._watched < SHRED_WATCH_SECONDS or not self._watch_lock.acquire(False):
            return
        try:
            if now - self._watched >= SHRED_WATCH_SECONDS:
                self.watch_shreds()
                self._watched = time.monotonic()
        finally:
            self._watch_lock.release()

    def _start_watcher(self) -> None:
        """Start the watcher thread once this process holds a key (idle processes must
        forget shredded keys too). It holds the store weakly and stops with `close`."""
        if self._watcher is not None or self._closed.is_set():
            return
        with self._lock:
            if self._watcher is not None:
                return
            self._watcher = threading.Thread(
                target=_watch_loop,
                args=(weakref.ref(self), self._closed),
                name="key-shred-watcher",
                daemon=True,
            )
        self._watcher.start()

    def close(self) -> None:
        """Stop the watcher thread and drop every cached key."""
        self._closed.set()
        watcher = self._watcher
        if watcher is not None and watcher is not threading.current_thread():
            watcher.join(timeout=SHRED_WATCH_SECONDS * 5)
        with self._lock:
            self._by_subject.clear()
            self._by_ref.clear()

    def drop_cache(self) -> None:
        """Forget every cached key (keys made here and not yet stored excepted): the
        cold start of a new process, for benchmarks comparing key lookups."""
        with self._lock:
            self._forgotten += 1
            self._by_subject = {
                s: entry for s, entry in self._by_subject.items() if entry[0] in self._pending
            }
            self._by_ref = {r: entry for r, entry in self._by_ref.items() if r in self._pending}

    def cached_refs(self, subject_id: UUID | str) -> list[str]:
        """The references of the subject's DEKs this process holds in memory."""
        subject = subject_of(subject_id)
        with self._lock:
            refs = {ref for ref, entry in self._by_ref.items() if entry.subject == subject}
            entry = self._by_subject.get(subject)
            if entry is not None:
                refs.add(entry[0])
            return sorted(refs)

    def is_shredded(self, subject_id: UUID | str) -> bool:
        """True once the subject's keys were destroyed."""
        rows = self._select(
            "SELECT dek_id FROM {t} WHERE subject_id=? AND shredded_at IS NOT NULL",
            (subject_of(subject_id),),
        )
        return bool(rows)

    def _forget(self, subject: str) -> None:
        with self._lock:
            self._forgotten += 1
            self._by_subject.pop(subject, None)
            for ref in [ref for ref, key in self._pending.items() if key.subject == subject]:
                del self._pending[ref]
            for ref in [ref for ref, cached in self._by_ref.items() if cached.subject == subject]:
                del self._by_ref[ref]

    def _sweep(self, now: float) -> None:
        """Drop expired cache entries (lock held): a key shredded by another process
        must not stay in this one's memory because nobody asked for it again."""
        if now - self._swept < CACHE_SECONDS:
            return
        self._swept = now
        for subject, (dek_id, _, at) in list(self._by_subject.items()):
            if now - at >= CACHE_SECONDS and dek_id not in self._pending:
                del self._by_subject[subject]
        for dek_id, entry in list(self._by_ref.items()):
            if now - entry.at >= CACHE_SECONDS and dek_id not in self._pending:
                del self._by_ref[dek_id]

    # --- rotation and checks ---------------------------------------------------------

    def rewrap_all(self, batch_size: int = 500) -> int:
        """Re-wrap every live DEK not under the active KEK. Events are not touched.

        Safe while the ledger serves: each row is updated atomically and readers
        accept either KEK until the old one is retired.
        """
        active = self.keyring.active_kek_id()
        count = 0
        while True:
            rows = self._select(
                "SELECT * FROM {t} WHERE wrapped IS NOT NULL AND kek_id<>? ORDER BY dek_id LIMIT ?",
                (active, batch_size),
            )
            if not rows:
                return count
            with self.datastore.transaction(commit=True) as cursor:
                for row in rows:
                    dek = self._unwrap_row(row)
                    kek_id, wrapped = self.keyring.wrap(
                        dek, wrap_aad(row["dek_id"], row["subject_id"])
                    )
                    self.dialect.execute(
                        cursor,
                        f"UPDATE {self.table} SET kek_id=?, wrapped=? "
                        "WHERE dek_id=? AND kek_id=? AND wrapped IS NOT NULL",
                        (kek_id, wrapped, row["dek_id"], row["kek_id"]),
                    )
                    count += 1

    def count_by_kek(self) -> dict[str, int]:
        """Live DEKs per KEK id (a KEK with none left can be retired)."""
        rows = self._select(
            "SELECT kek_id, COUNT(*) AS n FROM {t} WHERE wrapped IS NOT NULL GROUP BY kek_id", ()
        )
        return {row["kek_id"]: int(row["n"]) for row in rows}

    def unwrap_failures(self) -> Iterator[str]:
        """Ids of live DEKs that fail to unwrap (for the security-check job)."""
        rows = self._select("SELECT * FROM {t} WHERE wrapped IS NOT NULL ORDER BY dek_id", ())
        for row in rows:
            try:
                self._unwrap_row(row)
            except KeyUnavailable:
                yield str(row["dek_id"])

    def _select(self, statement: str, params: tuple[Any, ...]) -> list[Any]:
        """The rows of one read statement. On PostgreSQL it runs on its own (the pool's
        connections are in autocommit: one statement reads one snapshot), not between
        BEGIN and ROLLBACK: two round trips fewer, e.g. on the first save of each new
        subject. Errors are the library's, as from `datastore.transaction`."""
        sql = statement.format(t=self.table)
        if self.dialect.name == "postgres" and hasattr(self.datastore, "get_connection"):
            with self.datastore.get_connection() as connection, connection.cursor() as cursor:
                self.dialect.execute(cursor, sql, params)
                return list(cursor.fetchall())
        with self.datastore.transaction(commit=False) as cursor:
            self.dialect.execute(cursor, sql, params)
            return list(cursor.fetchall())


def _watch_loop(store_ref: weakref.ref[KeyStore], closed: threading.Event) -> None:
    """The watcher thread: every SHRED_WATCH_SECONDS, `_watch_if_due` on the store, until
    it is closed or gone. A failed look (the database away) ends the thread, logged; the
    next key the store caches starts a new one, and every lookup re-checks on its own."""
    while not closed.wait(SHRED_WATCH_SECONDS):
        store = store_ref()
        if store is None:
            return
        try:
            store._watch_if_due(time.monotonic())
        except Exception as exc:  # a thread's error would otherwise vanish: log it
            log.info("key shred watcher stopped: %s", type(exc).__name__)
            store._watcher = None
            return
        finally:
            del store
