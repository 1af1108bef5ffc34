"""Chapter 4: service standards and the monitoring against them."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from uuid import UUID

from domain import quality as quality_model
from domain.actor import Actor
from domain.ids import quality_check_id
from domain.quality import QualityCheck
from domain.records import QualityRecord, record_of
from domain.services.base import LedgerServices
from domain.validation import check, one_of_error, text_error


class QualityCommands(LedgerServices):
    """Service standards, mystery shopping, audits, breaches and improvement actions."""

    def define_service_standard(
        self, code: str, name: str, measure: str, target: Decimal, unit: str, actor: Actor
    ) -> UUID:
        """Define or redefine a service standard with its target; returns its stream id."""
        check(
            code=text_error(code, max_length=50),
            name=text_error(name, max_length=200),
            measure=text_error(measure, max_length=100),
            unit=one_of_error(unit, quality_model.UNITS),
            target=None if isinstance(target, Decimal) and target >= 0 else "a decimal >= 0",
        )
        at = self.now()
        standard = self._load_or_blank(QualityCheck, quality_check_id(code), at)
        standard.define(
            code=code, name=name, measure=measure, target=target, unit=unit, actor=actor, at=at
        )
        self._save(standard)
        return standard.id

    def _standard(self, code: str) -> QualityCheck:
        return self._load(QualityCheck, quality_check_id(code))

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

    def get_service_standard(self, code: str) -> QualityRecord:
        """A standard with its target and monitoring counts."""
        return record_of(QualityRecord, self._standard(code))
