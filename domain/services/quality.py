"""Chapter 4: service standards and the monitoring against them."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from uuid import UUID

from domain import quality as quality_model
from domain import training as training_model
from domain.actor import Actor
from domain.ids import quality_check_id, staff_training_id
from domain.quality import QualityCheck
from domain.records import QualityRecord, TrainingRecord, record_of
from domain.rules.quality import (
    STANDARD_BREACH_VERSION,
    STANDARD_REVIEW_VERSION,
    standard_breached,
    standard_review_due,
)
from domain.services.base import LedgerServices
from domain.training import StaffTraining
from domain.validation import amount_error, check, one_of_error, text_error


class QualityCommands(LedgerServices):
    """Service standards, mystery shopping, audits, breaches and improvement actions."""

    def define_service_standard(
        self,
        code: str,
        name: str,
        measure: str,
        target: Decimal,
        unit: str,
        actor: Actor,
        *,
        step: str,
        duty: str | None = None,
    ) -> UUID:
        """Define or redefine a service standard for a service step with its target and
        the staff duty answerable for it; returns its stream id."""
        check(
            code=text_error(code, max_length=50),
            name=text_error(name, max_length=200),
            measure=text_error(measure, max_length=100),
            unit=one_of_error(unit, quality_model.UNITS),
            target=amount_error(target),
            step=one_of_error(step, quality_model.STEPS),
            duty=None if duty is None else one_of_error(duty, quality_model.DUTIES),
        )
        at = self.now()
        standard = self._load_or_blank(QualityCheck, quality_check_id(code), at)
        standard.define(
            code=code,
            name=name,
            measure=measure,
            target=target,
            unit=unit,
            step=step,
            duty=duty,
            actor=actor,
            at=at,
        )
        self._save(standard)
        return standard.id

    def _standard(self, code: str) -> QualityCheck:
        return self._load(QualityCheck, quality_check_id(code))

    def record_measurement(
        self,
        code: str,
        branch: str,
        measured: Decimal,
        actor: Actor,
        *,
        staff_id: str | None = None,
    ) -> bool:
        """Record a measurement against a standard; the rule `standard_breached` decides
        whether it breaches the target, and a breach is recorded with it. Returns that
        verdict."""
        check(
            branch=text_error(branch, max_length=100),
            measured=amount_error(measured),
            staff_id=text_error(staff_id, max_length=100, required=False),
        )
        standard = self._standard(code)
        assert standard.target is not None and standard.unit is not None
        breached = standard_breached(measured, standard.target, standard.unit, self.settings)
        standard.record_measurement(
            branch=branch,
            staff_id=staff_id,
            measured=measured,
            breached=breached,
            rule_version=STANDARD_BREACH_VERSION,
            actor=actor,
            at=self.now(),
        )
        self._save(standard)
        return breached

    def record_mystery_shop(
        self,
        code: str,
        branch: str,
        score: int,
        findings: str,
        actor: Actor,
        *,
        staff_id: str | None = None,
    ) -> None:
        """Record a mystery-shopper visit (score 0-100) against a standard."""
        check(score=None if 0 <= score <= 100 else "0 to 100", findings=text_error(findings))
        standard = self._standard(code)
        standard.record_mystery_shop(
            branch=branch,
            staff_id=staff_id,
            score=score,
            findings=findings,
            actor=actor,
            at=self.now(),
        )
        self._save(standard)

    def complete_quality_audit(
        self, code: str, branch: str, score: int, findings: str, actor: Actor
    ) -> None:
        """Record an internal audit (score 0-100) against a standard."""
        check(score=None if 0 <= score <= 100 else "0 to 100", findings=text_error(findings))
        standard = self._standard(code)
        standard.complete_audit(
            branch=branch, score=score, findings=findings, actor=actor, at=self.now()
        )
        self._save(standard)

    def record_standard_breach(
        self,
        code: str,
        branch: str,
        measured: Decimal,
        detail: str,
        actor: Actor,
        *,
        staff_id: str | None = None,
        case_id: UUID | None = None,
    ) -> None:
        """Record a breach of a standard (the measured value against its target)."""
        check(detail=text_error(detail))
        standard = self._standard(code)
        standard.record_breach(
            branch=branch,
            staff_id=staff_id,
            measured=measured,
            detail=detail,
            case_id=case_id,
            actor=actor,
            at=self.now(),
        )
        self._save(standard)

    def record_improvement_action(
        self,
        code: str,
        action: str,
        owner: str,
        actor: Actor,
        *,
        due_on: date | None = None,
        branch: str | None = None,
    ) -> None:
        """Record an improvement action decided on a standard."""
        check(action=text_error(action), owner=text_error(owner, max_length=100))
        standard = self._standard(code)
        standard.record_improvement(
            action=action, owner=owner, due_on=due_on, branch=branch, actor=actor, at=self.now()
        )
        self._save(standard)

    def review_service_standard(self, code: str, actor: Actor, *, findings: str = "") -> None:
        """Record a review that keeps the standard as it is (a change is a redefinition,
        which counts as a review too); `findings` must not name a customer."""
        check(findings=text_error(findings, max_length=2000, required=False))
        standard = self._standard(code)
        standard.review(findings, actor, self.now())
        self._save(standard)

    def note_standard_review_overdue(self, standard_id: UUID, actor: Actor) -> bool:
        """Record StandardReviewOverdue when the standard was not reviewed within
        `standard_review_months` (12 by default) of its last review, once per due date.
        Returns True when recorded now."""
        standard = self._load(QualityCheck, standard_id)
        if standard.reviewed_on is None:
            return False
        due = standard_review_due(standard.reviewed_on, self.settings)
        noted = standard.note_review_overdue(
            due, self.today(), STANDARD_REVIEW_VERSION, actor, self.now()
        )
        if noted:
            self._save(standard)
        return noted

    def get_service_standard(self, code: str) -> QualityRecord:
        """A standard with its target and monitoring counts."""
        return record_of(QualityRecord, self._standard(code))

    def record_training(
        self,
        staff_id: str,
        course: str,
        topic: str,
        completed_on: date,
        hours: Decimal,
        provider: str,
        actor: Actor,
        *,
        standard_code: str | None = None,
    ) -> UUID:
        """Record a course a staff member completed (policy 4.3, 5.3), optionally against
        the standard whose finding it answers (which must exist); returns the stream id."""
        check(
            staff_id=text_error(staff_id, max_length=100),
            course=text_error(course, max_length=200),
            topic=text_error(topic, max_length=200),
            hours=amount_error(hours, allow_zero=False),
            provider=one_of_error(provider, training_model.PROVIDERS),
            standard_code=text_error(standard_code, max_length=50, required=False),
        )
        if standard_code is not None:
            self._standard(standard_code)
        at = self.now()
        record = self._load_or_blank(StaffTraining, staff_training_id(staff_id), at)
        record.complete(
            staff_id=staff_id,
            course=course,
            topic=topic,
            completed_on=completed_on,
            hours=hours,
            provider=provider,
            standard_code=standard_code,
            actor=actor,
            at=at,
        )
        self._save(record)
        return record.id

    def get_training(self, staff_id: str) -> TrainingRecord:
        """A staff member's training record: courses and total hours."""
        return record_of(TrainingRecord, self._load(StaffTraining, staff_training_id(staff_id)))
