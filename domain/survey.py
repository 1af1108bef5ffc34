"""Chapter 5: satisfaction surveys (CSAT, NPS) and service recovery.

sent -> answered; a dissatisfied answer (CSAT 2 or below, NPS 6 or below) is flagged
and opens service recovery: a complaint case (an expression of dissatisfaction) whose
handling ends with a follow-up visit, plus recovery actions recorded here (apology,
compensation, improvement).
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from uuid import UUID

from domain.actor import Actor
from domain.errors import IllegalTransition
from domain.events import CustomerEvent, CustomerOpeningEvent, LedgerAggregate

INSTRUMENTS = ("CSAT", "NPS")
RECOVERY_ACTIONS = ("apology", "compensation", "improvement")
# Policy 5.1: the four dimensions an answer scores, each 1-5.
DIMENSIONS = ("service_quality", "product_quality", "price_reasonableness", "communication")
DIMENSION_RANGE = (1, 5)


class SurveySent(CustomerOpeningEvent):
    instrument: str
    contact_channel: str
    context: str
    related_case_id: UUID | None

    def apply(self, aggregate: Survey) -> None:
        aggregate.customer_id = self.customer_id
        aggregate.instrument = self.instrument
        aggregate.context = self.context
        aggregate.related_case_id = self.related_case_id
        aggregate.state = "sent"
        aggregate.sent_at = self.occurred_at


class SurveyAnswered(CustomerEvent):
    """The answer: the instrument's score, each dimension's score (policy 5.1; empty
    for answers recorded before dimensions), and an optional verbatim."""

    class_version = 2

    score: int
    verbatim: str | None
    dimensions: dict[str, int]

    @staticmethod
    def upcast_v1_v2(state: dict[str, object]) -> None:
        """Version 1 scored no dimensions."""
        state["dimensions"] = {}

    def apply(self, aggregate: Survey) -> None:
        aggregate.state = "answered"
        aggregate.score = self.score
        aggregate.verbatim = self.verbatim
        aggregate.dimensions = dict(self.dimensions)
        aggregate.answered_at = self.occurred_at


class DissatisfactionFlagged(CustomerEvent):
    instrument: str
    score: int
    recovery_case_id: UUID
    rule_version: str

    def apply(self, aggregate: Survey) -> None:
        aggregate.dissatisfied = True
        aggregate.recovery_case_id = self.recovery_case_id


class ServiceRecoveryRecorded(CustomerEvent):
    action: str
    description: str
    amount: Decimal | None
    recovery_case_id: UUID

    def apply(self, aggregate: Survey) -> None:
        aggregate.recovery_actions = [*aggregate.recovery_actions, self.action]


class Survey(LedgerAggregate):
    """One survey sent to one customer and what came of it."""

    def __init__(self) -> None:
        self.customer_id: UUID | None = None
        self.instrument: str | None = None
        self.context: str | None = None
        self.related_case_id: UUID | None = None
        self.state = ""
        self.sent_at: datetime | None = None
        self.answered_at: datetime | None = None
        self.score: int | None = None
        self.verbatim: str | None = None
        self.dimensions: dict[str, int] = {}
        self.dissatisfied = False
        self.recovery_case_id: UUID | None = None
        self.recovery_actions: list[str] = []

    def send(
        self,
        *,
        customer_id: UUID,
        instrument: str,
        contact_channel: str,
        context: str,
        related_case_id: UUID | None,
        actor: Actor,
        at: datetime,
    ) -> None:
        """Record the survey as sent (once)."""
        if self.exists:
            raise IllegalTransition("the survey was already sent")
        self._record(
            SurveySent,
            actor,
            at,
            customer_id=customer_id,
            instrument=instrument,
            contact_channel=contact_channel,
            context=context,
            related_case_id=related_case_id,
        )

    def answer(
        self,
        score: int,
        verbatim: str | None,
        actor: Actor,
        at: datetime,
        dimensions: dict[str, int] | None = None,
    ) -> None:
        """sent -> answered (once)."""
        self.require_exists()
        if self.state != "sent":
            raise IllegalTransition(f"a survey cannot be answered when {self.state}")
        self._record(
            SurveyAnswered,
            actor,
            at,
            customer_id=self.customer_id,
            score=score,
            verbatim=verbatim,
            dimensions=dict(dimensions or {}),
        )

    def flag_dissatisfaction(
        self, recovery_case_id: UUID, rule_version: str, actor: Actor, at: datetime
    ) -> None:
        """Flag a dissatisfied answer and link the recovery case it opened."""
        if self.state != "answered" or self.dissatisfied or self.score is None:
            raise IllegalTransition("only a fresh answer can be flagged")
        self._record(
            DissatisfactionFlagged,
            actor,
            at,
            customer_id=self.customer_id,
            instrument=self.instrument,
            score=self.score,
            recovery_case_id=recovery_case_id,
            rule_version=rule_version,
        )

    def record_recovery(
        self, action: str, description: str, amount: Decimal | None, actor: Actor, at: datetime
    ) -> None:
        """Record an apology, compensation or improvement for a flagged answer."""
        self.require_exists()
        if not self.dissatisfied or self.recovery_case_id is None:
            raise IllegalTransition("service recovery needs a dissatisfied answer")
        self._record(
            ServiceRecoveryRecorded,
            actor,
            at,
            customer_id=self.customer_id,
            action=action,
            description=description,
            amount=amount,
            recovery_case_id=self.recovery_case_id,
        )
