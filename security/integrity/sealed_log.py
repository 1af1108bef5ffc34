"""The Merkle log over the event store: dense leaf indexes, sealing, signed checkpoints.

Tables:
- `ledger_leaves(seq, notification_id, leaf_hash)`: leaf `seq` (0-based, dense) is
  the event with that notification id; gaps in PostgreSQL notification ids do not
  leave gaps in `seq`.
- `ledger_checkpoints(size, root, note, frontier, created_at)`: every signed
  checkpoint, with the compact range (frontier) of the tree at that size so the
  next seal only hashes the new events.
- `ledger_tree_nodes(level, idx, hash)` and `ledger_tree_state(id, covered)`: the
  hash of every perfect subtree (security.integrity.tree_nodes), written with the
  leaves that complete it, so a proof at any size reads O(log n) rows.

Sealing appends the leaves of every event recorded since the last seal and signs a
C2SP checkpoint over the new tree, in one transaction under a lock, so two sealers
cannot interleave. A checkpoint is only ever an extension of the previous one, and
of the newest checkpoint of the anchor file (security.integrity.anchors): a log that was
rolled back, truncated, wiped or forked behind the ledger's back is never signed
(NotAnAnchoredExtension). Each new checkpoint is appended to the anchor file after the
commit.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from eventsourcing.persistence import ApplicationRecorder

from domain.errors import DomainError
from ledger_verify.checkpoints import (
    Checkpoint,
    CheckpointError,
    sign_checkpoint,
    verify_checkpoint,
)
from ledger_verify.merkle import CompactRange, MerkleTree, leaf_hash
from security.dialect import Dialect
from security.integrity.anchors import AnchorFile
from security.integrity.subject_map import MapMissing, SubjectMap, SubjectProof
from security.integrity.tree_nodes import (
    CHUNK,
    MissingNodes,
    Node,
    NodeBuilder,
    NodeProofs,
    NodeReader,
    table_statements,
)
from security.keys.envelope import leaf_bytes

BATCH = 2000
MAP_CHUNK = 50000  # leaves a seal adds to the subject map of a log sealed before it

log = logging.getLogger("crm_ledger.integrity")


class SealedLogInconsistent(DomainError):
    """The sealed log's own tables disagree: sealing stops rather than sign over it."""

    code = "sealed_log_inconsistent"


class NotAnAnchoredExtension(SealedLogInconsistent):
    """The stored log is not a consistent extension of the newest anchored checkpoint
    (rolled back, truncated, wiped or forked): nothing is signed over it."""

    code = "not_an_anchored_extension"


class SourceRow(Protocol):
    """One entry of a sealed log's source: its position id and its leaf bytes."""

    @property
    def id(self) -> int: ...

    def leaf(self, seq: int) -> bytes: ...


class LeafSource(Protocol):
    """Where a sealed log's entries come from, in position order."""

    def max_id(self) -> int | None: ...

    def rows_after(
        self, last_id: int | None, limit: int, stop: int | None = None
    ) -> Sequence[SourceRow]: ...


@dataclass(frozen=True)
class EventRow:
    """A stored event as a Merkle log entry (leaf bytes of ARCHITECTURE §4)."""

    id: int
    originator_id: Any
    originator_version: int
    topic: str
    state: bytes

    def leaf(self, seq: int) -> bytes:
        return leaf_bytes(
            seq, self.id, self.originator_id, self.originator_version, self.topic, self.state
        )


class EventSource:
    """The event store's notifications as a leaf source."""

    def __init__(self, recorder: ApplicationRecorder) -> None:
        self.recorder = recorder

    def max_id(self) -> int | None:
        return self.recorder.max_notification_id()

    def rows_after(
        self, last_id: int | None, limit: int, stop: int | None = None
    ) -> list[EventRow]:
        notes = self.recorder.select_notifications(
            start=last_id, limit=limit, stop=stop, inclusive_of_start=last_id is None
        )
        return [
            EventRow(n.id, n.originator_id, n.originator_version, n.topic, n.state) for n in notes
        ]


@dataclass(frozen=True)
class StoredCheckpoint:
    """A signed checkpoint as stored: tree size, root hash and the signed note."""

    size: int
    root: bytes
    note: str
    created_at: str


@dataclass(frozen=True)
class LeafRow:
    """One sealed leaf: its index, the event's notification id and the leaf hash."""

    seq: int
    notification_id: int
    leaf_hash: bytes


class SealedLog:
    """Seals the event store into a Merkle log and serves proofs from it."""

    def __init__(
        self,
        source: LeafSource,
        datastore: Any,
        dialect: Dialect,
        signing_key: Ed25519PrivateKey,
        origin: str,
        prefix: str = "ledger",
        anchors: AnchorFile | None = None,
        subject_map: SubjectMap | None = None,
    ) -> None:
        self.source = source
        self.subject_map = subject_map
        self.anchors = anchors
        self.datastore = datastore
        self.dialect = dialect
        self.signing_key = signing_key
        self.origin = origin
        self.prefix = prefix
        self.leaves_table = dialect.table(f"{prefix}_leaves")
        self.checkpoints_table = dialect.table(f"{prefix}_checkpoints")
        self._lock = threading.Lock()
        self._tree_lock = threading.Lock()
        self._tree = MerkleTree()
        self.nodes = NodeReader(dialect, prefix)
        self._nodes_covered = 0  # known coverage of the stored nodes (only grows)
        self._listeners: list[Callable[[StoredCheckpoint], None]] = []
        self._notified_size = 0
        if anchors is not None:
            anchors.trust(origin, signing_key.public_key())  # every anchor of it is checked

    def on_checkpoint(self, callback: Callable[[StoredCheckpoint], None]) -> None:
        """Call `callback` with each new checkpoint once it is committed and anchored
        (and with the latest one at the first seal of this process). A failing
        callback is logged; it never fails sealing."""
        self._listeners.append(callback)

    @staticmethod
    def create_table_statements(dialect: Dialect, prefix: str = "ledger") -> list[str]:
        """DDL of the leaves and checkpoints tables."""
        big, blob = dialect.bigint, dialect.blob
        return [
            f"CREATE TABLE IF NOT EXISTS {dialect.table(prefix + '_leaves')} ("
            f"seq {big} PRIMARY KEY, notification_id {big} NOT NULL UNIQUE, "
            f"leaf_hash {blob} NOT NULL)",
            f"CREATE TABLE IF NOT EXISTS {dialect.table(prefix + '_checkpoints')} ("
            f"size {big} PRIMARY KEY, root {blob} NOT NULL, note TEXT NOT NULL, "
            f"frontier {blob} NOT NULL, created_at TEXT NOT NULL)",
            *table_statements(dialect, prefix),
        ]

    @property
    def public_key(self) -> Ed25519PublicKey:
        """The key that verifies this log's checkpoints."""
        return self.signing_key.public_key()

    # --- sealing ---------------------------------------------------------------------

    def seal(self) -> StoredCheckpoint | None:
        """Append leaves for every unsealed event and sign a checkpoint over them.

        Returns the latest checkpoint (the previous one if nothing new was written,
        None if the log is empty). Safe against concurrent sealers: PostgreSQL takes
        an advisory transaction lock; SQLite serialises writers on the file.

        With an anchor file, the stored log must be a consistent extension of the
        newest anchored checkpoint of this origin, or NotAnAnchoredExtension is raised
        and nothing is signed; the latest checkpoint is appended to the anchor file
        (after the commit) unless it is already anchored.
        """
        with self._lock:
            anchored = None if self.anchors is None else self.anchors.newest(self.origin)
            latest = self._seal(anchored)
            unanchored = latest is not None and (anchored is None or anchored.size < latest.size)
            if self.anchors is not None and latest is not None and unanchored:
                self.anchors.append(latest.note)
            if latest is not None and latest.size > self._notified_size:
                self._notified_size = latest.size
                for callback in self._listeners:
                    try:
                        callback(latest)
                    except Exception:
                        log.exception("a checkpoint listener failed (sealing went on)")
            return latest

    def _seal(self, anchored: Checkpoint | None) -> StoredCheckpoint | None:
        with self.datastore.transaction(commit=True) as cursor:
            self._write_lock(cursor)
            latest = self._latest(cursor)
            frontier = CompactRange()
            if latest is not None:
                self.dialect.execute(
                    cursor,
                    f"SELECT frontier FROM {self.checkpoints_table} WHERE size=?",
                    (latest.size,),
                )
                blob = self.dialect.to_bytes(cursor.fetchone()["frontier"])
                try:
                    frontier = CompactRange.from_hashes(
                        latest.size, [blob[i : i + 32] for i in range(0, len(blob), 32)]
                    )
                    intact = frontier.root() == latest.root
                except ValueError:
                    intact = False
                if not intact:
                    # signing on top of a wrong frontier would fork the log
                    raise SealedLogInconsistent(
                        f"the stored frontier at size {latest.size} does not match its signed "
                        "root; nothing was sealed; run `ledger verify`"
                    )
            self.dialect.execute(
                cursor,
                f"SELECT seq, notification_id FROM {self.leaves_table} ORDER BY seq DESC LIMIT 1",
                (),
            )
            row = cursor.fetchone()
            seq = 0 if row is None else int(row["seq"]) + 1
            last_nid = None if row is None else int(row["notification_id"])
            if seq != frontier.size:
                raise SealedLogInconsistent(
                    f"sealed log is inconsistent: {seq} leaves but checkpoint size "
                    f"{frontier.size}; run `ledger verify`"
                )
            covered = self.nodes.covered(cursor)
            # nodes are written with the leaves once they cover the log; before that
            # (a store sealed before the nodes table) `backfill_nodes` catches up
            builder = NodeBuilder(frontier.size, frontier.to_hashes()) if covered == seq else None
            stop = self.source.max_id()
            map_line = None
            salt, mapped = b"", seq
            if self.subject_map is not None:
                salt, mapped = self.subject_map.covered(cursor)
                if mapped > seq:  # the log lost leaves behind our back
                    self.subject_map.rewind(cursor, seq)
                    mapped = seq
                if mapped < seq:  # a log sealed before the map: catch up, a chunk a seal
                    end = min(seq, mapped + MAP_CHUNK)
                    map_line = self._backfill_map(cursor, salt, mapped, end, last_nid)
                    mapped = end
            mapping = self.subject_map is not None and mapped == seq
            while stop is not None:
                batch = self.source.rows_after(last_nid, BATCH, stop)
                if not batch:
                    break
                rows = []
                nodes: list[tuple[int, int, bytes]] = []
                for entry in batch:
                    digest = leaf_hash(entry.leaf(seq))
                    rows.append((seq, entry.id, digest))
                    if builder is None:
                        frontier.append(digest)
                    else:
                        builder.append(digest, nodes)
                    seq += 1
                    last_nid = entry.id
                self.dialect.executemany(
                    cursor,
                    f"INSERT INTO {self.leaves_table} (seq, notification_id, leaf_hash) "
                    "VALUES (?,?,?)",
                    rows,
                )
                self.nodes.insert(cursor, nodes)
                if mapping:
                    map_line = self._map_batch(cursor, salt, batch, rows)
            if builder is not None and builder.size != covered:
                frontier = CompactRange.from_hashes(builder.size, builder.edge)
                self.nodes.set_covered(cursor, builder.size, covered)
            if anchored is not None:
                self._require_extension(cursor, anchored, latest, frontier)
            if latest is not None and frontier.size == latest.size:
                return latest
            if frontier.size == 0:
                return None
            root = frontier.root()
            if self.subject_map is None or not mapping:
                map_line = None  # still catching up: this checkpoint signs no map yet
            elif map_line is None:
                map_line = self.subject_map.add(cursor, salt, frontier.size, [], frontier.size)
            note_text = sign_checkpoint(
                self.origin,
                frontier.size,
                root,
                self.signing_key,
                extensions=() if map_line is None else (map_line,),
            )
            created = datetime.now(UTC).isoformat()
            self.dialect.execute(
                cursor,
                f"INSERT INTO {self.checkpoints_table} (size, root, note, frontier, created_at) "
                "VALUES (?,?,?,?,?)",
                (frontier.size, root, note_text, b"".join(frontier.to_hashes()), created),
            )
            return StoredCheckpoint(frontier.size, root, note_text, created)

    def _map_batch(
        self,
        cursor: Any,
        salt: bytes,
        batch: Sequence[SourceRow],
        rows: list[tuple[int, int, bytes]],
    ) -> str:
        """Add one sealed batch (its source rows and (seq, nid, leaf hash) rows) to the
        subject map; returns the map line as of the batch's end."""
        assert self.subject_map is not None
        states = [getattr(entry, "state", None) for entry in batch]
        subjects = self.subject_map.subjects_of(cursor, states)
        events = [
            (s, subject, digest) for (s, _, digest), subject in zip(rows, subjects, strict=True)
        ]
        end = rows[-1][0] + 1
        return self.subject_map.add(cursor, salt, end, events, rows[0][0])

    def _backfill_map(
        self, cursor: Any, salt: bytes, mapped: int, sealed: int, last_nid: int | None
    ) -> str | None:
        """Add the leaves sealed before the map existed (`mapped`..`sealed`) to it, in
        this seal's transaction; returns the map line at `sealed`. A seal adds at most
        MAP_CHUNK of them, so catching up a large log never holds the seal lock long;
        until the map covers the log, checkpoints sign no map line."""
        line = None
        after: int | None = None
        if mapped > 0:
            self.dialect.execute(
                cursor,
                f"SELECT notification_id FROM {self.leaves_table} WHERE seq=?",
                (mapped - 1,),
            )
            row = cursor.fetchone()
            if row is None:
                raise SealedLogInconsistent(f"leaf {mapped - 1} is missing; run `ledger verify`")
            after = int(row["notification_id"])
        seq = mapped
        while seq < sealed:
            batch = self.source.rows_after(after, min(BATCH, sealed - seq), last_nid)
            if not batch:
                raise SealedLogInconsistent(
                    f"the event of leaf {seq} is missing; run `ledger verify`"
                )
            rows = [
                (seq + i, entry.id, leaf_hash(entry.leaf(seq + i))) for i, entry in enumerate(batch)
            ]
            line = self._map_batch(cursor, salt, batch, rows)
            seq += len(batch)
            after = batch[-1].id
        log.info("%s subject map backfilled up to leaf %d", self.prefix, sealed)
        return line

    def _write_lock(self, cursor: Any) -> None:
        """Serialise with other sealers (and node backfills) of this log."""
        if self.dialect.name == "postgres":
            cursor.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", (self.leaves_table,))
        else:
            # take SQLite's write lock now, not on the first insert, so two
            # sealers queue instead of failing on a lock upgrade
            self.dialect.execute(cursor, f"DELETE FROM {self.leaves_table} WHERE seq < 0", ())

    # --- stored tree nodes -----------------------------------------------------------

    def nodes_covered(self) -> int:
        """Up to which leaf count the stored tree nodes are complete."""
        with self.datastore.transaction(commit=False) as cursor:
            return self.nodes.covered(cursor)

    def backfill_nodes(self, size: int | None = None, chunk: int = CHUNK) -> int:
        """Write the tree nodes of sealed leaves not covered yet (a store sealed before
        the nodes table existed), `chunk` leaves per committed transaction, so an
        interrupted backfill resumes where it stopped. Stops at `size` (default: every
        sealed leaf) rounded up to a chunk. Returns the coverage reached."""
        while True:
            with self.datastore.transaction(commit=True) as cursor:
                self._write_lock(cursor)
                covered = self.nodes.covered(cursor)
                self.dialect.execute(cursor, f"SELECT MAX(seq) AS m FROM {self.leaves_table}", ())
                row = cursor.fetchone()
                sealed = 0 if row is None or row["m"] is None else int(row["m"]) + 1
                if covered >= sealed or (size is not None and covered >= size):
                    self._nodes_covered = max(self._nodes_covered, covered)
                    return covered
                try:
                    builder = NodeBuilder(covered, self.nodes.edge(cursor, covered))
                except MissingNodes as exc:
                    raise SealedLogInconsistent(f"{exc}; run `ledger verify`") from None
                end = min(sealed, covered + chunk)
                nodes: list[tuple[int, int, bytes]] = []
                while builder.size < end:
                    self.dialect.execute(
                        cursor,
                        f"SELECT seq, leaf_hash FROM {self.leaves_table} WHERE seq>=? AND seq<? "
                        "ORDER BY seq",
                        (builder.size, end),
                    )
                    rows = cursor.fetchall()
                    for leaf_row in rows:
                        if int(leaf_row["seq"]) != builder.size:
                            raise SealedLogInconsistent(
                                f"leaf {builder.size} is missing; run `ledger verify`"
                            )
                        builder.append(self.dialect.to_bytes(leaf_row["leaf_hash"]), nodes)
                    if not rows:
                        raise SealedLogInconsistent(
                            f"leaf {builder.size} is missing; run `ledger verify`"
                        )
                self.nodes.insert(cursor, nodes)
                self.nodes.set_covered(cursor, builder.size, covered)
            log.info("%s tree nodes backfilled up to leaf %d", self.prefix, builder.size)

    def node_rows(self) -> Iterator[tuple[int, int, bytes]]:
        """Every stored tree node as (level, idx, hash), by level then idx, in batches.

        Each batch starts after the last row read with a row-value comparison, which
        both stores turn into a range of the primary key's index; the equivalent
        `level>? OR (level=? AND idx>?)` is not one (each batch scanned the index
        from its start: rows read grew with the square of the log)."""
        level, idx = 0, -1
        while True:
            with self.datastore.transaction(commit=False) as cursor:
                self.dialect.execute(
                    cursor,
                    f"SELECT level, idx, hash FROM {self.nodes.nodes_table} "
                    "WHERE (level, idx) > (?, ?) ORDER BY level, idx LIMIT ?",
                    (level, idx, BATCH),
                )
                rows = cursor.fetchall()
            if not rows:
                return
            for row in rows:
                level, idx = int(row["level"]), int(row["idx"])
                yield level, idx, self.dialect.to_bytes(row["hash"])

    def _ensure_nodes(self, size: int) -> None:
        if size > self._nodes_covered:
            self._nodes_covered = max(self._nodes_covered, self.nodes_covered())
        if size > self._nodes_covered:
            covered = self.backfill_nodes(size)
            if covered < size:
                raise SealedLogInconsistent(f"only {covered} leaves are sealed, not {size}")

    def _read_nodes(self, wanted: Any) -> dict[Node, bytes]:
        with self.datastore.transaction(commit=False) as cursor:
            return self.nodes.read(cursor, list(wanted))

    def proofs(self) -> NodeProofs:
        """Inclusion and consistency proofs and roots at any sealed size from the
        stored nodes (O(log n) rows each; the first call on a store sealed before
        the nodes table backfills it). The nodes are not trusted: verify what they
        give against a signed checkpoint."""
        return NodeProofs(self.nodes, self._read_nodes, self._ensure_nodes, SealedLogInconsistent)

    def _require_extension(
        self,
        cursor: Any,
        anchored: Checkpoint,
        latest: StoredCheckpoint | None,
        frontier: CompactRange,
    ) -> None:
        """Raise NotAnAnchoredExtension unless the stored leaves (about to be signed as
        `frontier`) reach the anchored size and have the anchored root at that size."""
        where = f"the newest anchored checkpoint of {self.origin} is at size {anchored.size}"
        try:
            verify_checkpoint(anchored.note, self.public_key, self.origin, origin=self.origin)
        except CheckpointError as exc:
            raise NotAnAnchoredExtension(
                f"{where} but it does not verify ({exc}); nothing was signed"
            ) from None
        if frontier.size < anchored.size:
            raise NotAnAnchoredExtension(
                f"{where} but the stored log holds {frontier.size} entries (rolled back, "
                "truncated or wiped); nothing was signed; run `ledger verify`"
            )
        root: bytes | None
        if latest is not None and latest.size == anchored.size:
            root = latest.root
        elif frontier.size == anchored.size:
            root = frontier.root()
        else:
            root = self._stored_root(cursor, anchored.size)
        if root != anchored.root:
            raise NotAnAnchoredExtension(
                f"{where} but the stored log has another root at that size (rewritten or "
                "forked); nothing was signed; run `ledger verify`"
            )

    def _stored_root(self, cursor: Any, size: int) -> bytes | None:
        """The root of the stored leaf hashes 0..size-1, None if one is missing."""
        tree = CompactRange()
        while tree.size < size:
            self.dialect.execute(
                cursor,
                f"SELECT seq, leaf_hash FROM {self.leaves_table} WHERE seq>=? AND seq<? "
                "ORDER BY seq LIMIT ?",
                (tree.size, size, BATCH),
            )
            rows = cursor.fetchall()
            if not rows:
                return None
            for row in rows:
                if int(row["seq"]) != tree.size:
                    return None
                tree.append(self.dialect.to_bytes(row["leaf_hash"]))
        return tree.root()

    # --- reading ---------------------------------------------------------------------

    def _latest(self, cursor: Any) -> StoredCheckpoint | None:
        self.dialect.execute(
            cursor,
            f"SELECT size, root, note, created_at FROM {self.checkpoints_table} "
            "ORDER BY size DESC LIMIT 1",
            (),
        )
        row = cursor.fetchone()
        return None if row is None else self._checkpoint(row)

    def _checkpoint(self, row: Any) -> StoredCheckpoint:
        return StoredCheckpoint(
            int(row["size"]), self.dialect.to_bytes(row["root"]), row["note"], row["created_at"]
        )

    def latest_checkpoint(self) -> StoredCheckpoint | None:
        """The most recent signed checkpoint, or None before the first seal."""
        with self.datastore.transaction(commit=False) as cursor:
            return self._latest(cursor)

    def checkpoint(self, size: int) -> StoredCheckpoint | None:
        """The checkpoint signed at exactly this tree size, if any."""
        with self.datastore.transaction(commit=False) as cursor:
            self.dialect.execute(
                cursor,
                f"SELECT size, root, note, created_at FROM {self.checkpoints_table} WHERE size=?",
                (size,),
            )
            row = cursor.fetchone()
        return None if row is None else self._checkpoint(row)

    def checkpoints(self, since: int = 0) -> list[StoredCheckpoint]:
        """Every stored checkpoint of a size at least `since`, smallest tree first."""
        with self.datastore.transaction(commit=False) as cursor:
            self.dialect.execute(
                cursor,
                f"SELECT size, root, note, created_at FROM {self.checkpoints_table} "
                "WHERE size>=? ORDER BY size",
                (since,),
            )
            return [self._checkpoint(row) for row in cursor.fetchall()]

    def leaf_rows(self, start: int = 0, stop: int | None = None) -> Iterator[LeafRow]:
        """Sealed leaves in seq order, from `start` up to (excluding) `stop`, in batches."""
        seq = start
        while stop is None or seq < stop:
            limit = BATCH if stop is None else min(BATCH, stop - seq)
            with self.datastore.transaction(commit=False) as cursor:
                self.dialect.execute(
                    cursor,
                    f"SELECT seq, notification_id, leaf_hash FROM {self.leaves_table} "
                    "WHERE seq>=? ORDER BY seq LIMIT ?",
                    (seq, limit),
                )
                rows = cursor.fetchall()
            if not rows:
                return
            for row in rows:
                yield LeafRow(
                    int(row["seq"]),
                    int(row["notification_id"]),
                    self.dialect.to_bytes(row["leaf_hash"]),
                )
            seq = int(rows[-1]["seq"]) + 1

    def sealed_size(self) -> int:
        """How many leaves are sealed."""
        with self.datastore.transaction(commit=False) as cursor:
            self.dialect.execute(cursor, f"SELECT MAX(seq) AS m FROM {self.leaves_table}", ())
            row = cursor.fetchone()
        return 0 if row is None or row["m"] is None else int(row["m"]) + 1

    def sizes(self) -> tuple[int, int]:
        """(sealed leaves, size of the latest checkpoint), read in one statement so both
        come from the same snapshot: a seal commits leaves and checkpoint together, so
        they differ only if the tables were changed behind the ledger's back."""
        with self.datastore.transaction(commit=False) as cursor:
            self.dialect.execute(
                cursor,
                f"SELECT (SELECT MAX(seq) FROM {self.leaves_table}) AS m, "
                f"(SELECT MAX(size) FROM {self.checkpoints_table}) AS s",
                (),
            )
            row = cursor.fetchone()
        sealed = 0 if row["m"] is None else int(row["m"]) + 1
        return sealed, 0 if row["s"] is None else int(row["s"])

    def leaf_count(self) -> tuple[int, int]:
        """(number of leaf rows, highest seq + 1), one statement: they differ only if a
        leaf row was removed behind the ledger's back."""
        with self.datastore.transaction(commit=False) as cursor:
            self.dialect.execute(
                cursor, f"SELECT COUNT(*) AS n, MAX(seq) AS m FROM {self.leaves_table}", ()
            )
            row = cursor.fetchone()
        top = 0 if row["m"] is None else int(row["m"]) + 1
        return int(row["n"]), top

    def frontier(self, size: int) -> bytes | None:
        """The stored compact range of the checkpoint at `size` (hashes concatenated)."""
        with self.datastore.transaction(commit=False) as cursor:
            self.dialect.execute(
                cursor, f"SELECT frontier FROM {self.checkpoints_table} WHERE size=?", (size,)
            )
            row = cursor.fetchone()
        return None if row is None else self.dialect.to_bytes(row["frontier"])

    def seq_of_notification(self, notification_id: int) -> int | None:
        """The leaf index of a notification id, if sealed."""
        with self.datastore.transaction(commit=False) as cursor:
            self.dialect.execute(
                cursor,
                f"SELECT seq FROM {self.leaves_table} WHERE notification_id=?",
                (notification_id,),
            )
            row = cursor.fetchone()
        return None if row is None else int(row["seq"])

    def tree(self, size: int | None = None) -> MerkleTree:
        """A new Merkle tree of exactly the stored leaf hashes up to `size` (default all)."""
        tree = MerkleTree()
        tree.extend(row.leaf_hash for row in self.leaf_rows(0, size))
        return tree

    def shared_tree(self, size: int) -> MerkleTree:
        """A tree holding at least `size` sealed leaves, kept in memory and extended with
        new leaves, so serving proofs does not re-read the log on each request. Callers
        must pass explicit sizes to `root`, `inclusion_proof` and `consistency_proof`."""
        with self._tree_lock:
            tree = self._tree
            if size > tree.size:
                tree.extend(row.leaf_hash for row in self.leaf_rows(tree.size, size))
            if size > tree.size:
                raise SealedLogInconsistent(f"only {tree.size} leaves are sealed, not {size}")
            return tree

    def subject_proof(self, subject: str, size: int) -> SubjectProof:
        """The subject map proof of `subject` at checkpoint size `size`, with the seqs
        of its events below `size` (MapMissing without a subject map)."""
        if self.subject_map is None:
            raise MapMissing(f"the log {self.origin} keeps no subject map")
        with self.datastore.transaction(commit=False) as cursor:
            return self.subject_map.subject_proof(cursor, subject, size, self.leaves_table)
