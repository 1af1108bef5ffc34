"""Chapter 7: crisis incidents: who is affected, contact, remedy and public statements.

A crisis names no single customer: affected customers are listed by id only, and
statements are public texts, so the whole stream stays under the system key. Each
affected customer's first contact is recorded here by id, channel and time, against the
deadline set when the crisis opened (24 hours by default), with a reference to the
evidence: the contact logged in the customer's own interaction log (under their key).
"""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from domain.actor import Actor
from domain.errors import IllegalTransition, ValidationFailed
from domain.events import LedgerAggregate, LedgerEvent, OpeningEvent

SEVERITIES = ("low", "medium", "high", "critical")
UPDATE_KINDS = ("contact", "remedy", "statement", "note")


class CrisisOpened(OpeningEvent):
    # v2 adds `contact_due_at` (first contact with every affected customer by then) and
    # the `rule_version` that set it.
    class_version = 2

    title: str
    scope: str
    severity: str
    affected_customer_ids: list[str]
    contact_due_at: datetime | None
    rule_version: str | None

    def apply(self, aggregate: Crisis) -> None:
        aggregate.title = self.title
        aggregate.scope = self.scope
        aggregate.severity = self.severity
        aggregate.affected_customer_ids = list(self.affected_customer_ids)
        aggregate.state = "open"
        aggregate.opened_at = self.occurred_at
        aggregate.contact_due_at = self.contact_due_at

    @staticmethod
    def upcast_v1_v2(state: dict[str, object]) -> None:
        """Crises opened before v2 recorded no first-contact deadline."""
        state.update(contact_due_at=None, rule_version=None)


class CrisisCustomerContacted(LedgerEvent):
    """An affected customer was contacted (first contact or a later one).

    `interaction_id` names the contact in the customer's interaction log (the evidence,
    with what was said, under the customer's key); `in_time` is whether it was made by
    the crisis's `contact_due_at` (None when the crisis has none).
    """

    contacted_customer_id: str  # not `customer_id`: the event is the crisis's, under no
    # customer's key (a bundle verifier checks `customer_id` names the event's subject)
    interaction_id: UUID
    contact_channel: str
    first_contact: bool
    in_time: bool | None

    def apply(self, aggregate: Crisis) -> None:
        if self.first_contact:
            aggregate.contacted_customer_ids = [
                *aggregate.contacted_customer_ids,
                self.contacted_customer_id,
            ]
            if aggregate.first_contact_at is None:
                aggregate.first_contact_at = self.occurred_at


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
        self.contact_due_at: datetime | None = None
        self.contacted_customer_ids: list[str] = []
        self.first_contact_at: datetime | None = None

    def open(
        self,
        *,
        title: str,
        scope: str,
        severity: str,
        affected_customer_ids: list[str],
        contact_due_at: datetime | None,
        rule_version: str | None,
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
            contact_due_at=contact_due_at,
            rule_version=rule_version,
        )

    def record_contact(
        self,
        customer_id: UUID,
        interaction_id: UUID,
        contact_channel: str,
        actor: Actor,
        at: datetime,
    ) -> bool | None:
        """Record a contact with an affected customer while the crisis is open; returns
        whether the customer's first contact was in time (None: no deadline). A customer
        not affected is refused with ValidationFailed."""
        self.require_exists()
        if self.state != "open":
            raise IllegalTransition("the crisis is closed")
        key = str(customer_id)
        if key not in self.affected_customer_ids:
            raise ValidationFailed({"customer_id": "not a customer affected by this crisis"})
        first = key not in self.contacted_customer_ids
        in_time = None if self.contact_due_at is None else at <= self.contact_due_at
        self._record(
            CrisisCustomerContacted,
            actor,
            at,
            contacted_customer_id=key,
            interaction_id=interaction_id,
            contact_channel=contact_channel,
            first_contact=first,
            in_time=in_time,
        )
        return in_time

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
