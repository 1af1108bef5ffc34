"""Chapter 2: feedback intake and complaint handling, time-boxed by rule set."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from uuid import UUID

from domain import feedback as feedback_model
from domain import interaction as interaction_model
from domain.actor import Actor
from domain.customer import Customer
from domain.errors import ValidationFailed
from domain.feedback import FeedbackCase
from domain.ids import interaction_log_id
from domain.interaction import InteractionLog
from domain.records import CaseRecord, record_of
from domain.rules.care import CARE_FOLLOW_UP_VERSION, next_care_follow_up
from domain.rules.complaints import (
    ANSWERED_KINDS,
    COMPLEXITIES,
    ESCALATION_LEVEL_VERSION,
    FEEDBACK_DEADLINE_VERSION,
    RULE_SETS,
    binding_deadlines,
    complaint_deadline,
    escalation_level,
    feedback_deadline,
)
from domain.services.base import LedgerServices
from domain.validation import amount_error, check, one_of_error, text_error

FOLLOW_UP_METHODS = ("phone", "visit", "email", "sms", "letter")
ACK_METHODS = ("phone", "sms", "email", "letter", "in_person", "online_chat")


def jurisdiction_of(customer: Customer) -> str:
    """The rule set of the customer's cases: their recorded jurisdiction, else CN."""
    return customer.jurisdiction or RULE_SETS[0]


class FeedbackCommands(LedgerServices):
    """Feedback cases from intake to closing."""

    def receive_feedback(
        self,
        customer_id: UUID,
        kind: str,
        category: str,
        narrative: str,
        actor: Actor,
        *,
        rule_set: str | None = None,
        complexity: str = "standard",
        source: str = "phone",
        branch: str | None = None,
        product: str | None = None,
        survey_id: UUID | None = None,
        received_at: datetime | None = None,
        case_id: UUID | None = None,
    ) -> UUID:
        """Open a case; a complaint gets its deadline under `rule_set` (default: the
        customer's jurisdiction, CN when none is recorded), an enquiry or a
        suggestion its own (`feedback_deadline`), praise none. Especially complex
        complaints start as complex and are extended with an approver. `product` names
        the product the feedback is about. Returns the id."""
        check(
            kind=one_of_error(kind, feedback_model.KINDS),
            category=one_of_error(category, feedback_model.CATEGORIES),
            narrative=text_error(narrative, max_length=8000),
            rule_set=None if rule_set is None else one_of_error(rule_set, RULE_SETS),
            complexity=one_of_error(complexity, COMPLEXITIES[:2]),
            source=text_error(source, max_length=50),
            product=text_error(product, max_length=50, required=False),
        )
        customer = self._customer(customer_id, "complaint")
        rule_set = rule_set or jurisdiction_of(customer)
        at = self.now()
        received = received_at or at
        if received > at:
            raise ValidationFailed({"received_at": "must not be in the future"})
        due_at = final_due_at = summary_by = None
        rule_version = "none"
        if kind == "complaint":
            deadline = complaint_deadline(
                received, rule_set, complexity, self.settings, self.calendars.of(rule_set)
            )
            due_at, final_due_at = deadline.due_at, deadline.final_due_at
            summary_by = deadline.summary_resolution_by
            rule_version = deadline.rule_version
        elif kind in ANSWERED_KINDS:
            due_at = feedback_deadline(received, kind, self.settings)
            rule_version = FEEDBACK_DEADLINE_VERSION
        new_id = self._id(case_id)
        case = FeedbackCase.blank(new_id, at)
        case.receive(
            actor,
            at,
            customer_id=customer_id,
            kind=kind,
            category=category,
            narrative=narrative,
            source=source,
            branch=branch or customer.branch,
            product=product,
            survey_id=survey_id,
            rule_set=rule_set,
            complexity=complexity,
            received_at=received,
            due_at=due_at,
            final_due_at=final_due_at,
            requires_approval=False,
            rule_version=rule_version,
            summary_resolution_by=summary_by,
        )
        self._save(case)
        return new_id

    def _case(self, case_id: UUID, expected_version: int | None = None) -> FeedbackCase:
        case = self._load(FeedbackCase, case_id)
        self._expect(case, expected_version)
        return case

    def acknowledge_case(
        self,
        case_id: UUID,
        actor: Actor,
        *,
        method: str = "sms",
        progress: str = "",
        expected_version: int | None = None,
    ) -> None:
        """received -> acknowledged. The event records the case's deadlines as told to
        the customer and `progress`, what they were told of the handling so far."""
        check(
            method=one_of_error(method, ACK_METHODS),
            progress=text_error(progress, max_length=2000, required=False),
        )
        case = self._case(case_id, expected_version)
        case.acknowledge(method, progress, actor, self.now())
        self._save(case)

    def start_investigation(
        self,
        case_id: UUID,
        actor: Actor,
        *,
        owner: str | None = None,
        expected_version: int | None = None,
    ) -> None:
        """acknowledged or reopened -> investigating, owned by `owner` (default the actor)."""
        case = self._case(case_id, expected_version)
        case.start_investigation(owner or actor.actor_id, actor, self.now())
        self._save(case)

    def extend_case_deadline(
        self,
        case_id: UUID,
        complexity: str,
        actor: Actor,
        *,
        approver: str | None = None,
        customer_notified: bool = False,
        expected_version: int | None = None,
    ) -> datetime:
        """Reclassify an open complaint as more complex; returns the new due time.
        Especially complex (CN) needs an approver other than the actor and a notice."""
        check(complexity=one_of_error(complexity, COMPLEXITIES))
        case = self._case(case_id, expected_version)
        if case.received_at is None or case.rule_set is None:
            raise ValidationFailed({"case": "not a complaint"})
        deadline = complaint_deadline(
            case.received_at,
            case.rule_set,
            complexity,
            self.settings,
            self.calendars.of(case.rule_set),
        )
        case.extend_deadline(
            complexity,
            deadline.due_at,
            deadline.final_due_at,
            approver,
            customer_notified,
            deadline.requires_approval,
            deadline.rule_version,
            actor,
            self.now(),
        )
        self._save(case)
        return deadline.due_at

    def check_case_escalation(self, case_id: UUID, actor: Actor) -> int:
        """Escalate an unresolved case at 80 % of each deadline that binds it
        (`binding_deadlines`) and at its breach: the single deadline (CN; UK's 8-week
        final response; enquiries, suggestions), or a US complaint's response stage until
        it is acknowledged and its final stage. The UK summary-resolution window never
        escalates. Returns the level of the first deadline (0, 1 or 2). Recording
        happens once per level and stage."""
        case = self._case(case_id)
        if case.state not in feedback_model.UNRESOLVED_STATES or case.due_at is None:
            return case.escalation_level
        assert case.received_at is not None
        at = self.now()
        changed = False
        responded = case.state != "received"
        stages = binding_deadlines(
            case.rule_set or "", case.rule_version or "", case.due_at, case.final_due_at, responded
        )
        for stage, due_at in stages:
            level = escalation_level(case.received_at, due_at, at, self.settings)
            changed |= case.escalate(level, ESCALATION_LEVEL_VERSION, actor, at, stage)
        if changed:
            self._save(case)
        return case.escalation_level

    def resolve_case(
        self,
        case_id: UUID,
        outcome: str,
        root_cause: str,
        actor: Actor,
        *,
        first_contact: bool = False,
        expected_version: int | None = None,
    ) -> bool | None:
        """investigating -> resolved; returns whether it was in time (None: no deadline)."""
        check(
            outcome=text_error(outcome, max_length=4000),
            root_cause=one_of_error(root_cause, feedback_model.ROOT_CAUSES),
        )
        case = self._case(case_id, expected_version)
        case.resolve(outcome, root_cause, first_contact, actor, self.now())
        self._save(case)
        return case.resolved_in_time

    def pay_redress(
        self,
        case_id: UUID,
        amount: Decimal,
        actor: Actor,
        *,
        currency: str = "CNY",
        expected_version: int | None = None,
    ) -> None:
        """Record redress paid on a resolved case."""
        check(amount=amount_error(amount, allow_zero=False), currency=text_error(currency))
        case = self._case(case_id)
        self._expect(case, expected_version)
        case.pay_redress(amount, currency, actor, self.now())
        self._save(case)

    def complete_follow_up(
        self,
        case_id: UUID,
        actor: Actor,
        *,
        method: str,
        notes: str = "",
        expected_version: int | None = None,
    ) -> None:
        """resolved -> followed_up. A follow-up visit is also recorded as a care visit."""
        check(
            method=one_of_error(method, FOLLOW_UP_METHODS),
            notes=text_error(notes, max_length=4000, required=False),
        )
        case = self._case(case_id, expected_version)
        at = self.now()
        case.complete_follow_up(method, notes, actor, at)
        log = None
        if method == "visit" and case.customer_id is not None:
            log = self._care_visit_log(case.customer_id, case.id, notes, actor)
        self._save(case, log)

    def _care_visit_log(
        self, customer_id: UUID, case_id: UUID, notes: str, actor: Actor
    ) -> InteractionLog:
        customer = self._load(Customer, customer_id)
        at, today = self.now(), self.today()
        log = self._load_or_blank(InteractionLog, interaction_log_id(customer_id), at)
        next_due = next_care_follow_up(today, self.settings) if customer.special_care else None
        log.record_care_visit(
            customer_id=customer_id,
            visit_kind=interaction_model.VISIT_KINDS[0],
            visited_on=today,
            notes=notes,
            next_due_on=next_due,
            related_case_id=case_id,
            rule_version=CARE_FOLLOW_UP_VERSION,
            actor=actor,
            at=at,
        )
        return log

    def close_case(
        self, case_id: UUID, actor: Actor, *, expected_version: int | None = None
    ) -> None:
        """followed_up -> closed."""
        case = self._case(case_id, expected_version)
        case.close(actor, self.now())
        self._save(case)

    def reopen_case(
        self, case_id: UUID, actor: Actor, *, expected_version: int | None = None
    ) -> None:
        """closed -> reopened (then investigating again)."""
        case = self._case(case_id, expected_version)
        case.reopen(actor, self.now())
        self._save(case)

    def withdraw_case(
        self, case_id: UUID, actor: Actor, *, expected_version: int | None = None
    ) -> None:
        """Any open state -> withdrawn (the customer withdrew the feedback)."""
        case = self._case(case_id, expected_version)
        case.withdraw(actor, self.now())
        self._save(case)

    def get_case(self, case_id: UUID) -> CaseRecord:
        """The case as it stands."""
        return record_of(CaseRecord, self._case(case_id))
