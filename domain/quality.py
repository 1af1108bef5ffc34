"""Chapter 4: service standards and the monitoring against them.

One stream per service standard: its definition (redefining it records the new
target), mystery-shopper visits, internal audits, breaches and improvement actions.
No event here is about a customer, so findings and details must not name one; a breach
found on a complaint refers to the case by id.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from uuid import UUID

from domain.actor import Actor
from domain.events import LedgerAggregate, LedgerEvent, OpeningEvent

UNITS = ("minutes", "hours", "days", "percent", "score")
# The service steps of policy 4.1; "unspecified" only for standards defined before steps.
STEPS = ("account_opening", "counter", "phone", "complaint_handling", "online")
# The staff duty (a job function, never a person) answerable for a standard.
DUTIES = (
    "teller",
    "branch_manager",
    "relationship_manager",
    "call_centre_agent",
    "complaint_handler",
    "digital_operations",
    "compliance_officer",
)


class ServiceStandardDefined(OpeningEvent):
    """A standard: its service step, measure, target and the staff duty answerable."""

    class_version = 2

    code: str
    name: str
    measure: str
    target: Decimal
    unit: str
    step: str
    duty: str | None

    @staticmethod
    def upcast_v1_v2(state: dict[str, object]) -> None:
        """Version 1 had no service step or responsible duty."""
        state["step"] = "unspecified"
        state["duty"] = None

    def apply(self, aggregate: QualityCheck) -> None:
        # defining or redefining a standard is a review of it
        aggregate.reviewed_on = self.occurred_at.date()
        aggregate.code = self.code
        aggregate.name = self.name
        aggregate.measure = self.measure
        aggregate.target = self.target
        aggregate.unit = self.unit
        aggregate.step = self.step
        aggregate.duty = self.duty


class MeasurementRecorded(LedgerEvent):
    """One measurement against the standard, with the target in force and whether the
    rule found it a breach (a breach also records `StandardBreachRecorded`)."""

    branch: str
    staff_id: str | None
    measured: Decimal
    target: Decimal
    breached: bool
    rule_version: str

    def apply(self, aggregate: QualityCheck) -> None:
        aggregate.measurements += 1


class MysteryShopRecorded(LedgerEvent):
    branch: str
    staff_id: str | None
    score: int
    findings: str

    def apply(self, aggregate: QualityCheck) -> None:
        aggregate.mystery_shops += 1
        aggregate.last_score = self.score


class QualityAuditCompleted(LedgerEvent):
    branch: str
    score: int
    findings: str

    def apply(self, aggregate: QualityCheck) -> None:
        aggregate.audits += 1
        aggregate.last_score = self.score


class StandardBreachRecorded(LedgerEvent):
    branch: str
    staff_id: str | None
    measured: Decimal
    detail: str
    case_id: UUID | None

    def apply(self, aggregate: QualityCheck) -> None:
        aggregate.breaches += 1


class ImprovementActionRecorded(LedgerEvent):
    action: str
    owner: str
    due_on: date | None
    branch: str | None

    def apply(self, aggregate: QualityCheck) -> None:
        aggregate.improvement_actions += 1


class ServiceStandardReviewed(LedgerEvent):
    """The standard was reviewed and kept as it is (a change is a redefinition);
    `findings` must not name a customer."""

    findings: str

    def apply(self, aggregate: QualityCheck) -> None:
        aggregate.reviewed_on = self.occurred_at.date()


class StandardReviewOverdue(LedgerEvent):
    """Warning: the standard was not reviewed by `review_due_on` (12 months after its last
    review by default); recorded once per due date."""

    reviewed_on: date
    review_due_on: date
    as_of: date
    rule_version: str

    def apply(self, aggregate: QualityCheck) -> None:
        aggregate.review_overdue_for = self.review_due_on


class QualityCheck(LedgerAggregate):
    """A service standard with its target and monitoring counts."""

    def __init__(self) -> None:
        self.code: str | None = None
        self.name: str | None = None
        self.measure: str | None = None
        self.target: Decimal | None = None
        self.unit: str | None = None
        self.step: str | None = None
        self.duty: str | None = None
        self.measurements = 0
        self.mystery_shops = 0
        self.audits = 0
        self.breaches = 0
        self.improvement_actions = 0
        self.last_score: int | None = None
        self.reviewed_on: date | None = None
        self.review_overdue_for: date | None = None

    def review(self, findings: str, actor: Actor, at: datetime) -> None:
        """Record a review that keeps the standard as it is."""
        self.require_exists()
        self._record(ServiceStandardReviewed, actor, at, findings=findings)

    def note_review_overdue(
        self, review_due_on: date, as_of: date, rule_version: str, actor: Actor, at: datetime
    ) -> bool:
        """Record that the review due on `review_due_on` is overdue; False (nothing
        recorded) when already recorded for that due date or not yet overdue."""
        self.require_exists()
        if self.reviewed_on is None or self.review_overdue_for == review_due_on:
            return False
        if as_of <= review_due_on:
            return False
        self._record(
            StandardReviewOverdue,
            actor,
            at,
            reviewed_on=self.reviewed_on,
            review_due_on=review_due_on,
            as_of=as_of,
            rule_version=rule_version,
        )
        return True

    def define(
        self,
        *,
        code: str,
        name: str,
        measure: str,
        target: Decimal,
        unit: str,
        step: str,
        duty: str | None,
        actor: Actor,
        at: datetime,
    ) -> bool:
        """Define (or redefine) the standard; False when nothing changed."""
        now = (self.name, self.measure, self.target, self.unit, self.step, self.duty)
        if now == (name, measure, target, unit, step, duty):
            return False
        self._record(
            ServiceStandardDefined,
            actor,
            at,
            code=code,
            name=name,
            measure=measure,
            target=target,
            unit=unit,
            step=step,
            duty=duty,
        )
        return True

    def record_measurement(
        self,
        *,
        branch: str,
        staff_id: str | None,
        measured: Decimal,
        breached: bool,
        rule_version: str,
        actor: Actor,
        at: datetime,
    ) -> None:
        """Record a measurement with the rule's verdict; a breach is recorded with it."""
        self.require_exists()
        assert self.target is not None
        self._record(
            MeasurementRecorded,
            actor,
            at,
            branch=branch,
            staff_id=staff_id,
            measured=measured,
            target=self.target,
            breached=breached,
            rule_version=rule_version,
        )
        if breached:
            self.record_breach(
                branch=branch,
                staff_id=staff_id,
                measured=measured,
                detail=f"measured {measured} {self.unit} against a target of {self.target}",
                case_id=None,
                actor=actor,
                at=at,
            )

    def record_mystery_shop(
        self,
        *,
        branch: str,
        staff_id: str | None,
        score: int,
        findings: str,
        actor: Actor,
        at: datetime,
    ) -> None:
        """Record a mystery-shopper visit against this standard."""
        self._record(
            MysteryShopRecorded,
            actor,
            at,
            branch=branch,
            staff_id=staff_id,
            score=score,
            findings=findings,
        )

    def complete_audit(
        self, *, branch: str, score: int, findings: str, actor: Actor, at: datetime
    ) -> None:
        """Record an internal audit against this standard."""
        self._record(
            QualityAuditCompleted, actor, at, branch=branch, score=score, findings=findings
        )

    def record_breach(
        self,
        *,
        branch: str,
        staff_id: str | None,
        measured: Decimal,
        detail: str,
        case_id: UUID | None,
        actor: Actor,
        at: datetime,
    ) -> None:
        """Record a breach of this standard."""
        self._record(
            StandardBreachRecorded,
            actor,
            at,
            branch=branch,
            staff_id=staff_id,
            measured=measured,
            detail=detail,
            case_id=case_id,
        )

    def record_improvement(
        self,
        *,
        action: str,
        owner: str,
        due_on: date | None,
        branch: str | None,
        actor: Actor,
        at: datetime,
    ) -> None:
        """Record an improvement action decided on this standard."""
        self._record(
            ImprovementActionRecorded,
            actor,
            at,
            action=action,
            owner=owner,
            due_on=due_on,
            branch=branch,
        )
