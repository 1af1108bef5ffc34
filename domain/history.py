"""History: the state of an aggregate as of any moment, and the changes between versions.

This is what compliance officers audit: for each version, which field went from what
to what, who did it (actor and role), through which channel, when and why.
"""

from __future__ import annotations

from collections.abc import Iterable
from copy import deepcopy
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from domain.events import LedgerAggregate, LedgerEvent


@dataclass(frozen=True)
class Change:
    """One field's change at one version."""

    field: str
    old: Any
    new: Any
    actor_id: str
    role: str
    at: datetime
    reason: str | None
    version: int
    event: str
    channel: str
    source: str | None = None


def version_as_of(events: Iterable[LedgerEvent], at: datetime) -> int | None:
    """The last version whose `occurred_at` is at or before `at`; None if none is.

    Events of one aggregate are in version order and their times never go back, so the
    scan stops at the first later event.
    """
    version: int | None = None
    for event in events:
        if event.occurred_at > at:
            break
        version = event.originator_version
    return version


def replay(events: Iterable[LedgerEvent]) -> LedgerAggregate | None:
    """The aggregate the events make, or None for no events."""
    aggregate: Any = None
    for event in events:
        aggregate = event.mutate(aggregate)
    return aggregate if isinstance(aggregate, LedgerAggregate) else None


def changes_between(
    events: Iterable[LedgerEvent], from_version: int, to_version: int
) -> list[Change]:
    """Every field change made by the versions after `from_version` up to `to_version`.

    Version 0 stands for "before the aggregate existed": the changes of version 1 are
    the fields it set, against their defaults. Fields are listed in the aggregate's own
    order within a version.
    """
    aggregate: Any = None
    before: dict[str, Any] = {}
    found: list[Change] = []
    for event in events:
        version = event.originator_version
        if version > to_version:
            break
        aggregate = event.mutate(aggregate)
        if version == 1:
            # Before creation the fields held their defaults: only what was set is a change.
            before = type(aggregate).blank(aggregate.id, event.occurred_at).audit_state()
        after = deepcopy(aggregate.audit_state())
        if version > from_version:
            for name in [*after, *(key for key in before if key not in after)]:
                old, new = before.get(name), after.get(name)
                if old != new:
                    found.append(_change(event, name, old, new))
        before = after
    return found


def _change(event: LedgerEvent, name: str, old: Any, new: Any) -> Change:
    source = getattr(event, "source", None)
    return Change(
        field=name,
        old=old,
        new=new,
        actor_id=event.actor_id,
        role=event.actor_role,
        at=event.occurred_at,
        reason=event.reason,
        version=event.originator_version,
        event=type(event).__name__,
        channel=event.channel,
        source=source if isinstance(source, str) else None,
    )
