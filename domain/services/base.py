"""What every chapter's commands share: time, ids, loading and saving aggregates.

Each chapter's commands are a mixin on `LedgerServices`; `domain.application`
combines them into the one `LedgerApplication`. A command loads what it needs, lets
the aggregates check their invariants, and saves every pending event in one atomic
write; if anything is refused, nothing is saved.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import UTC, date, datetime
from typing import Any, TypeVar
from uuid import UUID, uuid4

from eventsourcing.application import AggregateNotFoundError, Application
from eventsourcing.persistence import IntegrityError, JSONTranscoder

from domain.calendars import Calendars
from domain.customer import Customer
from domain.errors import DomainError, NotFound, VersionConflict
from domain.events import LedgerAggregate, LedgerEvent, require_version
from domain.ports import SubjectKeys, SubjectStreams
from domain.settings import RuleSettings
from domain.transcodings import register_domain_transcodings

A = TypeVar("A", bound=LedgerAggregate)


def replay(aggregate: Any, events: Iterable[Any]) -> Any:
    """The library's `project_aggregate` without its per-event `isinstance` check
    against the runtime-checkable `CanMutateProtocol`: a Protocol check walks the
    protocol's attributes on every call (about 6% of a masked customer read's CPU), and
    every stored event is one of ours (the mapper resolves only their topics), which
    all have `mutate`."""
    for event in events:
        aggregate = event.mutate(aggregate)
    return aggregate


def utc_now() -> datetime:
    """The default clock: the current time in UTC."""
    return datetime.now(UTC)


class LedgerServices(Application[UUID]):
    """The shared machinery of the ledger's application service."""

    settings: RuleSettings
    calendars: Calendars
    subject_keys: SubjectKeys | None
    subject_streams: SubjectStreams | None
    clock: Callable[[], datetime]
    new_id: Callable[[], UUID] = staticmethod(uuid4)

    def register_transcodings(self, transcoder: JSONTranscoder) -> None:
        """Register the library's transcodings and the domain's (dates)."""
        super().register_transcodings(transcoder)
        register_domain_transcodings(transcoder)

    # --- time and ids --------------------------------------------------------------

    def now(self) -> datetime:
        """The current time from the injected clock; it must be timezone-aware."""
        at = self.clock()
        if at.tzinfo is None or at.utcoffset() is None:
            raise DomainError("the clock must give timezone-aware times", code="naive_time")
        return at

    def today(self) -> date:
        """Today's date by the injected clock."""
        return self.now().date()

    def _id(self, given: UUID | None) -> UUID:
        return given if given is not None else self.new_id()

    # --- loading and saving --------------------------------------------------------

    def _load(self, cls: type[A], aggregate_id: UUID) -> A:
        """The aggregate, or NotFound; SubjectErased from the mapper passes through."""
        try:
            aggregate: object = self.repository.get(aggregate_id, projector_func=replay)
        except AggregateNotFoundError:
            raise NotFound(f"{cls.__name__} not found") from None
        if not isinstance(aggregate, cls):
            raise NotFound(f"{cls.__name__} not found")
        return aggregate

    def _load_or_blank(self, cls: type[A], aggregate_id: UUID, at: datetime) -> A:
        """The aggregate, or an unsaved blank stream for its first event."""
        try:
            return self._load(cls, aggregate_id)
        except NotFound:
            return cls.blank(aggregate_id, at)

    def _find(self, cls: type[A], aggregate_id: UUID) -> A | None:
        """The aggregate, or None when it does not exist."""
        try:
            return self._load(cls, aggregate_id)
        except NotFound:
            return None

    def _save(self, *aggregates: LedgerAggregate | None) -> int:
        """Save every pending event of `aggregates` atomically; returns how many.

        A concurrent writer that got there first makes the store refuse the write:
        that is a VersionConflict for the caller, and nothing of this command is saved.
        """
        pending = [a for a in aggregates if a is not None and a.pending_events]
        if not pending:
            return 0
        count = sum(len(a.pending_events) for a in pending)
        try:
            self.save(*pending)
        except IntegrityError:
            raise VersionConflict("another write got there first; reload and retry") from None
        return count

    @staticmethod
    def _expect(aggregate: LedgerAggregate, expected_version: int | None) -> None:
        """Raise VersionConflict when the caller saw another version than the current."""
        require_version(aggregate, expected_version)

    def _customer(self, customer_id: UUID, purpose: str) -> Customer:
        """The customer, checked for `purpose` (exists, not erased, not restricted)."""
        customer = self._load(Customer, customer_id)
        customer.require_processing(purpose)
        return customer

    # --- raw events ----------------------------------------------------------------

    def events_of(self, aggregate_id: UUID, *, to_version: int | None = None) -> list[LedgerEvent]:
        """The stored events of an aggregate in version order (empty when unknown)."""
        events = self.events.get(aggregate_id, lte=to_version)
        return [e for e in events if isinstance(e, LedgerEvent)]

    def _events_or_not_found(self, aggregate_id: UUID) -> list[LedgerEvent]:
        events = self.events_of(aggregate_id)
        if not events:
            raise NotFound("no such aggregate")
        return events

    def _require(self, value: Any, message: str) -> None:
        if not value:
            raise NotFound(message)
