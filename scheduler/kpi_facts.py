"""What a performance evaluation counts, per customer, read from the customer's own events.

`Membership` is a customer's history as the KPIs need it: when it became a customer
(registered active, or a prospect activated), when the relationship ended, which branch
and relationship manager it belonged to over time, and its activity (profit and
products per recorded period). Everything comes from the customer's and its activity's
events, so a period evaluated months later counts what was true in that period.

Boundaries are days: a customer is "present at" day B when it became a customer before
B and its relationship had not ended before B. For a period [S, E): at start = present
at S, at end = present at E, new = present at E and joined on or after S, lost = present
at S and not at E. So at end - new = at start - lost, as the KPI formulas require.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any
from uuid import UUID

from domain.activity import TransactionsRecorded
from domain.customer import (
    CustomerRegistered,
    CustomerStatusChanged,
    ProfileFieldChanged,
    RelationshipEnded,
)
from domain.ids import activity_id
from domain.rules.months import add_months


@dataclass
class Membership:
    """One customer's membership, assignment and activity history."""

    customer_id: UUID
    joined_on: date | None = None
    left_on: date | None = None
    # (from when, branch, relationship manager), in event order
    assignments: list[tuple[datetime, str | None, str | None]] = field(default_factory=list)
    # (period end, profit contribution, products)
    activity: list[tuple[date, Decimal, tuple[str, ...]]] = field(default_factory=list)

    def present_at(self, day: date) -> bool:
        """A customer at the start of `day`: joined before it and not ended before it."""
        if self.joined_on is None or self.joined_on >= day:
            return False
        return self.left_on is None or self.left_on >= day

    def assignment_at(self, moment: datetime) -> tuple[str | None, str | None]:
        """(branch, relationship manager) in force just before `moment`."""
        current: tuple[str | None, str | None] = (None, None)
        for since, branch, manager in self.assignments:
            if since >= moment and current != (None, None):
                break
            current = (branch, manager)
        return current

    def value_at(self, day: date, window_months: int) -> Decimal:
        """Profit contribution over the window of months ending on `day` (as the value
        assessment computes current value)."""
        start = add_months(day, -window_months)
        return sum((p for on, p, _ in self.activity if start < on <= day), Decimal(0))

    def products_by(self, day: date) -> set[str]:
        """Products held in periods ending on or before `day`."""
        return {p for on, _, products in self.activity if on <= day for p in products}


def load_membership(app: Any, customer_id: UUID) -> Membership:
    """Read a customer's membership from its events (SubjectErased for an erased one)."""
    member = Membership(customer_id)
    branch: str | None = None
    manager: str | None = None
    for event in app.events_of(customer_id):
        if isinstance(event, CustomerRegistered):
            branch, manager = event.branch, event.relationship_manager
            member.assignments.append((event.occurred_at, branch, manager))
            if event.status == "active":
                member.joined_on = event.registered_on
        elif isinstance(event, CustomerStatusChanged):
            if event.from_status == "prospect" and member.joined_on is None:
                member.joined_on = event.occurred_at.date()
        elif isinstance(event, ProfileFieldChanged) and event.field in (
            "branch",
            "relationship_manager",
        ):
            if event.field == "branch":
                branch = event.value
            else:
                manager = event.value
            member.assignments.append((event.occurred_at, branch, manager))
        elif isinstance(event, RelationshipEnded):
            member.left_on = event.ended_on
    for event in app.events_of(activity_id(customer_id)):
        if isinstance(event, TransactionsRecorded):
            member.activity.append(
                (event.period_end, event.profit_contribution, tuple(event.products))
            )
    return member


def day_start(day: date) -> datetime:
    """00:00 UTC of `day`."""
    return datetime.combine(day, time.min, tzinfo=UTC)


def counted_at(member: Membership, end: date) -> datetime:
    """The moment whose assignment a customer is counted under for a period ending at
    `end`: the period's end, or the day after the relationship ended if earlier."""
    if member.left_on is not None and member.left_on < end:
        return day_start(member.left_on + timedelta(days=1))
    return day_start(end)
