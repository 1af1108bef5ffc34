"""Chapter 3: quarterly grading, tiers and their entitlements."""

from __future__ import annotations

import re
from dataclasses import asdict
from decimal import ROUND_DOWN, Decimal
from uuid import UUID

from domain.activity import Activity
from domain.actor import Actor
from domain.customer import Customer
from domain.grading import Grading
from domain.ids import activity_id, grading_id
from domain.records import GradingRecord, record_of
from domain.rules.grading import GradeInputs, grade_score, next_tier
from domain.rules.months import add_months
from domain.services.base import LedgerServices
from domain.settings import settings_fingerprint
from domain.validation import check

_QUARTER = re.compile(r"^\d{4}Q[1-4]$")


def _as_text(values: dict[str, object]) -> dict[str, str]:
    return {key: str(value) for key, value in values.items()}


class GradingCommands(LedgerServices):
    """Quarterly grading, tiers and their entitlements."""

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
    ) -> GradingRecord:
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
        return record_of(GradingRecord, grading, entitlements=grading.entitlements)

    def get_grading(self, customer_id: UUID) -> GradingRecord:
        """The customer's tier, latest score and entitlements."""
        grading = self._load(Grading, grading_id(customer_id))
        return record_of(GradingRecord, grading, entitlements=grading.entitlements)
