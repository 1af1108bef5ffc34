"""History queries: any aggregate as of a moment, its timeline, the changes between versions."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

from domain.customer import Customer
from domain.errors import NotFound, ValidationFailed
from domain.events import LedgerAggregate
from domain.history import Change, changes_between, replay, version_as_of
from domain.records import CustomerRecord, record_of
from domain.services.base import LedgerServices


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
        return [
            TimelineEntry(
                version=e.originator_version,
                event=type(e).__name__,
                at=e.occurred_at,
                actor_id=e.actor_id,
                role=e.actor_role,
                channel=e.channel,
                reason=e.reason,
            )
            for e in self._events_or_not_found(aggregate_id)
        ]
