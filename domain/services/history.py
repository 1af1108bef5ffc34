"""History queries: any aggregate as of a moment, its timeline, the changes between versions."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields
from datetime import datetime
from typing import Any
from uuid import UUID

from domain.customer import Customer
from domain.errors import NotFound, ValidationFailed
from domain.events import LedgerAggregate, LedgerEvent
from domain.history import Change, changes_between, replay, version_as_of
from domain.personal_data import masking_of_attribute, personal_fields
from domain.ports import EventPosition
from domain.records import CustomerRecord, record_of
from domain.services.base import LedgerServices

TIMELINE_PAGE = 100
TIMELINE_PAGE_MAX = 1000


@dataclass(frozen=True)
class TimelineEntry:
    """One event of an aggregate's history, without its data."""

    version: int
    event: str
    at: datetime
    actor_id: str
    role: str
    channel: str
    reason: str | None


@dataclass(frozen=True)
class FieldChange:
    """One field of the aggregate before and after an event; `masking` is how to mask
    its values on display (None: not personal)."""

    field: str
    before: Any
    after: Any
    masking: str | None


@dataclass(frozen=True)
class RecordedField:
    """One field the event itself records (what the customer was told, the advice
    given, ...), whether or not the aggregate keeps it; `masking` as for FieldChange."""

    field: str
    value: Any
    masking: str | None


@dataclass(frozen=True)
class CustomerEventEntry(TimelineEntry):
    """One event about a customer, in whichever stream it was recorded, with where it
    sits in the logs (`seq`: the leaf index `/integrity/proof` takes, None until
    sealed) and what it changed."""

    seq: int | None
    notification_id: int
    stream_id: UUID
    stream: str
    changes: tuple[FieldChange, ...]
    recorded: tuple[RecordedField, ...] = ()


@dataclass(frozen=True)
class CustomerTimeline:
    """A page of a customer's timeline, oldest first; `next_after` is the cursor of the
    next page (None on the last)."""

    customer_id: UUID
    as_of: datetime | None
    entries: list[CustomerEventEntry]
    next_after: int | None


class HistoryQueries(LedgerServices):
    """What compliance officers audit."""

    def aggregate_as_of(self, aggregate_id: UUID, at: datetime) -> LedgerAggregate:
        """The aggregate at its last version whose `occurred_at` is at or before `at`
        (NotFound if it did not exist yet)."""
        if at.tzinfo is None:
            raise ValidationFailed({"at": "must be timezone-aware"})
        events = self._events_or_not_found(aggregate_id)
        version = version_as_of(events, at)
        if version is None:
            raise NotFound("it did not exist at that time")
        aggregate = replay(events[:version])
        assert aggregate is not None
        return aggregate

    def customer_as_of(self, customer_id: UUID, at: datetime) -> CustomerRecord:
        """The customer as it was at `at`."""
        aggregate = self.aggregate_as_of(customer_id, at)
        if not isinstance(aggregate, Customer):
            raise NotFound("Customer not found")
        return record_of(CustomerRecord, aggregate)

    def state_as_of(self, aggregate_id: UUID, at: datetime) -> dict[str, Any]:
        """Any aggregate's fields as of `at`, with its type, id and version."""
        aggregate = self.aggregate_as_of(aggregate_id, at)
        return {
            "type": type(aggregate).__name__,
            "id": aggregate.id,
            "version": aggregate.version,
            **aggregate.audit_state(),
        }

    def changes(
        self, aggregate_id: UUID, from_version: int = 0, to_version: int | None = None
    ) -> list[Change]:
        """Every field change after `from_version` up to `to_version` (default: the
        latest), with who, when, through which channel and why."""
        events = self._events_or_not_found(aggregate_id)
        last = events[-1].originator_version
        upper = last if to_version is None else to_version
        if not 0 <= from_version <= upper <= last:
            raise ValidationFailed({"to_version": f"versions run from 0 to {last}"})
        return changes_between(events, from_version, upper)

    def timeline(self, aggregate_id: UUID) -> list[TimelineEntry]:
        """The aggregate's events in order: what happened, when, by whom, why."""
        return [TimelineEntry(**_told(e)) for e in self._events_or_not_found(aggregate_id)]

    def customer_timeline(
        self,
        customer_id: UUID,
        *,
        as_of: datetime | None = None,
        after: int = 0,
        limit: int = TIMELINE_PAGE,
    ) -> CustomerTimeline:
        """Every event about the customer, across all its streams, in log order.

        Only events whose subject is the customer are listed (a stream shared with
        others, such as a crisis, shows only this customer's events); with `as_of`,
        only those that occurred at or before it. Page by `after` (a notification id:
        the previous page's `next_after`) and `limit` (1 to TIMELINE_PAGE_MAX). The
        customer must exist and not be erased (NotFound / SubjectErased). Reads only:
        nothing is recorded.
        """
        if as_of is not None and as_of.tzinfo is None:
            raise ValidationFailed({"as_of": "must be timezone-aware"})
        if not 1 <= limit <= TIMELINE_PAGE_MAX:
            raise ValidationFailed({"limit": f"from 1 to {TIMELINE_PAGE_MAX}"})
        self._load(Customer, customer_id)
        streams, positions = self._located(customer_id)
        entries: list[CustomerEventEntry] = []
        for stream_id in streams:
            entries.extend(self._stream_entries(customer_id, stream_id, positions, as_of))
        entries.sort(key=lambda entry: entry.notification_id)
        listed = [entry for entry in entries if entry.notification_id > after]
        page = listed[:limit]
        more = len(listed) > limit
        return CustomerTimeline(
            customer_id, as_of, page, page[-1].notification_id if more else None
        )

    def _located(
        self, customer_id: UUID
    ) -> tuple[list[UUID], Mapping[tuple[UUID, int], EventPosition]]:
        """The customer's streams (its own first) and the positions of their events:
        from the store's index, or, in memory without one, by reading the log once."""
        index = self.subject_streams
        if index is not None:
            found = list(index.streams_of(customer_id))
        else:
            by_subject, scanned = self._scan()
            found = sorted(by_subject.get(customer_id, set()))
        streams = [customer_id, *(stream for stream in found if stream != customer_id)]
        positions = index.positions(streams) if index is not None else scanned
        return streams, positions

    def _scan(
        self,
    ) -> tuple[dict[UUID, set[UUID]], dict[tuple[UUID, int], EventPosition]]:
        """Without a store index (in memory): read the whole log once."""
        streams: dict[UUID, set[UUID]] = {}
        positions: dict[tuple[UUID, int], EventPosition] = {}
        start: int | None = None
        while True:
            batch = self.recorder.select_notifications(
                start=start, limit=500, inclusive_of_start=start is None
            )
            if not batch:
                return streams, positions
            for notification in batch:
                event = self.mapper.to_domain_event(notification)
                key = (UUID(str(notification.originator_id)), notification.originator_version)
                positions[key] = EventPosition(notification.id, None)
                if isinstance(event, LedgerEvent) and event.subject_id is not None:
                    streams.setdefault(event.subject_id, set()).add(key[0])
            start = batch[-1].id

    def _stream_entries(
        self,
        customer_id: UUID,
        stream_id: UUID,
        positions: Mapping[tuple[UUID, int], EventPosition],
        as_of: datetime | None,
    ) -> list[CustomerEventEntry]:
        events = self.events_of(stream_id)
        if not events:
            return []
        by_version: dict[int, list[Change]] = {}
        for change in changes_between(events, 0, events[-1].originator_version):
            by_version.setdefault(change.version, []).append(change)
        aggregate = replay(events[:1])
        kind = type(aggregate)
        entries = []
        for event in events:
            if event.subject_id != customer_id:
                continue
            if as_of is not None and event.occurred_at > as_of:
                continue
            position = positions.get((stream_id, event.originator_version))
            if position is None:  # recorded after the positions were read
                continue
            changes = tuple(
                FieldChange(c.field, c.old, c.new, _masking(kind, c.field))
                for c in by_version.get(event.originator_version, [])
            )
            entries.append(
                CustomerEventEntry(
                    seq=position.seq,
                    notification_id=position.notification_id,
                    stream_id=stream_id,
                    stream=kind.__name__,
                    changes=changes,
                    recorded=_recorded(event),
                    **_told(event),
                )
            )
        return entries


def _told(event: LedgerEvent) -> dict[str, Any]:
    """What every timeline says of an event: which, when, who, through what, why."""
    return {
        "version": event.originator_version,
        "event": type(event).__name__,
        "at": event.occurred_at,
        "actor_id": event.actor_id,
        "role": event.actor_role,
        "channel": event.channel,
        "reason": event.reason,
    }


_METADATA = frozenset(f.name for f in fields(LedgerEvent))


def _recorded(event: LedgerEvent) -> tuple[RecordedField, ...]:
    """The event's own fields (not its metadata), each with its masking: what an
    event says may be kept by no aggregate (the progress told to a complainant, the
    advice given). An event this module's classification does not declare fails
    closed: every field is masked as free text."""
    try:
        personal: Mapping[str, Any] | None = personal_fields(event)
    except KeyError:
        personal = None
    recorded = []
    for field in fields(event):
        if field.name in _METADATA:
            continue
        if personal is None:
            masking: str | None = "free_text"
        else:
            kind = personal.get(field.name)
            masking = None if kind is None else str(kind.masking)
        recorded.append(RecordedField(field.name, getattr(event, field.name), masking))
    return tuple(recorded)


def _masking(aggregate_class: type, field: str) -> str | None:
    masking = masking_of_attribute(aggregate_class, field)
    return None if masking is None else str(masking)
