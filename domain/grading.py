"""Chapter 3: a customer's grade and tier, quarter by quarter.

Each grading records the rule version, the inputs and sub-scores, the computed tier
and the tier held after the upgrade-at-once / downgrade-after-two-quarters decision,
so any tier can be explained later. A tier change is its own event.
"""

from __future__ import annotations

from datetime import datetime
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

    @property
    def entitlements(self) -> tuple[str, ...]:
        """What the held tier entitles the customer to."""
        return TIER_ENTITLEMENTS.get(self.tier or "ordinary", ())

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
