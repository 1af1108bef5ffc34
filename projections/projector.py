"""The projector: applies the log's events to the views, exactly once.

One batch = one transaction in the view store. For each view behind the batch, the
transaction first moves the view's tracked position with a compare-and-set
(projections.tracking), then applies the batch's events that lie past the old
position; everything commits together or not at all. So:

- a crash (or an exception) after a view change and before the commit loses the
  whole batch, position included, and the batch is applied again on restart;
- a crash after the commit loses nothing, and the next batch starts after it;
- a redelivered notification is at or below the position and is not applied;
- two projectors on one view cannot both commit the same batch.

Set-wise: the batch's events are decrypted after one query that preloads every data
key they name (`KeyStore.preload`), and each view's writes are queued and sent in order
as one `executemany` per run of identical statements (`Tx`, flushed before any read
and before the commit), so a batch costs far fewer calls than its events. The rows are
those of one-by-one execution (`setwise=False`: keys looked up event by event, each
statement run at once, as before); tests/projections/test_setwise.py. Each envelope is
parsed once (`EnvelopeMapper.open_event`). Before a view's events are applied, the view
prefetches the rows its handlers will read (`ViewProjection.prefetch`), and its `Tx`
answers each later read of a row the batch read or wrote from memory
(projections.batch_rows), so a batch reads a row at most once.

Events of a crypto-shredded subject cannot be decrypted (SubjectErased): they are
skipped and counted in the view's tracking row (`skipped`, `last_skipped`); the view
never stalls on them. Any other failure to read an event (a missing key, a
ciphertext that fails authentication) stops the batch: the view must not silently
lose a fact, so it waits, and `ledger projections status` shows why.
"""

from __future__ import annotations

import gc
import threading
import time
import weakref
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from typing import Any, cast

from eventsourcing.persistence import Notification

from domain.customer import CustomerErased
from domain.errors import SubjectErased
from projections.base import EventContext, Tx, ViewProjection
from projections.decoding import batch_mapper
from projections.field_encryption import BlindIndex, FieldCipher
from projections.store import ViewStore
from projections.tracking import Position, Tracking, tracking_ddl
from security.bootstrap import Ledger
from security.keys.envelope import Envelope, EnvelopeMapper

SHADOW_MARK = "@next"
INSTALL_LOCK = 0x63726D7076  # "crmpv": the advisory lock key of view installs
SYNC_MARK_SECONDS = 5.0
UNKNOWN = object()  # a data key the batch has not looked up yet

Fault = Callable[[str, str, int], None]
"""A test hook: called with (stage, view name, notification id); stage "applied" comes
after an event's view change (inside the transaction; set-wise, its statements may still
be queued), "flushed" after a view's queued statements of the batch ran (still inside the
transaction, before the commit), "committed" after a commit."""


_gc_lock = threading.Lock()
_gc_pauses = 0  # batches running with the cyclic collector paused (any thread)
_gc_was_enabled = False


@contextmanager
def gc_paused() -> Iterator[None]:
    """Run a batch without the cyclic garbage collector, then restore it as it was.

    A batch allocates tens of thousands of objects that live until it ends (its decoded
    events, rows, queued statements), none of them in reference cycles: the collector
    would scan them again and again for nothing (about a sixth of a catch-up's CPU time,
    issue 12). Reference counting still frees everything as usual. Nested and concurrent
    batches share the pause: the last to end turns the collector back on if it was on."""
    global _gc_pauses, _gc_was_enabled
    with _gc_lock:
        if _gc_pauses == 0:
            _gc_was_enabled = gc.isenabled()
            gc.disable()
        _gc_pauses += 1
    try:
        yield
    finally:
        with _gc_lock:
            _gc_pauses -= 1
            if _gc_pauses == 0 and _gc_was_enabled:
                gc.enable()


_REMEMBERING: weakref.WeakSet[Projector] = weakref.WeakSet()  # projectors with a key memo


def _forget_key_memos(_subject: str) -> None:
    """The key stores' shred listener for every projector's key memo (see `_decode`):
    one function, registered once per key store, so projectors made per request add no
    listener each. A shred empties every live projector's memo: its batch then looks
    every key up again in the key store, which knows the shredded one is gone, so the
    subject's later events read as erased, as without the memo."""
    for projector in list(_REMEMBERING):
        memo = projector._prks
        if memo is not None:
            memo.clear()


class SchemaChanged(Exception):
    """The view's tables were built for another schema: rebuild it."""


@dataclass(frozen=True)
class Decoded:
    """One notification, decrypted: `event` is None when its subject was erased."""

    event: Any | None
    key_ref: str
    context: EventContext | None = None  # what every view's handler is given


class Projector:
    """Moves a set of views (live or shadow) along the log; see the module docstring."""

    def __init__(
        self,
        ledger: Ledger,
        store: ViewStore,
        projections: Sequence[ViewProjection],
        *,
        shadow: bool = False,
        batch_size: int = 500,
        fault: Fault | None = None,
        setwise: bool = True,
    ) -> None:
        self.ledger = ledger
        self.store = store
        self.projections = list(projections)
        self.shadow = shadow
        self.batch_size = batch_size
        self.fault = fault
        self.setwise = setwise
        self.tracking = Tracking(store)
        self.cipher = FieldCipher(ledger.keystore, remember=True)
        self.index = BlindIndex(ledger.keyring.index_key())
        self._names = {p.name: p.names(store, shadow=shadow) for p in self.projections}
        self._topics = {p.name: frozenset(p.topics) for p in self.projections}
        self._followers: dict[str, list[str]] = {}  # topic -> the views following it
        for p in self.projections:
            for topic in p.topics:
                self._followers.setdefault(topic, []).append(p.name)
        self._keys = {p.name: p.keys() for p in self.projections}
        # the ledger's mapper, rebuilding the values of a batch's events once each
        self._mapper, self._transcoder = batch_mapper(ledger.app.mapper)
        self._defaults = {p.name: p.defaults() for p in self.projections}
        self.reads = 0  # queries the views' handlers made of the store (prefetches included)
        self._last_sync_mark = 0.0
        # see _decode: only with a key store that tells of shreds (test doubles do not)
        self._prks: dict[str, bytes | None] | None = None
        register = getattr(ledger.keystore, "on_shred", None)
        if register is not None:
            self._prks = {}
            _REMEMBERING.add(self)
            register(_forget_key_memos)

    def tracking_name(self, projection: ViewProjection) -> str:
        """The tracking row of a view: its name, or `<name>@next` for a rebuild."""
        return projection.name + (SHADOW_MARK if self.shadow else "")

    def install(self, generation: int | None = None, *, indexes: bool = True) -> None:
        """Create the tracking table, the views' tables and their tracking rows.

        Idempotent. A live view whose tracked schema differs from the code's keeps
        its tables untouched (it must be rebuilt; `run_once` refuses it).
        `indexes=False` leaves out the tables' secondary indexes (a rebuild creates them
        once its shadow tables are filled: `create_indexes`).
        """
        with self.store.transaction(commit=True) as cursor:
            if self.store.kind == "postgres":
                # processes starting together must not race on CREATE ... IF NOT EXISTS
                self.store.dialect.execute(
                    cursor, "SELECT pg_advisory_xact_lock(?)", (INSTALL_LOCK,)
                )
            for statement in tracking_ddl(self.store):
                self.store.dialect.execute(cursor, statement)
            for projection in self.projections:
                name = self.tracking_name(projection)
                self.tracking.create(cursor, name, generation or 1, projection.schema_hash())
                seen = self.tracking.get(name, cursor)
                assert seen is not None
                if seen.schema_hash != projection.schema_hash():
                    continue
                for statement in projection.ddl(
                    self.store.dialect,
                    shadow=self.shadow,
                    generation=seen.generation,
                    indexes=indexes,
                ):
                    self.store.dialect.execute(cursor, statement)

    def create_indexes(self) -> None:
        """Create the views' secondary indexes that do not exist yet (idempotent)."""
        found = self.tracking.positions()
        with self.store.transaction(commit=True) as cursor:
            for projection in self.projections:
                seen = found.get(self.tracking_name(projection))
                if seen is None:
                    raise LookupError(f"view {projection.name} is not installed")
                for statement in projection.index_ddl(
                    self.store.dialect, shadow=self.shadow, generation=seen.generation
                ):
                    self.store.dialect.execute(cursor, statement)

    def positions(self) -> dict[str, Position]:
        """The current position of each of this projector's views, by view name."""
        found = self.tracking.positions()
        result = {}
        for projection in self.projections:
            seen = found.get(self.tracking_name(projection))
            if seen is None:
                raise LookupError(f"view {projection.name} is not installed")
            if seen.schema_hash != projection.schema_hash():
                raise SchemaChanged(
                    f"view {projection.name} was built for another schema: "
                    f"run `ledger projections rebuild {projection.name}`"
                )
            result[projection.name] = seen
        return result

    def run_once(self) -> int:
        """Apply the next batch of events to every view behind; returns how many
        notifications the batch held (0 when every view is at the head)."""
        positions = self.positions()
        if not positions:
            return 0
        lowest = min(p.position for p in positions.values())
        batch = self.ledger.app.recorder.select_notifications(
            lowest + 1, self.batch_size, inclusive_of_start=True
        )
        if not batch:
            self._mark_synced(list(positions.values()))
            return 0
        self._apply(batch, positions, synced=len(batch) < self.batch_size)
        return len(batch)

    def process(self, batch: Sequence[Notification]) -> int:
        """Apply `batch` (consecutive notifications, in order) to every view that has not
        yet seen them; returns how many view changes were applied. Notifications at or
        below a view's position change nothing, so a redelivery is harmless. Raises
        ValueError when the batch would skip an event a view has not seen."""
        positions = self.positions()
        for projection in self.projections:
            seen = positions[projection.name]
            todo = [n for n in batch if n.id > seen.position]
            if todo:
                following = self.ledger.app.recorder.select_notifications(
                    seen.position + 1, 1, inclusive_of_start=True
                )
                if not following or following[0].id != todo[0].id:
                    raise ValueError(f"the batch skips events view {projection.name} has not seen")
        return self._apply(batch, positions, synced=False)

    def _apply(
        self, batch: Sequence[Notification], positions: dict[str, Position], *, synced: bool
    ) -> int:
        """Apply a consecutive batch in one transaction (see the module docstring)."""
        try:
            with gc_paused():
                return self._apply_batch(batch, positions, synced=synced)
        finally:
            self.cipher.forget()  # what it sealed is remembered for one batch at most

    def _apply_batch(
        self, batch: Sequence[Notification], positions: dict[str, Position], *, synced: bool
    ) -> int:
        decoded = self._decode(batch, positions)
        # each view's decoded events of the batch, in order, in one pass (by topic); each
        # view then takes those past its position
        followed: dict[str, list[tuple[int, Any, EventContext]]] = {
            p.name: [] for p in self.projections
        }
        by_topic = self._followers
        for notification in batch:
            item = decoded.get(notification.id)
            if item is None or item.event is None or item.context is None:
                continue
            entry = (notification.id, item.event, item.context)
            for name in by_topic.get(notification.topic, ()):
                followed[name].append(entry)
        erased_ids = [number for number, item in decoded.items() if item.event is None]
        moving = [
            (projection, positions[projection.name])
            for projection in self.projections
            if batch[-1].id > positions[projection.name].position
        ]
        applied = 0
        with self.store.transaction(commit=True) as cursor:
            # every view's compare-and-set first (each needs its answer), then the views'
            # statements, on PostgreSQL in one pipeline for the whole batch
            for _, seen in moving:
                erased = [number for number in erased_ids if number > seen.position]
                self.tracking.advance(
                    cursor,
                    seen,
                    batch[-1].id,
                    skipped=len(erased),
                    last_skipped=max(erased) if erased else None,
                    synced=synced,
                )
            with self._pipelined(cursor):
                work = []
                for projection, seen in moving:
                    tx = Tx(
                        cursor,
                        self.store.dialect,
                        self._names[projection.name],
                        setwise=self.setwise,
                        keys=self._keys[projection.name],
                        defaults=self._defaults[projection.name],
                    )
                    items = [item for item in followed[projection.name] if item[0] > seen.position]
                    if self.setwise:
                        # every view's prefetch before any view's writes: a view reads only
                        # its own tables, so it reads what it would read after the other
                        # views' writes, and on PostgreSQL the pipeline then carries the
                        # batch's writes without waiting for the server between two views
                        projection.prefetch(tx, [event for _, event, _ in items])
                    work.append((projection, tx, items))
                for projection, tx, items in work:
                    for position, event, context in items:
                        if projection.apply(tx, event, context):
                            applied += 1
                            if self.fault is not None:
                                self.fault("applied", projection.name, position)
                    tx.flush()
                    if self.fault is not None:
                        self.fault("flushed", projection.name, batch[-1].id)
                    self.reads += tx.reads
        if self.fault is not None:
            self.fault("committed", ",".join(positions), batch[-1].id)
        if any(isinstance(item.event, CustomerErased) for item in decoded.values()):
            # the erased customer's rows were deleted (zeroed under secure_delete): leave
            # no older page version of them in the SQLite WAL either
            self.store.dialect.purge(self.store.datastore)
        return applied

    @contextmanager
    def _pipelined(self, cursor: Any) -> Iterator[None]:
        """On PostgreSQL, send the batch's view statements without waiting for each answer
        (psycopg pipeline mode; a read in a handler syncs first, so it sees every
        earlier write). Still inside the batch's one transaction: an error, raised at
        the latest when the pipeline syncs, rolls the whole batch back."""
        if self.store.kind != "postgres":
            yield
            return
        with cursor.connection.pipeline():
            yield

    def _decode(
        self, batch: Sequence[Notification], positions: dict[str, Position]
    ) -> dict[int, Decoded]:
        """Decrypt each notification that some view behind it follows, once."""
        # the topics followed by the views at each position (one entry while they move together)
        behind: dict[int, set[str]] = {}
        for projection in self.projections:
            behind.setdefault(positions[projection.name].position, set()).update(
                self._topics[projection.name]
            )
        unpack = Envelope.unpack
        if len(behind) == 1:
            ((position, topics),) = behind.items()
            wanted = [
                (notification, unpack(notification.state))
                for notification in batch
                if notification.topic in topics and notification.id > position
            ]
        else:
            wanted = [
                (notification, unpack(notification.state))
                for notification in batch
                if any(
                    notification.id > position and notification.topic in topics
                    for position, topics in behind.items()
                )
            ]
        if self.setwise:
            # each subject's data key fetched and unwrapped once for the batch (one
            # query); shredded keys are never preloaded: their events still raise
            # SubjectErased
            self.ledger.keystore.preload(envelope.key_ref for _, envelope in wanted)
        mapper = self._mapper
        if self._transcoder is not None:
            self._transcoder.forget()  # values shared within one batch only
        # each data key's HKDF extract looked up once for the batch, not per event (None:
        # the subject was erased); dropped with the batch, and at once by a shred
        memo = self._prks is not None
        prks: dict[str, bytes | None] = self._prks if self._prks is not None else {}
        prks.clear()
        result: dict[int, Decoded] = {}
        for notification, envelope in wanted:
            key_ref = envelope.key_ref
            originator = str(notification.originator_id)
            event: Any | None = None
            if isinstance(mapper, EnvelopeMapper):  # each envelope parsed once
                found = prks.get(key_ref, UNKNOWN)  # one lookup: a shred may empty it meanwhile
                if found is not UNKNOWN:
                    prk = cast(bytes | None, found)
                else:
                    try:
                        prk = self.ledger.keystore.prk_by_ref(key_ref)
                    except SubjectErased:
                        prk = None
                    if memo:
                        prks[key_ref] = prk
                if prk is not None:  # None: erased
                    event = mapper.open_with_prk(notification, envelope, prk, originator)
            else:
                with suppress(SubjectErased):
                    event = mapper.to_domain_event(notification)
            context = EventContext(
                position=notification.id,
                originator_id=originator,
                originator_version=notification.originator_version,
                key_ref=key_ref,
                cipher=self.cipher,
                index=self.index,
            )
            result[notification.id] = Decoded(event, key_ref, context)
        prks.clear()
        return result

    def _mark_synced(self, positions: list[Position]) -> None:
        """At the head: refresh `synced_at` (at most every SYNC_MARK_SECONDS)."""
        now = time.monotonic()
        if now - self._last_sync_mark < SYNC_MARK_SECONDS:
            return
        self._last_sync_mark = now
        self.tracking.mark_synced(positions)

    def catch_up(self, progress: Callable[[int], None] | None = None) -> int:
        """Run batches until every view is at the head; returns notifications read."""
        total = 0
        while True:
            count = self.run_once()
            total += count
            if progress is not None and count:
                progress(min(p.position for p in self.positions().values()))
            if count < self.batch_size:
                return total
