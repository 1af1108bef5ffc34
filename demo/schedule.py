"""The demo's plumbing: a schedule of timed commands, the facts it gathers, staff, time.

`demo.year` runs the schedule in time order; the customer and firm planners
(`demo.customers`, `demo.cases`, `demo.firm`) fill it.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone
from typing import TYPE_CHECKING
from uuid import UUID

from demo.people import uuid_from
from domain.actor import Actor

if TYPE_CHECKING:
    from domain.application import LedgerApplication

TZ = timezone(timedelta(hours=8))
SYSTEM = Actor("scheduler", "system", "scheduler")
COMPLIANCE = Actor("co-001", "compliance_officer", "console", "demo compliance review")


@dataclass
class Schedule:
    """Timed commands, run in (time, order of scheduling) order."""

    items: list[tuple[datetime, int, Callable[[], object]]] = field(default_factory=list)

    def at(self, when: datetime, command: Callable[[], object]) -> None:
        """Run `command` at `when` (after anything scheduled earlier for the same time)."""
        self.items.append((when, len(self.items), command))


@dataclass
class Facts:
    """What the demo did, for the summary and the KPI inputs of its evaluations."""

    registered: dict[UUID, tuple[datetime, str]] = field(default_factory=dict)
    ended: dict[UUID, datetime] = field(default_factory=dict)
    restricted: set[UUID] = field(default_factory=set)
    prospects: set[UUID] = field(default_factory=set)
    marketing: dict[UUID, datetime] = field(default_factory=dict)
    answers: list[tuple[datetime, str, str, int]] = field(default_factory=list)
    received: list[tuple[datetime, str]] = field(default_factory=list)
    resolved: list[tuple[datetime, str, bool | None, bool]] = field(default_factory=list)
    case_states: dict[UUID, str] = field(default_factory=dict)
    cases: list[UUID] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)
    products: dict[UUID, int] = field(default_factory=dict)
    targets: set[str] = field(default_factory=set)
    greetings: set[UUID] = field(default_factory=set)
    # (festival, day) of every festival greeted in the demo's window
    festivals: list[tuple[str, date]] = field(default_factory=list)

    def count(self, name: str) -> None:
        """Add one to the counter `name`."""
        self.counts[name] = self.counts.get(name, 0) + 1


def day_at(start: date, day: float, hour: int = 10, minute: int = 0) -> datetime:
    """A time `day` days after `start` at hour:minute, Beijing time."""
    return datetime.combine(start + timedelta(days=int(day)), time(hour, minute), TZ)


def quarter_ends(first: date, last: date) -> list[date]:
    """Every quarter end after `first`, up to and including `last`."""
    ends: list[date] = []
    year = first.year
    while True:
        for month, day in ((3, 31), (6, 30), (9, 30), (12, 31)):
            end = date(year, month, day)
            if end > last:
                return ends
            if end > first:
                ends.append(end)
        year += 1


class StoryBase:
    """What every part of a customer's planned year shares."""

    def __init__(
        self,
        app: LedgerApplication,
        rng: random.Random,
        schedule: Schedule,
        facts: Facts,
        index: int,
        start: date,
        end: date,
    ) -> None:
        self.app, self.rng, self.schedule, self.facts = app, rng, schedule, facts
        self.index, self.start, self.end = index, start, end
        self.id = uuid_from(rng)
        self.horizon = (end - start).days
        self.greetings = False  # a live greetings consent was planned
        self.greetings_until: int | None = None  # the day the greetings consent ends, if any
        self.suspended: tuple[date, date] | None = None  # business suspended, first to last day

    def actor(self, role: str, branch: str) -> Actor:
        """A member of the branch's staff in `role`."""
        prefix = {"front_office": "fo", "relationship_manager": "rm"}[role]
        channel = "branch" if role == "front_office" else "phone"
        return Actor(f"{prefix}-{branch.lower()}-{self.rng.randint(1, 4)}", role, channel)
