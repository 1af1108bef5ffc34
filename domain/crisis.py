"""Chapter 7: crisis incidents: who is affected, contact, remedy and public statements.

A crisis names no single customer: affected customers are listed by id only, and
statements are public texts, so the whole stream stays under the system key.
"""

from __future__ import annotations

from datetime import datetime

from domain.actor import Actor
from domain.errors import IllegalTransition
from domain.events import LedgerAggregate, LedgerEvent, OpeningEvent

SEVERITIES = ("low", "medium", "high", "critical")
UPDATE_KINDS = ("contact", "remedy", "statement", "note")


class CrisisOpened(OpeningEvent):
    title: str
    scope: str
    severity: str
    affected_customer_ids: list[str]

    def apply(self, aggregate: Crisis) -> None:
        aggregate.title = self.title
        aggregate.scope = self.scope
        aggregate.severity = self.severity
        aggregate.affected_customer_ids = list(self.affected_customer_ids)
        aggregate.state = "open"
        aggregate.opened_at = self.occurred_at


class CrisisUpdated(LedgerEvent):
    update_kind: str
    text: str
    customers_contacted: int

    def apply(self, aggregate: Crisis) -> None:
        aggregate.updates = [*aggregate.updates, self.update_kind]
        aggregate.customers_contacted += self.customers_contacted
        if self.update_kind == "statement":
            aggregate.statements += 1


class CrisisClosed(LedgerEvent):
    summary: str

    def apply(self, aggregate: Crisis) -> None:
        aggregate.state = "closed"
        aggregate.closed_at = self.occurred_at


class Crisis(LedgerAggregate):
    """A crisis incident from opening to closing."""

    def __init__(self) -> None:
        self.title: str | None = None
        self.scope: str | None = None
        self.severity: str | None = None
        self.affected_customer_ids: list[str] = []
        self.state = ""
        self.updates: list[str] = []
        self.customers_contacted = 0
        self.statements = 0
        self.opened_at: datetime | None = None
        self.closed_at: datetime | None = None

    def open(
        self,
        *,
        title: str,
        scope: str,
        severity: str,
        affected_customer_ids: list[str],
        actor: Actor,
        at: datetime,
    ) -> None:
        """Open the incident (once)."""
        if self.exists:
            raise IllegalTransition("the crisis is already open")
        self._record(
            CrisisOpened,
            actor,
            at,
            title=title,
            scope=scope,
            severity=severity,
            affected_customer_ids=affected_customer_ids,
        )

    def update(
        self, update_kind: str, text: str, customers_contacted: int, actor: Actor, at: datetime
    ) -> None:
        """Record a contact round, remedy, public statement or note; only while open."""
        self.require_exists()
        if self.state != "open":
            raise IllegalTransition("the crisis is closed")
        self._record(
            CrisisUpdated,
            actor,
            at,
            update_kind=update_kind,
            text=text,
            customers_contacted=customers_contacted,
        )

    def close(self, summary: str, actor: Actor, at: datetime) -> None:
        """Close the incident; it needs at least one public statement or remedy first."""
        self.require_exists()
        if self.state != "open":
            raise IllegalTransition("the crisis is already closed")
        if not {"statement", "remedy"} & set(self.updates):
            raise IllegalTransition("record a remedy or public statement before closing")
        self._record(CrisisClosed, actor, at, summary=summary)
