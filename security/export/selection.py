"""Which events of the sealed log an export discloses, read in batches.

Customers select the events under their data keys. A window `[since, until)`
selects every event of the scope in its log range (`security.export.window`: the
seqs between the checkpoints recorded around it, whose completeness the bundle
proves), and elsewhere every readable event whose `occurred_at` (else `timestamp`)
lies in it; an erased event's time cannot be read, so outside the range it is placed
between the record times of its nearest readable neighbours and selected when that
interval meets the window. Memory holds one byte per leaf for a window's selection.

A customer selection without a window does not read the log: the store's subject
index (`security.subject_streams`) names the customers' streams and the log position
of each of their events, so the export reads those events only (`indexed_events`),
whatever the log's size. Each event is still checked against its sealed leaf.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from datetime import datetime
from typing import Any
from uuid import UUID

from eventsourcing.persistence import Notification

from ledger_verify.bundle.events import humanise
from security.bootstrap import Ledger
from security.export.disclosed_keys import DataKey, KeyDirectory, event_state
from security.export.scope import ExportScope, aware
from security.export.writer import BundleWriter
from security.keys.envelope import Envelope

BATCH = 1000
Progress = Callable[[int, int], None]


def event_times(state: dict[str, Any]) -> tuple[datetime | None, datetime | None]:
    """(event time: occurred_at else timestamp, record time: timestamp else occurred_at)."""

    def parse(name: str) -> datetime | None:
        value = humanise(state.get(name))
        try:
            return aware(datetime.fromisoformat(value)) if isinstance(value, str) else None
        except ValueError:
            return None

    occurred, recorded = parse("occurred_at"), parse("timestamp")
    return occurred or recorded, recorded or occurred


def batches(ledger: Ledger, last_nid: int) -> Iterator[Sequence[Notification]]:
    """The sealed events in notification order, BATCH at a time."""
    start: int | None = None
    while start is None or start < last_nid:
        batch = ledger.app.recorder.select_notifications(
            start=start, limit=BATCH, stop=last_nid, inclusive_of_start=start is None
        )
        if not batch:
            return
        yield batch
        start = batch[-1].id


def indexed_events(
    ledger: Ledger, customers: Sequence[str], wanted: set[str], size: int
) -> list[tuple[int, Notification]] | None:
    """(seq, event) of every event under `wanted` keys sealed below `size`, in log
    order, read through the subject index; None when the store has no index."""
    index = ledger.subject_streams
    if index is None:
        return None
    streams: dict[UUID, None] = {}
    for customer in customers:
        streams.update(dict.fromkeys(index.streams_of(UUID(customer))))
    positions = index.positions(list(streams))
    versions: dict[UUID, list[int]] = {stream: [] for stream in streams}
    for stream, version in positions:
        versions[stream].append(version)
    for stream, held in versions.items():
        if sorted(held) != list(range(1, len(held) + 1)):
            raise SealedEventMissing(f"events of stream {stream} are missing from the store")
    found: list[tuple[int, Notification]] = []
    recorder = ledger.app.recorder
    for seq, nid in sorted(
        (p.seq, p.notification_id) for p in positions.values() if p.seq is not None and p.seq < size
    ):
        notes = recorder.select_notifications(start=nid, limit=1, stop=nid, inclusive_of_start=True)
        if not notes or notes[0].id != nid:
            raise SealedEventMissing(f"the sealed event at seq {seq} is missing from the store")
        if Envelope.unpack(notes[0].state).key_ref in wanted:
            found.append((seq, notes[0]))
    return found


class SealedEventMissing(Exception):
    """An event the subject index names, or one before it in its stream, is no longer
    in the store. (A stream's newest event deleted with its index row leaves no trace
    here: `ledger verify` finds its leaf without an event.)"""


def write_indexed(
    writer: BundleWriter,
    keys: KeyDirectory,
    events: Sequence[tuple[int, Notification]],
    progress: Progress | None,
) -> None:
    """Hand `events` (from `indexed_events`) to `writer`, BATCH at a time."""
    for start in range(0, len(events), BATCH):
        batch = events[start : start + BATCH]
        refs = _refs([note for _, note in batch])
        keys.prefetch(refs)
        writer.prepare([seq for seq, _ in batch])
        for (seq, note), ref in zip(batch, refs, strict=True):
            writer.add(seq, note, keys.get(ref, seq))
        if progress is not None:
            progress(start + len(batch), len(events))


def _refs(batch: Sequence[Notification]) -> list[str]:
    return [Envelope.unpack(note.state).key_ref for note in batch]


def select_window(
    ledger: Ledger,
    scope: ExportScope,
    keys: KeyDirectory,
    wanted: set[str] | None,
    size: int,
    last_nid: int,
    progress: Progress | None,
    span: tuple[int, int] = (0, 0),
) -> bytearray:
    """One byte per leaf, 1 where the leaf is in the window (see the module docstring),
    and for every candidate (an event of the customers, or any event without
    customers) with a seq in the window's log range `span` [start, end)."""
    selected = bytearray(size)
    run_start: int | None = None  # first erased candidate still waiting for its next neighbour
    low: datetime | None = None  # record time of the readable event before that run
    previous: tuple[Notification, DataKey, int] | None = None  # decrypted only if a run needs it
    seq = 0

    def record_time(note: Notification, key: DataKey, at: int) -> datetime | None:
        state = event_state(note, key, at)
        return event_times(state)[1] if state is not None else None

    for batch in batches(ledger, last_nid):
        refs = _refs(batch)
        keys.prefetch(refs)
        for note, ref in zip(batch, refs, strict=True):
            key = keys.get(ref, seq)
            candidate = wanted is None or ref in wanted
            ranged = span[0] <= seq < span[1]  # proven complete: always disclosed
            if key.dek is None:
                if candidate:
                    if run_start is None:
                        run_start = seq
                        low = record_time(*previous) if previous is not None else None
                    selected[seq] = 3 if ranged else 2
            else:
                if candidate:
                    state = event_state(note, key, seq)
                    moment = event_times(state)[0] if state is not None else None
                    inside = moment is not None and scope.contains(moment)
                    selected[seq] = 1 if ranged or inside else 0
                if run_start is not None:
                    verdict = 1 if scope.meets(low, record_time(note, key, seq)) else 0
                    selected[run_start:seq] = selected[run_start:seq].replace(
                        b"\x02", bytes([verdict])
                    )
                    run_start = None
                previous = (note, key, seq)
            seq += 1
        if progress is not None:
            progress(seq, 2 * size)
    if run_start is not None:
        verdict = 1 if scope.meets(low, None) else 0
        selected[run_start:seq] = selected[run_start:seq].replace(b"\x02", bytes([verdict]))
    return selected.replace(b"\x03", b"\x01")


def write_events(
    ledger: Ledger,
    writer: BundleWriter,
    keys: KeyDirectory,
    selected: bytearray | None,
    wanted: set[str] | None,
    size: int,
    last_nid: int,
    progress: Progress | None,
) -> int:
    """Stream the sealed events, handing the ones in scope to `writer`; returns how
    many events were read (the checkpoint size, if the store matches its log)."""
    seq, done = 0, size if selected is not None else 0
    for batch in batches(ledger, last_nid):
        refs = _refs(batch)
        if selected is not None:
            take = [selected[seq + i] == 1 for i in range(len(batch))]
        else:
            take = [wanted is None or ref in wanted for ref in refs]
        keys.prefetch(ref for ref, chosen in zip(refs, take, strict=True) if chosen)
        writer.prepare([seq + i for i, chosen in enumerate(take) if chosen])
        for i, note in enumerate(batch):
            if take[i]:
                writer.add(seq + i, note, keys.get(refs[i], seq + i))
        seq += len(batch)
        if progress is not None:
            progress(done + seq, done + size)
    return seq
