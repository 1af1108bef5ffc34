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
  caches, and the caches registered with `on_shred`, e.g. the view-key cache); other
  processes drop theirs at the latest CACHE_SECONDS later (expired entries are swept).
"""

from __future__ import annotations

import logging
import secrets
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol
from uuid import UUID

from domain.errors import KeyUnavailable, SubjectErased
from security.dialect import Dialect
from security.errors import KeyringError
from security.keys.keyring import KeyWrapper

SYSTEM_SUBJECT = "system"
CACHE_SECONDS = 30.0  # how long a process trusts a cached DEK before re-checking shredding

log = logging.getLogger(__name__)


class Datastore(Protocol):
    """The library datastores' shared shape: a transaction context yielding a cursor."""

    def transaction(self, *, commit: bool) -> Any: ...


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
        self._by_ref: dict[str, tuple[bytes, float, str]] = {}  # dek, when, subject
        self._pending: dict[str, PendingKey] = {}
        self._swept = time.monotonic()
        self._shred_listeners: list[Callable[[str], None]] = []

    # --- schema ----------------------------------------------------------------------

    def create_table_statements(self) -> list[str]:
        """DDL for the key table (run by the ledger recorders' create_table)."""
        d = self.dialect
        return [
            f"CREATE TABLE IF NOT EXISTS {self.table} ("
            "dek_id TEXT PRIMARY KEY, subject_id TEXT NOT NULL, kek_id TEXT, "
            f"wrapped {d.blob}, created_at TEXT NOT NULL, shredded_at TEXT)",
            f"CREATE INDEX IF NOT EXISTS ledger_keys_subject_idx ON {self.table} (subject_id)",
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
                self._by_ref[row["dek_id"]] = (dek, now, subject)
            return row["dek_id"], dek
        return self._create(subject, now)

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
            self._by_ref[dek_id] = (dek, now, subject)
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
        now = time.monotonic()
        with self._lock:
            self._sweep(now)
            cached = self._by_ref.get(dek_id)
            if cached is not None and (now - cached[1] < CACHE_SECONDS or dek_id in self._pending):
                return cached[0]
        rows = self._select("SELECT * FROM {t} WHERE dek_id=?", (dek_id,))
        if not rows:
            raise KeyUnavailable("no data key is stored for this event's key reference")
        row = rows[0]
        if row["shredded_at"] is not None or row["wrapped"] is None:
            with self._lock:
                self._by_ref.pop(dek_id, None)
            raise SubjectErased("this subject was erased: its data key was destroyed")
        dek = self._unwrap_row(row)
        with self._lock:
            self._by_ref[dek_id] = (dek, now, str(row["subject_id"]))
        return dek

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
        self._forget(subject)
        for listener in list(self._shred_listeners):
            listener(subject)
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

    def on_shred(self, listener: Callable[[str], None]) -> None:
        """Call `listener(subject)` after each shred in this process (for caches of
        anything derived from a DEK)."""
        with self._lock:
            if listener not in self._shred_listeners:
                self._shred_listeners.append(listener)

    def remove_shred_listener(self, listener: Callable[[str], None]) -> None:
        """Stop calling a listener registered with `on_shred` (no error if it was not)."""
        with self._lock:
            if listener in self._shred_listeners:
                self._shred_listeners.remove(listener)

    def cached_refs(self, subject_id: UUID | str) -> list[str]:
        """The references of the subject's DEKs this process holds in memory."""
        subject = subject_of(subject_id)
        with self._lock:
            refs = {ref for ref, entry in self._by_ref.items() if entry[2] == subject}
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
            self._by_subject.pop(subject, None)
            for ref in [ref for ref, key in self._pending.items() if key.subject == subject]:
                del self._pending[ref]
            for ref in [ref for ref, cached in self._by_ref.items() if cached[2] == subject]:
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
        for dek_id, (_, at, _) in list(self._by_ref.items()):
            if now - at >= CACHE_SECONDS and dek_id not in self._pending:
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
        with self.datastore.transaction(commit=False) as cursor:
            self.dialect.execute(cursor, statement.format(t=self.table), params)
            return list(cursor.fetchall())
