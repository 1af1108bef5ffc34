"""Customer grading: a weighted 0-100 score, the tier it earns, and the tier actually held.

Sub-scores are linear in their input up to a cap and 100 beyond it (caps in settings):
amount = yearly transaction amount / cap; frequency = transaction count / cap; loyalty =
half tenure years / cap plus half products held / cap; credit = the 0-100 score of the
newest recorded credit assessment. With no assessment the credit is "unknown" and takes
the explicit treatment of `grade_credit_unknown_score` (default 0: unknown credit earns
nothing, so it can never lift a tier above what a known score would). The score is the
weighted sum, rounded half-up to 2 places; the tier is decided on that rounded score, so
the recorded score always explains the recorded tier.

`risk_measures` is the measure set of policy 3.3 that goes with a tier and the KYC risk
rating, each configured in settings.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from domain.rules._checks import count_input, decimal_input, one_of
from domain.rules.errors import RuleError
from domain.rules.kyc import RISK_LEVELS
from domain.settings import RuleSettings

# grade_score/2: credit comes from a recorded assessment, or is "unknown" (no default).
GRADE_SCORE_VERSION = "grade_score/2"
TIER_DECISION_VERSION = "next_tier/1"
RISK_MEASURES_VERSION = "risk_measures/1"
CREDIT_UNKNOWN = "unknown"

TIERS = ("ordinary", "premium", "vip")  # lowest first; the index is the rank
_HUNDRED = Decimal(100)
_CENT = Decimal("0.01")


@dataclass(frozen=True)
class GradeInputs:
    """What a grade is computed from, as recorded on the GradeAssigned event."""

    yearly_amount: Decimal
    transaction_count: int
    tenure_years: Decimal
    products_held: int
    credit_score: int | None


@dataclass(frozen=True)
class SubScores:
    """The four 0-100 sub-scores before weighting."""

    amount: Decimal
    frequency: Decimal
    loyalty: Decimal
    credit: Decimal


@dataclass(frozen=True)
class GradeResult:
    """A computed grade: score 0-100 (2 places), the tier it earns, and how it was reached."""

    inputs: GradeInputs
    sub_scores: SubScores
    score: Decimal
    tier: str
    rule_version: str = GRADE_SCORE_VERSION

    @property
    def credit_known(self) -> bool:
        """False when no credit assessment was recorded and the unknown treatment applied."""
        return self.inputs.credit_score is not None


@dataclass(frozen=True)
class TierDecision:
    """The tier held after this quarter's grading, and the run of quarters below it."""

    previous_tier: str | None
    computed_tier: str
    tier: str
    changed: bool
    quarters_below: int
    rule_version: str = TIER_DECISION_VERSION


def _capped(value: Decimal, cap: Decimal) -> Decimal:
    return min(value / cap, Decimal(1)) * _HUNDRED


def grade_score(inputs: GradeInputs, settings: RuleSettings) -> GradeResult:
    """Return the weighted 0-100 score and tier for `inputs`.

    Guarantees: every sub-score and the score lie in 0..100; the score is non-decreasing
    in every input. A credit score of None ("unknown") scores `grade_credit_unknown_score`.
    Negative inputs or a credit score outside 0..100 raise RuleError.
    """
    amount = decimal_input("yearly_amount", inputs.yearly_amount)
    tenure = decimal_input("tenure_years", inputs.tenure_years)
    if amount < 0 or tenure < 0:
        raise RuleError("yearly_amount and tenure_years must not be negative")
    count = count_input("transaction_count", inputs.transaction_count)
    products = count_input("products_held", inputs.products_held)
    if inputs.credit_score is None:
        credit = settings.grade_credit_unknown_score
    else:
        credit = count_input("credit_score", inputs.credit_score)
        if credit > 100:
            raise RuleError(f"credit_score must be within 0..100, got {credit}")
    tenure_part = _capped(tenure, Decimal(settings.grade_cap_tenure_years))
    products_part = _capped(Decimal(products), Decimal(settings.grade_cap_products_held))
    subs = SubScores(
        amount=_capped(amount, settings.grade_cap_yearly_amount),
        frequency=_capped(Decimal(count), Decimal(settings.grade_cap_transaction_count)),
        loyalty=(tenure_part + products_part) / 2,
        credit=Decimal(credit),
    )
    raw = (
        settings.tier_weight_amount * subs.amount
        + settings.tier_weight_frequency * subs.frequency
        + settings.tier_weight_loyalty * subs.loyalty
        + settings.tier_weight_credit * subs.credit
    )
    score = raw.quantize(_CENT, rounding=ROUND_HALF_UP)
    return GradeResult(
        inputs=inputs,
        sub_scores=subs,
        score=score,
        tier=tier_for_score(score, settings),
    )


def tier_for_score(score: Decimal | int, settings: RuleSettings) -> str:
    """Return "vip" at or above the VIP threshold (80), "premium" at or above the premium
    threshold (60), else "ordinary". A score outside 0..100 raises RuleError."""
    value = decimal_input("score", score)
    if not 0 <= value <= _HUNDRED:
        raise RuleError(f"score must be within 0..100, got {value}")
    if value >= settings.tier_vip_threshold:
        return "vip"
    if value >= settings.tier_premium_threshold:
        return "premium"
    return "ordinary"


def next_tier(
    current_tier: str | None, computed_tier: str, quarters_below: int, settings: RuleSettings
) -> TierDecision:
    """Decide the tier held after this quarter.

    `quarters_below` is the run of consecutive earlier quarters computed below the held
    tier. A first grading or a higher computed tier takes effect at once. A lower one
    takes effect only on the 2nd consecutive quarter below (`tier_downgrade_quarters`),
    moving to this quarter's computed tier; until then the tier is kept and the run
    grows. A computed tier equal to the held one resets the run. The returned
    `quarters_below` is the run after this quarter (0 whenever the tier changed).
    """
    if current_tier is not None:
        one_of("tier", current_tier, TIERS)
    one_of("tier", computed_tier, TIERS)
    run = count_input("quarters_below", quarters_below)

    def decision(tier: str, below: int) -> TierDecision:
        return TierDecision(
            previous_tier=current_tier,
            computed_tier=computed_tier,
            tier=tier,
            changed=tier != current_tier,
            quarters_below=below,
        )

    if current_tier is None or TIERS.index(computed_tier) >= TIERS.index(current_tier):
        return decision(computed_tier, 0)
    run += 1
    if run >= settings.tier_downgrade_quarters:
        return decision(computed_tier, 0)
    return decision(current_tier, run)


@dataclass(frozen=True)
class RiskMeasureSet:
    """The risk-control measures in force for a tier and risk rating, sorted, no repeats."""

    tier: str
    risk_level: str | None
    measures: tuple[str, ...]
    rule_version: str = RISK_MEASURES_VERSION


def risk_measures(tier: str, risk_level: str | None, settings: RuleSettings) -> RiskMeasureSet:
    """Return the measures of policy 3.3 for `tier` and the KYC `risk_level`.

    The set is the tier's measures (`risk_measures_vip`, `_premium`, `_ordinary`) and the
    risk rating's (`risk_measures_high`, `_medium`, `_low`); a customer not yet rated
    takes the tier's alone. Guarantees: sorted and without repeats, so two equal sets
    compare equal; an unknown tier or risk level raises RuleError.
    """
    one_of("tier", tier, TIERS)
    chosen = set(getattr(settings, f"risk_measures_{tier}"))
    if risk_level is not None:
        one_of("risk_level", risk_level, RISK_LEVELS)
        chosen |= set(getattr(settings, f"risk_measures_{risk_level}"))
    return RiskMeasureSet(tier=tier, risk_level=risk_level, measures=tuple(sorted(chosen)))
