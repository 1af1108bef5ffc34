"""Chapter 3: a customer's grade and tier, quarter by quarter.

Each grading records the rule version, the inputs and sub-scores, the computed tier
and the tier held after the upgrade-at-once / downgrade-after-two-quarters decision,
so any tier can be explained later. A tier change is its own event.

Credit is recorded, never assumed: each credit assessment (its source, score and the
day it was made) is a `CreditAssessmentRecorded` on the same stream, and grading uses
the newest one. The risk-control measures that go with the grade (policy 3.3) are a
`RiskMeasuresApplied` whenever the measure set in force changes.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from uuid import UUID

from domain.actor import Actor
from domain.errors import IllegalTransition
from domain.events import CustomerEvent, CustomerOpeningEvent, LedgerAggregate

TIER_ENTITLEMENTS: dict[str, tuple[str, ...]] = {
    "vip": ("priority_handling", "dedicated_relationship_manager", "fee_waivers", "vip_lounge"),
    "premium": ("priority_handling", "dedicated_relationship_manager"),
    "ordinary": (),
}


class NotEntitled(IllegalTransition):
    """The customer's tier does not entitle them to what the command would give."""

    code = "not_entitled"


def require_entitlement(tier: str | None, entitlement: str, action: str) -> None:
    """Raise NotEntitled unless `tier` (None: not graded) gives `entitlement`."""
    if entitlement not in TIER_ENTITLEMENTS.get(tier or "ordinary", ()):
        held = f"the {tier} tier" if tier else "a customer not yet graded"
        raise NotEntitled(f"{action} needs the {entitlement} entitlement, which {held} lacks")


class CreditAssessmentRecorded(CustomerOpeningEvent):
    source: str
    score: int
    assessed_on: date

    def apply(self, aggregate: Grading) -> None:
        aggregate.customer_id = self.customer_id
        # The newest assessment (by the day it was made) is the one in force; one made
        # the same day as the one held replaces it, being the later word on that day.
        held = aggregate.credit_assessed_on
        if held is None or self.assessed_on >= held:
            aggregate.credit_score = self.score
            aggregate.credit_source = self.source
            aggregate.credit_assessed_on = self.assessed_on
        aggregate.credit_assessments += 1


class RiskMeasuresApplied(CustomerEvent):
    period: str
    tier: str
    risk_level: str | None
    measures: list[str]
    rule_version: str

    def apply(self, aggregate: Grading) -> None:
        aggregate.risk_measures = list(self.measures)
        aggregate.risk_measures_rule_version = self.rule_version


class GradeAssigned(CustomerOpeningEvent):
    period: str
    score: Decimal
    computed_tier: str
    tier: str
    quarters_below: int
    inputs: dict[str, str]
    sub_scores: dict[str, str]
    rule_version: str
    settings_fingerprint: str

    def apply(self, aggregate: Grading) -> None:
        aggregate.customer_id = self.customer_id
        aggregate.score = self.score
        aggregate.computed_tier = self.computed_tier
        aggregate.quarters_below = self.quarters_below
        aggregate.periods = [*aggregate.periods, self.period]


class TierChanged(CustomerEvent):
    period: str
    from_tier: str | None
    to_tier: str
    rule_version: str

    def apply(self, aggregate: Grading) -> None:
        aggregate.tier = self.to_tier


class Grading(LedgerAggregate):
    """The customer's latest grade and the tier it holds."""

    def __init__(self) -> None:
        self.customer_id: UUID | None = None
        self.tier: str | None = None
        self.computed_tier: str | None = None
        self.score: Decimal | None = None
        self.quarters_below = 0
        self.periods: list[str] = []
        self.credit_score: int | None = None
        self.credit_source: str | None = None
        self.credit_assessed_on: date | None = None
        self.credit_assessments = 0
        self.risk_measures: list[str] = []
        self.risk_measures_rule_version: str | None = None

    @property
    def entitlements(self) -> tuple[str, ...]:
        """What the held tier entitles the customer to."""
        return TIER_ENTITLEMENTS.get(self.tier or "ordinary", ())

    def record_credit_assessment(
        self,
        *,
        customer_id: UUID,
        source: str,
        score: int,
        assessed_on: date,
        actor: Actor,
        at: datetime,
    ) -> None:
        """Record a credit assessment; grading uses the newest (by `assessed_on`)."""
        self._record(
            CreditAssessmentRecorded,
            actor,
            at,
            customer_id=customer_id,
            source=source,
            score=score,
            assessed_on=assessed_on,
        )

    def apply_risk_measures(
        self,
        *,
        period: str,
        risk_level: str | None,
        measures: list[str],
        rule_version: str,
        actor: Actor,
        at: datetime,
    ) -> bool:
        """Record the measure set for the held tier; False (nothing recorded) when it is
        the set already in force under the same rule version."""
        if self.tier is None:
            raise IllegalTransition("risk measures follow a grade: the customer is not graded")
        if measures == self.risk_measures and rule_version == self.risk_measures_rule_version:
            return False
        self._record(
            RiskMeasuresApplied,
            actor,
            at,
            customer_id=self.customer_id,
            period=period,
            tier=self.tier,
            risk_level=risk_level,
            measures=measures,
            rule_version=rule_version,
        )
        return True

    def assign(
        self,
        *,
        customer_id: UUID,
        period: str,
        score: Decimal,
        computed_tier: str,
        tier: str,
        quarters_below: int,
        inputs: dict[str, str],
        sub_scores: dict[str, str],
        rule_version: str,
        tier_rule_version: str,
        settings_fingerprint: str,
        actor: Actor,
        at: datetime,
    ) -> bool:
        """Record the grade of `period` (once per period); returns True when the tier changed."""
        if period in self.periods:
            raise IllegalTransition("this period was already graded")
        previous = self.tier
        self._record(
            GradeAssigned,
            actor,
            at,
            customer_id=customer_id,
            period=period,
            score=score,
            computed_tier=computed_tier,
            tier=tier,
            quarters_below=quarters_below,
            inputs=inputs,
            sub_scores=sub_scores,
            rule_version=rule_version,
            settings_fingerprint=settings_fingerprint,
        )
        if tier == previous:
            return False
        self._record(
            TierChanged,
            actor,
            at,
            customer_id=customer_id,
            period=period,
            from_tier=previous,
            to_tier=tier,
            rule_version=tier_rule_version,
        )
        return True
