"""Chapter 1 and 6: a customer's activity: transactions from the core system.

One stream per customer. Each event is a period summary (or a single trade, a period
of one day) with count, amount, products and profit contribution; the stream keeps
what the value, churn and grading rules need. A batch reference from the core system
makes a re-sent batch a refused duplicate rather than a double count.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from uuid import UUID

from domain.actor import Actor
from domain.errors import IllegalTransition
from domain.events import CustomerOpeningEvent, LedgerAggregate
from domain.rules.value import Transaction


@dataclass(frozen=True)
class ActivityPeriod:
    """One recorded period: dated on its last day, as the value rules expect."""

    on: date
    count: int
    amount: Decimal
    profit: Decimal


class TransactionsRecorded(CustomerOpeningEvent):
    period_start: date
    period_end: date
    count: int
    amount: Decimal
    products: list[str]
    profit_contribution: Decimal
    source_ref: str

    def apply(self, aggregate: Activity) -> None:
        aggregate.customer_id = self.customer_id
        aggregate.periods = [
            *aggregate.periods,
            ActivityPeriod(self.period_end, self.count, self.amount, self.profit_contribution),
        ]
        aggregate.products_held = sorted({*aggregate.products_held, *self.products})
        aggregate.source_refs = [*aggregate.source_refs, self.source_ref]
        if aggregate.first_on is None or self.period_start < aggregate.first_on:
            aggregate.first_on = self.period_start
        if aggregate.last_on is None or self.period_end > aggregate.last_on:
            aggregate.last_on = self.period_end


class Activity(LedgerAggregate):
    """What the customer did: recorded periods, products held, first and last activity."""

    def __init__(self) -> None:
        self.customer_id: UUID | None = None
        self.periods: list[ActivityPeriod] = []
        self.products_held: list[str] = []
        self.source_refs: list[str] = []
        self.first_on: date | None = None
        self.last_on: date | None = None

    def transactions(self) -> tuple[Transaction, ...]:
        """The periods in the shape of the value rules' input."""
        return tuple(Transaction(p.on, p.amount, p.count) for p in self.periods)

    def totals(self, start: date, end: date) -> tuple[int, Decimal, Decimal]:
        """Count, amount and profit of the periods ending after `start`, up to `end`."""
        inside = [p for p in self.periods if start < p.on <= end]
        return (
            sum(p.count for p in inside),
            sum((p.amount for p in inside), Decimal(0)),
            sum((p.profit for p in inside), Decimal(0)),
        )

    def record(
        self,
        *,
        customer_id: UUID,
        period_start: date,
        period_end: date,
        count: int,
        amount: Decimal,
        products: list[str],
        profit_contribution: Decimal,
        source_ref: str,
        actor: Actor,
        at: datetime,
    ) -> None:
        """Record a period summary; a batch reference already recorded is refused."""
        if source_ref in self.source_refs:
            raise IllegalTransition("this batch was already recorded")
        self._record(
            TransactionsRecorded,
            actor,
            at,
            customer_id=customer_id,
            period_start=period_start,
            period_end=period_end,
            count=count,
            amount=amount,
            products=sorted(products),
            profit_contribution=profit_contribution,
            source_ref=source_ref,
        )
