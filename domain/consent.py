"""Chapter 2 and 7: consent, one stream per customer and purpose.

Granted -> Withdrawn | Expired; granting again opens a new record (`record_id`) in the
same stream, so "is there a live consent for marketing?" is one read. Withdrawal is
as easy as granting: any channel, any role, no precondition but a live record.
Sensitive data needs its own, separate consent: a grant may not mix sensitive and
ordinary data categories.
"""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from domain.actor import Actor
from domain.errors import IllegalTransition
from domain.events import CustomerEvent, CustomerOpeningEvent, LedgerAggregate
from domain.rules.consent import CONSENT_VERSION, consent_has_expired, consent_is_live

PURPOSES = ("marketing", "greetings", "profiling", "data_sharing", "research", "sensitive")
METHODS = ("written", "electronic", "recorded_call", "in_branch")
SENSITIVE_CATEGORIES = frozenset(
    {"biometric", "health", "financial_account", "location", "religion", "minor", "identity"}
)
ORDINARY_CATEGORIES = frozenset({"contact", "profile", "transactions", "preferences", "usage"})
STATES = ("none", "granted", "withdrawn", "expired")
RULE_VERSION = CONSENT_VERSION


class ConsentGranted(CustomerOpeningEvent):
    record_id: UUID
    purpose: str
    data_categories: list[str]
    sensitive: bool
    notice_version: str
    method: str
    evidence: str
    valid_from: datetime
    valid_to: datetime | None

    def apply(self, aggregate: Consent) -> None:
        if aggregate.record_id is not None:
            aggregate.previous_records.append(str(aggregate.record_id))
        aggregate.customer_id = self.customer_id
        aggregate.purpose = self.purpose
        aggregate.record_id = self.record_id
        aggregate.state = "granted"
        aggregate.data_categories = list(self.data_categories)
        aggregate.sensitive = self.sensitive
        aggregate.notice_version = self.notice_version
        aggregate.method = self.method
        aggregate.evidence = self.evidence
        aggregate.valid_from = self.valid_from
        aggregate.valid_to = self.valid_to
        aggregate.withdrawn_at = None


class ConsentWithdrawn(CustomerEvent):
    record_id: UUID
    method: str
    evidence: str | None

    def apply(self, aggregate: Consent) -> None:
        aggregate.state = "withdrawn"
        aggregate.withdrawn_at = self.occurred_at


class ConsentExpired(CustomerEvent):
    record_id: UUID
    expired_at: datetime

    def apply(self, aggregate: Consent) -> None:
        aggregate.state = "expired"


class Consent(LedgerAggregate):
    """The consent records of one customer for one purpose; the latest one is current."""

    def __init__(self) -> None:
        self.customer_id: UUID | None = None
        self.purpose: str | None = None
        self.record_id: UUID | None = None
        self.state = "none"
        self.data_categories: list[str] = []
        self.sensitive = False
        self.notice_version: str | None = None
        self.method: str | None = None
        self.evidence: str | None = None
        self.valid_from: datetime | None = None
        self.valid_to: datetime | None = None
        self.withdrawn_at: datetime | None = None
        self.previous_records: list[str] = []

    def is_live(self, at: datetime) -> bool:
        """True when the current record is granted and `at` lies within its validity."""
        if self.state != "granted" or self.valid_from is None:
            return False
        return consent_is_live(self.valid_from, self.valid_to, self.withdrawn_at, at)

    def grant(
        self,
        *,
        customer_id: UUID,
        purpose: str,
        record_id: UUID,
        data_categories: list[str],
        sensitive: bool,
        notice_version: str,
        method: str,
        evidence: str,
        valid_from: datetime,
        valid_to: datetime | None,
        actor: Actor,
        at: datetime,
    ) -> None:
        """Open a new consent record. A granted record may only be superseded by a grant
        under a new notice version; otherwise withdraw (or let it expire) first."""
        if self.state == "granted" and notice_version == self.notice_version:
            raise IllegalTransition("consent is already granted under this notice version")
        self._record(
            ConsentGranted,
            actor,
            at,
            customer_id=customer_id,
            record_id=record_id,
            purpose=purpose,
            data_categories=sorted(data_categories),
            sensitive=sensitive,
            notice_version=notice_version,
            method=method,
            evidence=evidence,
            valid_from=valid_from,
            valid_to=valid_to,
        )

    def withdraw(self, method: str, evidence: str | None, actor: Actor, at: datetime) -> None:
        """Withdraw the current record; only a granted record can be withdrawn."""
        self.require_exists()
        if self.state != "granted":
            raise IllegalTransition(f"consent cannot be withdrawn when {self.state}")
        self._record(
            ConsentWithdrawn,
            actor,
            at,
            customer_id=self.customer_id,
            record_id=self.record_id,
            method=method,
            evidence=evidence,
        )

    def expire(self, actor: Actor, at: datetime) -> None:
        """Record the expiry of a granted record whose validity has ended by `at`."""
        self.require_exists()
        if self.state != "granted" or not consent_has_expired(self.valid_to, at):
            raise IllegalTransition("consent has not run out")
        self._record(
            ConsentExpired,
            actor,
            at,
            customer_id=self.customer_id,
            record_id=self.record_id,
            expired_at=self.valid_to,
        )
