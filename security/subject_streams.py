"""Which streams hold events about a subject, and where each event sits in the logs.

Table `ledger_subject_streams(key_ref, originator_id)`: one row per data key and
stream that has an event encrypted under that key. The recorder writes it in the
transaction that inserts the events (from the envelopes' clear `key_ref`, so nothing
is decrypted and nothing personal is written); `ledger_keys` maps each key to its
subject. A customer's streams are then one indexed join, whatever the log's size:
its profile, KYC file, consents, cases, surveys, grades, value, care, erasure and
any stream a later release adds, with no list of aggregate kinds to keep up to date.

The rows outlive a shred (`ledger_keys` keeps the subject of a destroyed key), and
say no more than the clear `key_ref` of the stored events already does. A store
written before this table existed is indexed once, on first start (`backfill`).
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Mapping, Sequence
from typing import Any
from uuid import UUID

from eventsourcing.persistence import StoredEvent

from domain.ports import EventPosition
from security.dialect import Dialect
from security.errors import EventAuthenticationFailed
from security.keys.envelope import Envelope

TABLE = "ledger_subject_streams"
BATCH = 2000
INDEXED_PAIRS_LIMIT = 50_000  # pairs a recorder remembers as indexed (about 10 MB at most)


def create_table_statements(dialect: Dialect) -> list[str]:
    """DDL of the index (idempotent)."""
    table = dialect.table(TABLE)
    return [
        f"CREATE TABLE IF NOT EXISTS {table} ("
        "key_ref TEXT NOT NULL, originator_id TEXT NOT NULL, "
        "PRIMARY KEY (key_ref, originator_id))",
    ]


def stream_pairs(events: Sequence[Any]) -> list[tuple[str, str]]:
    """(key_ref, canonical originator id) of each distinct stream and key of `events`.

    State that is not a ledger envelope names no key, nor does an id that is no UUID,
    so it indexes nothing: the mapper writes only envelopes of UUID streams, the
    recorder's own contract (any bytes, as in the library's conformance tests) still
    holds, and verification reports such an event on its own."""
    found = set()
    for event in events:
        try:
            key_ref = Envelope.unpack(event.state).key_ref
            originator_id = event.originator_id
            # a UUID's str() is already the canonical form: no round trip through UUID()
            stream = (
                str(originator_id) if type(originator_id) is UUID else str(UUID(str(originator_id)))
            )
        except (EventAuthenticationFailed, ValueError):
            continue
        found.add((key_ref, stream))
    return sorted(found)


def insert_pairs(dialect: Dialect, cursor: Any, pairs: Sequence[tuple[str, str]]) -> None:
    """Insert (key_ref, stream) pairs in the caller's transaction; a pair already in the
    index is left as it is."""
    if not pairs:
        return
    table = dialect.table(TABLE)
    if dialect.name == "sqlite":
        statement = f"INSERT OR IGNORE INTO {table} (key_ref, originator_id) VALUES (?, ?)"
    else:
        statement = (
            f"INSERT INTO {table} (key_ref, originator_id) VALUES (?, ?) ON CONFLICT DO NOTHING"
        )
    dialect.executemany(cursor, statement, list(pairs))


def record_streams(dialect: Dialect, cursor: Any, events: Sequence[StoredEvent]) -> None:
    """Index the streams of `events` in the writer's transaction (a pair seen before is
    skipped)."""
    insert_pairs(dialect, cursor, stream_pairs(events))


class IndexedPairs:
    """The (key_ref, stream) pairs one recorder knows to be in the index: each was
    inserted by a transaction of this recorder that committed. A writer skips them
    (most saves append to a stream already indexed under the same key) and inserts
    the rest, with ON CONFLICT DO NOTHING as without this cache.

    Guarantees: a pair is added only by `committed`, which the recorder calls after
    the transaction that inserted it committed, so a rolled-back or failed insert
    leaves nothing here and its pairs are inserted again by the next write. Rows of the
    index are never deleted (they outlive a shred), so a remembered pair stays true.
    Another process has its own (empty at start) set and inserts what it has not seen.
    At most `limit` pairs are kept: past it the older half is forgotten (a forgotten
    pair is merely inserted again). Thread-safe."""

    def __init__(self, limit: int = INDEXED_PAIRS_LIMIT) -> None:
        self.limit = limit
        self._known: dict[tuple[str, str], None] = {}
        self._lock = threading.Lock()

    def missing(self, pairs: Iterable[tuple[str, str]]) -> list[tuple[str, str]]:
        """The pairs of `pairs` not known to be indexed (to insert with the events)."""
        known = self._known
        return [pair for pair in pairs if pair not in known]

    def committed(self, pairs: Iterable[tuple[str, str]]) -> None:
        """Remember `pairs` as indexed: call only once their insert has committed."""
        with self._lock:
            for pair in pairs:
                self._known[pair] = None
            if len(self._known) > self.limit:  # keep the newer half (insertion order)
                self._known = dict.fromkeys(list(self._known)[-(self.limit // 2) :])

    def clear(self) -> None:
        """Forget every pair (what a new process starts with)."""
        with self._lock:
            self._known.clear()

    def __len__(self) -> int:
        return len(self._known)

    def __contains__(self, pair: object) -> bool:
        return pair in self._known


class SubjectStreams:
    """The `domain.ports.SubjectStreams` of a ledger store (see the module docstring)."""

    def __init__(
        self,
        datastore: Any,
        dialect: Dialect,
        recorder: Any,
        *,
        keys_table: str,
        leaves_table: str,
    ) -> None:
        self.datastore = datastore
        self.dialect = dialect
        self.recorder = recorder
        self.table = dialect.table(TABLE)
        self.keys_table = keys_table
        self.leaves_table = leaves_table
        self.events_table = dialect.table(recorder.events_table_name)
        self.sqlite = dialect.name == "sqlite"

    def streams_of(self, subject_id: UUID) -> list[UUID]:
        """Every stream with an event encrypted under one of the subject's keys."""
        with self.datastore.transaction(commit=False) as cursor:
            self.dialect.execute(
                cursor,
                f"SELECT DISTINCT s.originator_id FROM {self.table} s "
                f"JOIN {self.keys_table} k ON k.dek_id = s.key_ref "
                "WHERE k.subject_id = ? ORDER BY s.originator_id",
                (str(subject_id),),
            )
            return [UUID(row["originator_id"]) for row in cursor.fetchall()]

    def positions(self, stream_ids: Sequence[UUID]) -> Mapping[tuple[UUID, int], EventPosition]:
        """(stream, version) → notification id and leaf index (None until sealed) of
        every event of `stream_ids`: the primary key's index, one query per BATCH."""
        found: dict[tuple[UUID, int], EventPosition] = {}
        ids = list(dict.fromkeys(stream_ids))
        column = "rowid" if self.sqlite else "notification_id"
        for start in range(0, len(ids), BATCH):
            chunk = ids[start : start + BATCH]
            marks = ",".join("?" * len(chunk))
            params = tuple(i.hex if self.sqlite else i for i in chunk)
            with self.datastore.transaction(commit=False) as cursor:
                self.dialect.execute(
                    cursor,
                    f"SELECT e.{column} AS nid, e.originator_id AS oid, "
                    "e.originator_version AS version, l.seq AS seq "
                    f"FROM {self.events_table} e LEFT JOIN {self.leaves_table} l "
                    f"ON l.notification_id = e.{column} WHERE e.originator_id IN ({marks})",
                    params,
                )
                for row in cursor.fetchall():
                    seq = None if row["seq"] is None else int(row["seq"])
                    key = (UUID(str(row["oid"])), int(row["version"]))
                    found[key] = EventPosition(int(row["nid"]), seq)
        return found

    def backfill(self) -> int:
        """Index a store written before this table existed (nothing to do when the index
        has rows or the log is empty); returns how many events were read."""
        with self.datastore.transaction(commit=False) as cursor:
            self.dialect.execute(cursor, f"SELECT 1 AS found FROM {self.table} LIMIT 1")
            if cursor.fetchone() is not None:
                return 0
        read, start = 0, None
        while True:
            batch = self.recorder.select_notifications(
                start=start, limit=BATCH, inclusive_of_start=start is None
            )
            if not batch:
                return read
            with self.datastore.transaction(commit=True) as cursor:
                record_streams(self.dialect, cursor, batch)
            read += len(batch)
            start = batch[-1].id
