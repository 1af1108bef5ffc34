"""The base of every aggregate and event of the ledger.

Every event carries who (actor id and role), through which channel, why (reason) and
when (`occurred_at`, from the application's injected clock), and names its subject:
`subject_id` is the customer the event is about, or None. The encryption layer picks
the per-customer key from `subject_id`, so everything about a customer is shredded
with that customer's key.

Time told truly: `occurred_at` is the real moment the event is recorded, never an
earlier one. A scheduler run "as of" a past moment (a backfill or replay) evaluates its
rules as of that moment, but records inside `recording_clock(real_clock)`, so its
events are dated when they were written; the moment they are about travels in their
own fields (`as_of`, `period`, due dates) and in the run's reason ("backfill run of
<job> <period>").

Streams that can begin with any of several facts (a customer's interaction log, the
activity ledger, a consent record...) use `OpeningEvent`: such an event creates the
aggregate when it is the first of its stream and mutates it otherwise, so no
artificial "opened" event is needed.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import datetime
from typing import Any, Self, TypeVar
from uuid import UUID

from eventsourcing.domain import Aggregate, CanInitAggregate, CanMutateAggregate
from eventsourcing.utils import get_topic

from domain.actor import Actor
from domain.errors import DomainError, NotFound, VersionConflict
from domain.personal_data import refuse_c3_values

A = TypeVar("A", bound="LedgerAggregate")
_RECORDING_CLOCK: ContextVar[Callable[[], datetime] | None] = ContextVar(
    "recording_clock", default=None
)


@contextmanager
def recording_clock(clock: Callable[[], datetime]) -> Iterator[None]:
    """Within the block (this thread or task only), events are dated by `clock`: the
    real time, while the application's own clock is shifted to an as-of moment."""
    token = _RECORDING_CLOCK.set(clock)
    try:
        yield
    finally:
        _RECORDING_CLOCK.reset(token)


def recording_time(at: datetime) -> datetime:
    """The moment an event given `at` is recorded: the recording clock's time inside
    `recording_clock` (never earlier than `at`), else `at` itself."""
    clock = _RECORDING_CLOCK.get()
    if clock is None:
        return at
    real = clock()
    if real.tzinfo is None or real.utcoffset() is None:
        raise DomainError("event times must be timezone-aware", code="naive_time")
    return max(real, at)


class LedgerEvent(Aggregate.Event):
    """A fact recorded in the ledger, with its actor, channel, reason and time."""

    actor_id: str
    actor_role: str
    channel: str
    reason: str | None
    occurred_at: datetime

    def __post_init__(self) -> None:
        super().__post_init__()
        # The domain boundary for authentication data: no event carrying C3 can exist.
        refuse_c3_values(type(self).__name__, vars(self))

    @property
    def subject_id(self) -> UUID | None:
        """The customer this event is about; None for events about no customer."""
        return None


class CustomerEvent(LedgerEvent):
    """An event about one customer, named by the stored `customer_id`."""

    customer_id: UUID

    @property
    def subject_id(self) -> UUID | None:
        """The customer the event is about: its `customer_id`."""
        return self.customer_id


class OpeningEvent(LedgerEvent, Aggregate.Created):
    """An event that opens its aggregate's stream when first, and extends it otherwise."""

    def mutate(self, aggregate: Any) -> Any:
        """Create the aggregate from this event when there is none yet, else evolve it."""
        if aggregate is None:
            return CanInitAggregate.mutate(self, None)
        return CanMutateAggregate.mutate(self, aggregate)


class CustomerOpeningEvent(OpeningEvent, CustomerEvent):
    """An opening event about one customer."""


class LedgerAggregate(Aggregate):
    """Base of the ledger's aggregates.

    Commands check their invariants before recording anything; `_record` turns the
    actor and time into the common event fields. A "blank" aggregate (version 0) is an
    unsaved stream that the first opening event will create.
    """

    @classmethod
    def blank(cls, aggregate_id: UUID, at: datetime) -> Self:
        """Return an empty, unsaved aggregate at version 0, ready for its opening event."""
        aggregate = cls.__new__(cls)
        aggregate.__base_init__(originator_id=aggregate_id, originator_version=0, timestamp=at)
        aggregate.__init__()  # type: ignore[misc]
        return aggregate

    @property
    def exists(self) -> bool:
        """True once the aggregate has at least one event (recorded or pending)."""
        return self.version > 0

    def require_exists(self) -> None:
        """Raise NotFound for a blank aggregate: commands other than openers need a stream."""
        if not self.exists:
            raise NotFound(f"{type(self).__name__} not found")

    def _record(
        self, event_class: type[LedgerEvent], actor: Actor, at: datetime, **fields: Any
    ) -> None:
        """Trigger `event_class` with the common fields filled from `actor` and `at`
        (`at` is replaced by the real time inside `recording_clock`)."""
        if at.tzinfo is None:
            raise DomainError("event times must be timezone-aware", code="naive_time")
        at = recording_time(at)
        if issubclass(event_class, OpeningEvent):
            fields["originator_topic"] = get_topic(type(self))
        elif not self.exists:
            raise NotFound(f"{type(self).__name__} not found")
        self.trigger_event(
            event_class,
            timestamp=at,
            occurred_at=at,
            actor_id=actor.actor_id,
            actor_role=actor.role,
            channel=actor.channel,
            reason=actor.reason,
            **fields,
        )

    def audit_state(self) -> dict[str, Any]:
        """The aggregate's public attributes: what history and the audit diff compare."""
        return {key: value for key, value in vars(self).items() if not key.startswith("_")}


def require_version(aggregate: LedgerAggregate, expected_version: int | None) -> None:
    """Raise VersionConflict when `expected_version` is given and is not the current one."""
    if expected_version is not None and aggregate.version != expected_version:
        raise VersionConflict(
            f"{type(aggregate).__name__} is at version {aggregate.version}, not {expected_version}"
        )
