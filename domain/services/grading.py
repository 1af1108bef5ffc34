"""Chapter 3 (grading and tiers) and chapter 4 (service quality)."""

from __future__ import annotations

import re
from dataclasses import asdict
from datetime import date
from decimal import ROUND_DOWN, Decimal
from uuid import UUID

from domain import quality as quality_model
from domain.activity import Activity
from domain.actor import Actor
from domain.customer import Customer
from domain.grading import Grading
from domain.ids import activity_id, grading_id, quality_check_id
from domain.quality import QualityCheck
from domain.rules.grading import GradeInputs, grade_score, next_tier
from domain.rules.months import add_months
from domain.services.base import LedgerServices
from domain.settings import settings_fingerprint
from domain.validation import check, one_of_error, text_error
from domain.views import GradingView, QualityView, view_of

_QUARTER = re.compile(r"^\d{4}Q[1-4]$")


def _as_text(values: dict[str, object]) -> dict[str, str]:
    return {key: str(value) for key, value in values.items()}


class GradingCommands(LedgerServices):
    """Quarterly grading, tiers and their entitlements; service standards and monitoring."""

    def grade_inputs(self, customer_id: UUID, credit_score: int) -> GradeInputs:
        """The grading inputs from the customer's last 12 months of activity and tenure."""
        return self._grade_inputs(self._customer(customer_id, "grading"), credit_score)

    def _grade_inputs(self, customer: Customer, credit_score: int) -> GradeInputs:
        today = self.today()
        activity = self._find(Activity, activity_id(customer.id))
        count, amount, products = 0, Decimal(0), 0
        if activity is not None:
            count, amount, _ = activity.totals(add_months(today, -12), today)
            products = len(activity.products_held)
        since = customer.registered_on or today
        tenure = (Decimal((today - since).days) / Decimal("365.25")).quantize(
            Decimal("0.01"), ROUND_DOWN
        )
        return GradeInputs(amount, count, tenure, products, credit_score)

    def grade_customer(
        self,
        customer_id: UUID,
        period: str,
        actor: Actor,
        *,
        credit_score: int = 60,
        inputs: GradeInputs | None = None,
    ) -> GradingView:
        """Grade the customer for a quarter ("2026Q2") and decide the tier held: upgrades at
        once, downgrades after two consecutive quarters below. Inputs default to the
        customer's own activity; the event records them with the rule versions."""
        check(period=None if _QUARTER.match(period) else "a quarter like 2026Q2")
        customer = self._customer(customer_id, "grading")
        grade_inputs = inputs or self._grade_inputs(customer, credit_score)
        result = grade_score(grade_inputs, self.settings)
        at = self.now()
        grading = self._load_or_blank(Grading, grading_id(customer_id), at)
        decision = next_tier(grading.tier, result.tier, grading.quarters_below, self.settings)
        grading.assign(
            customer_id=customer_id,
            period=period,
            score=result.score,
            computed_tier=result.tier,
            tier=decision.tier,
            quarters_below=decision.quarters_below,
            inputs=_as_text(asdict(grade_inputs)),
            sub_scores=_as_text(asdict(result.sub_scores)),
            rule_version=result.rule_version,
            tier_rule_version=decision.rule_version,
            settings_fingerprint=settings_fingerprint(self.settings),
            actor=actor,
            at=at,
        )
        self._save(grading)
        return view_of(GradingView, grading, entitlements=grading.entitlements)

    def get_grading(self, customer_id: UUID) -> GradingView:
        """The customer's tier, latest score and entitlements."""
        grading = self._load(Grading, grading_id(customer_id))
        return view_of(GradingView, grading, entitlements=grading.entitlements)

    # --- service quality (chapter 4) -----------------------------------------------

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

    def get_service_standard(self, code: str) -> QualityView:
        """A standard with its target and monitoring counts."""
        return view_of(QualityView, self._standard(code))
