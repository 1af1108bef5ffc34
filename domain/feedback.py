"""Chapter 2 (and 5): feedback cases, complaints among them, with time-boxed handling.

States: received -> acknowledged -> investigating -> resolved -> followed_up -> closed;
any open state -> withdrawn; closed -> reopened -> investigating. Every other move is
refused with IllegalTransition and records nothing. Complaints carry their deadline
under the CN (default), UK or US rule set, escalate at 80 % of it and again at breach,
and record whether they were resolved in time and at first contact.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from uuid import UUID

from domain.actor import Actor
from domain.errors import IllegalTransition, ValidationFailed
from domain.events import CustomerEvent, CustomerOpeningEvent, LedgerAggregate
from domain.rules.complaints import (
    LEGACY_UK_DEADLINE_VERSION,
    breach_deadline,
    summary_resolution,
)

KINDS = ("complaint", "suggestion", "praise", "enquiry")
CATEGORIES = (
    "service",
    "product",
    "fees",
    "staff_conduct",
    "digital_channel",
    "marketing",
    "data_privacy",
    "other",
)
ROOT_CAUSES = ("process", "staff", "system", "product", "communication", "third_party", "none")
STATES = (
    "received",
    "acknowledged",
    "investigating",
    "resolved",
    "followed_up",
    "closed",
    "reopened",
    "withdrawn",
)
OPEN_STATES = frozenset(STATES) - {"closed", "withdrawn"}
UNRESOLVED_STATES = frozenset({"received", "acknowledged", "investigating", "reopened"})
MOVES: dict[str, frozenset[str]] = {
    "received": frozenset({"acknowledged", "withdrawn"}),
    "acknowledged": frozenset({"investigating", "withdrawn"}),
    "investigating": frozenset({"resolved", "withdrawn"}),
    "resolved": frozenset({"followed_up", "withdrawn"}),
    "followed_up": frozenset({"closed", "withdrawn"}),
    "closed": frozenset({"reopened"}),
    "reopened": frozenset({"investigating", "withdrawn"}),
    "withdrawn": frozenset(),
}
_COMPLEXITY_ORDER = ("standard", "complex", "especially_complex")


class FeedbackReceived(CustomerOpeningEvent):
    # v2 adds `product` (the product the feedback is about; None when not about one).
    # v3 adds `summary_resolution_by` (UK: the window for a summary resolution).
    class_version = 3

    kind: str
    category: str
    narrative: str
    source: str
    branch: str | None
    product: str | None
    survey_id: UUID | None
    rule_set: str
    complexity: str
    received_at: datetime
    due_at: datetime | None
    final_due_at: datetime | None
    requires_approval: bool
    rule_version: str
    summary_resolution_by: datetime | None

    def apply(self, aggregate: FeedbackCase) -> None:
        for name in (
            "customer_id",
            "kind",
            "category",
            "narrative",
            "source",
            "branch",
            "product",
            "survey_id",
            "rule_set",
            "complexity",
            "received_at",
            "due_at",
            "final_due_at",
            "rule_version",
            "summary_resolution_by",
        ):
            setattr(aggregate, name, getattr(self, name))
        aggregate.state = "received"

    @staticmethod
    def upcast_v1_v2(state: dict[str, object]) -> None:
        """Cases received before products were recorded are about no named product."""
        state["product"] = None

    @staticmethod
    def upcast_v2_v3(state: dict[str, object]) -> None:
        """Before v3 no summary-resolution window was recorded, except that a UK complaint
        under complaint_deadline/1 recorded exactly that window as its `due_at`."""
        legacy_uk = (
            state.get("rule_set") == "UK"
            and state.get("rule_version") == LEGACY_UK_DEADLINE_VERSION
        )
        state["summary_resolution_by"] = state.get("due_at") if legacy_uk else None


class Acknowledged(CustomerEvent):
    """The customer was told the case was received, when it is due, and how it stands.

    `due_at` and `final_due_at` are the deadlines as told (the case's own at that
    moment); `progress` is what the customer was told of the handling so far.
    """

    # v2 adds what the customer was told: the deadlines and the progress.
    class_version = 2

    method: str
    due_at: datetime | None
    final_due_at: datetime | None
    progress: str

    def apply(self, aggregate: FeedbackCase) -> None:
        aggregate.state = "acknowledged"
        aggregate.acknowledged_due_at = self.due_at

    @staticmethod
    def upcast_v1_v2(state: dict[str, object]) -> None:
        """Acknowledgements recorded before v2 recorded no deadline or progress told."""
        state.update(due_at=None, final_due_at=None, progress="")


class InvestigationStarted(CustomerEvent):
    owner: str

    def apply(self, aggregate: FeedbackCase) -> None:
        aggregate.state = "investigating"
        aggregate.owner = self.owner


class DeadlineExtended(CustomerEvent):
    complexity: str
    due_at: datetime
    final_due_at: datetime | None
    approver: str | None
    customer_notified: bool
    rule_version: str

    def apply(self, aggregate: FeedbackCase) -> None:
        aggregate.complexity = self.complexity
        aggregate.due_at = self.due_at
        aggregate.final_due_at = self.final_due_at
        aggregate.approver = self.approver
        aggregate.rule_version = self.rule_version
        aggregate.escalation_level = 0
        aggregate.final_escalation_level = 0


class Escalated(CustomerEvent):
    """The case reached a level (1: 80 % of the time allowed, 2: breach) at a stage:
    `response` (the deadline `due_at`) or `final` (the UK/US final-response limit)."""

    # v2 adds `stage`; every earlier escalation was about the first deadline.
    class_version = 2

    level: int
    stage: str
    due_at: datetime
    rule_version: str

    def apply(self, aggregate: FeedbackCase) -> None:
        if self.stage == "final":
            aggregate.final_escalation_level = self.level
        else:
            aggregate.escalation_level = self.level

    @staticmethod
    def upcast_v1_v2(state: dict[str, object]) -> None:
        """Escalations recorded before v2 were all about the first deadline."""
        state["stage"] = "response"


class Resolved(CustomerEvent):
    """The case was resolved; `in_time`: before its breach deadline (the final response
    where there is one); `summary_resolution`: a UK complaint resolved within its
    summary-resolution window (3 business days)."""

    # v2 adds `summary_resolution`.
    class_version = 2

    outcome: str
    root_cause: str
    first_contact: bool
    in_time: bool | None
    summary_resolution: bool

    @staticmethod
    def upcast_v1_v2(state: dict[str, object]) -> None:
        """Resolutions recorded before v2 recorded no summary resolution."""
        state["summary_resolution"] = False

    def apply(self, aggregate: FeedbackCase) -> None:
        aggregate.state = "resolved"
        aggregate.outcome = self.outcome
        aggregate.root_cause = self.root_cause
        aggregate.first_contact = self.first_contact
        aggregate.resolved_in_time = self.in_time
        aggregate.summary_resolution = self.summary_resolution
        aggregate.resolved_at = self.occurred_at


class RedressPaid(CustomerEvent):
    redress_amount: Decimal
    currency: str

    def apply(self, aggregate: FeedbackCase) -> None:
        aggregate.redress_amount = (aggregate.redress_amount or Decimal(0)) + self.redress_amount


class FollowUpCompleted(CustomerEvent):
    method: str
    notes: str

    def apply(self, aggregate: FeedbackCase) -> None:
        aggregate.state = "followed_up"


class Closed(CustomerEvent):
    def apply(self, aggregate: FeedbackCase) -> None:
        aggregate.state = "closed"
        aggregate.closed_at = self.occurred_at


class Reopened(CustomerEvent):
    def apply(self, aggregate: FeedbackCase) -> None:
        aggregate.state = "reopened"
        aggregate.closed_at = None
        aggregate.reopened_count += 1


class Withdrawn(CustomerEvent):
    def apply(self, aggregate: FeedbackCase) -> None:
        aggregate.state = "withdrawn"


class FeedbackCase(LedgerAggregate):
    """A complaint, suggestion, praise or enquiry and its handling."""

    def __init__(self) -> None:
        self.customer_id: UUID | None = None
        self.kind: str | None = None
        self.category: str | None = None
        self.narrative: str | None = None
        self.source: str | None = None
        self.branch: str | None = None
        self.product: str | None = None
        self.survey_id: UUID | None = None
        self.rule_set: str | None = None
        self.complexity: str | None = None
        self.received_at: datetime | None = None
        self.due_at: datetime | None = None
        self.final_due_at: datetime | None = None
        self.summary_resolution_by: datetime | None = None
        self.rule_version: str | None = None
        self.state = ""
        self.owner: str | None = None
        self.approver: str | None = None
        self.escalation_level = 0
        self.final_escalation_level = 0
        self.acknowledged_due_at: datetime | None = None
        self.outcome: str | None = None
        self.root_cause: str | None = None
        self.first_contact: bool | None = None
        self.resolved_in_time: bool | None = None
        self.summary_resolution = False
        self.resolved_at: datetime | None = None
        self.redress_amount: Decimal | None = None
        self.closed_at: datetime | None = None
        self.reopened_count = 0

    @property
    def is_open(self) -> bool:
        """True until the case is closed or withdrawn."""
        return self.state in OPEN_STATES

    def _move(self, to_state: str) -> None:
        self.require_exists()
        if to_state not in MOVES.get(self.state, frozenset()):
            raise IllegalTransition(f"a case cannot go from {self.state} to {to_state}")

    def receive(self, actor: Actor, at: datetime, **fields: object) -> None:
        """Record the feedback (once; fields validated by the caller)."""
        if self.exists:
            raise IllegalTransition("the case already exists")
        self._record(FeedbackReceived, actor, at, **fields)

    def acknowledge(self, method: str, progress: str, actor: Actor, at: datetime) -> None:
        """received -> acknowledged, recording the case's deadlines as told to the
        customer and the progress told."""
        self._move("acknowledged")
        self._record(
            Acknowledged,
            actor,
            at,
            customer_id=self.customer_id,
            method=method,
            due_at=self.due_at,
            final_due_at=self.final_due_at,
            progress=progress,
        )

    def start_investigation(self, owner: str, actor: Actor, at: datetime) -> None:
        """acknowledged or reopened -> investigating."""
        self._move("investigating")
        self._record(InvestigationStarted, actor, at, customer_id=self.customer_id, owner=owner)

    def extend_deadline(
        self,
        complexity: str,
        due_at: datetime,
        final_due_at: datetime | None,
        approver: str | None,
        customer_notified: bool,
        requires_approval: bool,
        rule_version: str,
        actor: Actor,
        at: datetime,
    ) -> None:
        """Reclassify the complaint as more complex; especially complex needs an approver
        and a notice to the customer. Only before resolution, and only to a later date."""
        self.require_exists()
        if self.state not in UNRESOLVED_STATES or self.kind != "complaint":
            raise IllegalTransition(f"a deadline cannot be extended when {self.state}")
        current = _COMPLEXITY_ORDER.index(self.complexity or "standard")
        if _COMPLEXITY_ORDER.index(complexity) <= current:
            raise IllegalTransition("an extension must raise the complexity")
        if self.due_at is not None and due_at <= self.due_at:
            raise IllegalTransition("this rule set does not extend the deadline")
        if requires_approval:
            errors: dict[str, str] = {}
            if not approver:
                errors["approver"] = "required for an especially complex case"
            elif approver == actor.actor_id:
                errors["approver"] = "must be someone other than the requester"
            if not customer_notified:
                errors["customer_notified"] = "the customer must be told of the extension"
            if errors:
                raise ValidationFailed(errors)
        self._record(
            DeadlineExtended,
            actor,
            at,
            customer_id=self.customer_id,
            complexity=complexity,
            due_at=due_at,
            final_due_at=final_due_at,
            approver=approver,
            customer_notified=customer_notified,
            rule_version=rule_version,
        )

    def escalate(
        self, level: int, rule_version: str, actor: Actor, at: datetime, stage: str = "response"
    ) -> bool:
        """Raise the escalation level of `stage` (1 at 80 %, 2 at breach): `response` is
        about `due_at`, `final` about `final_due_at`. False when not higher."""
        self.require_exists()
        due_at = self.final_due_at if stage == "final" else self.due_at
        if self.state not in UNRESOLVED_STATES or due_at is None:
            raise IllegalTransition(f"a case cannot be escalated when {self.state}")
        current = self.final_escalation_level if stage == "final" else self.escalation_level
        if level <= current:
            return False
        self._record(
            Escalated,
            actor,
            at,
            customer_id=self.customer_id,
            level=level,
            stage=stage,
            due_at=due_at,
            rule_version=rule_version,
        )
        return True

    def resolve(
        self, outcome: str, root_cause: str, first_contact: bool, actor: Actor, at: datetime
    ) -> None:
        """investigating -> resolved, recording whether it was in time."""
        self._move("resolved")
        deadline = breach_deadline(self.due_at, self.final_due_at)
        in_time = None if deadline is None else at < deadline
        self._record(
            Resolved,
            actor,
            at,
            customer_id=self.customer_id,
            outcome=outcome,
            root_cause=root_cause,
            first_contact=first_contact,
            in_time=in_time,
            summary_resolution=summary_resolution(at, self.summary_resolution_by),
        )

    def pay_redress(self, amount: Decimal, currency: str, actor: Actor, at: datetime) -> None:
        """Record redress paid on a resolved (or followed-up) case."""
        self.require_exists()
        if self.state not in ("resolved", "followed_up"):
            raise IllegalTransition(f"redress cannot be paid when {self.state}")
        self._record(
            RedressPaid,
            actor,
            at,
            customer_id=self.customer_id,
            redress_amount=amount,
            currency=currency,
        )

    def complete_follow_up(self, method: str, notes: str, actor: Actor, at: datetime) -> None:
        """resolved -> followed_up."""
        self._move("followed_up")
        self._record(
            FollowUpCompleted, actor, at, customer_id=self.customer_id, method=method, notes=notes
        )

    def close(self, actor: Actor, at: datetime) -> None:
        """followed_up -> closed."""
        self._move("closed")
        self._record(Closed, actor, at, customer_id=self.customer_id)

    def reopen(self, actor: Actor, at: datetime) -> None:
        """closed -> reopened."""
        self._move("reopened")
        self._record(Reopened, actor, at, customer_id=self.customer_id)

    def withdraw(self, actor: Actor, at: datetime) -> None:
        """Any open state -> withdrawn."""
        self._move("withdrawn")
        self._record(Withdrawn, actor, at, customer_id=self.customer_id)
