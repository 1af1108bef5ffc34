"""Grading: the weighted score, tiers at their thresholds, upgrades and delayed downgrades."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.rules import RuleError
from domain.rules.grading import GradeInputs, grade_score, next_tier, tier_for_score
from domain.settings import RuleSettings

pytestmark = pytest.mark.unit

S = RuleSettings()


def inputs(
    amount: str = "0", count: int = 0, tenure: str = "0", products: int = 0, credit: int = 0
) -> GradeInputs:
    return GradeInputs(Decimal(amount), count, Decimal(tenure), products, credit)


def test_everything_at_its_cap_scores_100_and_is_vip() -> None:
    result = grade_score(inputs("1000000", 120, "10", 5, 100), S)
    assert result.score == Decimal("100.00")
    assert result.tier == "vip"
    assert result.rule_version == "grade_score/2"


def test_nothing_scores_zero_and_is_ordinary() -> None:
    result = grade_score(inputs(), S)
    assert (result.score, result.tier) == (Decimal("0.00"), "ordinary")


def test_inputs_beyond_the_caps_score_no_more_than_the_caps() -> None:
    capped = grade_score(inputs("1000000", 120, "10", 5, 100), S)
    beyond = grade_score(inputs("9000000", 999, "40", 12, 100), S)
    assert beyond.score == capped.score


def test_score_is_the_documented_weighted_sum() -> None:
    # amount 50, frequency 25, loyalty (50 + 40) / 2 = 45, credit 70
    result = grade_score(inputs("500000", 30, "5", 2, 70), S)
    assert result.sub_scores.amount == 50
    assert result.sub_scores.frequency == 25
    assert result.sub_scores.loyalty == 45
    assert result.score == Decimal("0.4") * 50 + Decimal("0.2") * (25 + 45 + 70)
    assert result.inputs == inputs("500000", 30, "5", 2, 70)


def test_score_landing_exactly_on_the_vip_threshold_is_vip() -> None:
    # amount 100, frequency 100, loyalty (100 + 0) / 2 = 50, credit 50 -> 40 + 20 + 10 + 10
    result = grade_score(inputs("1000000", 120, "10", 0, 50), S)
    assert (result.score, result.tier) == (Decimal("80.00"), "vip")


@pytest.mark.parametrize(
    ("score", "tier"),
    [
        (Decimal("100"), "vip"),
        (Decimal("80"), "vip"),
        (Decimal("79.99"), "premium"),
        (Decimal("60"), "premium"),
        (Decimal("59.99"), "ordinary"),
        (0, "ordinary"),
    ],
)
def test_tier_thresholds_are_inclusive(score: Decimal, tier: str) -> None:
    assert tier_for_score(score, S) == tier


@pytest.mark.parametrize("score", [Decimal("-0.01"), Decimal("100.01")])
def test_score_outside_0_to_100_is_refused(score: Decimal) -> None:
    with pytest.raises(RuleError):
        tier_for_score(score, S)


@pytest.mark.parametrize(
    "bad",
    [inputs(amount="-1"), inputs(count=-1), inputs(credit=101), inputs(tenure="-0.5")],
)
def test_invalid_grade_inputs_are_refused(bad: GradeInputs) -> None:
    with pytest.raises(RuleError):
        grade_score(bad, S)


def test_float_amount_is_refused() -> None:
    with pytest.raises(RuleError, match="yearly_amount"):
        grade_score(GradeInputs(1000.5, 1, Decimal(1), 1, 50), S)  # type: ignore[arg-type]


def test_first_grading_takes_the_computed_tier() -> None:
    decision = next_tier(None, "premium", 0, S)
    assert (decision.tier, decision.changed, decision.quarters_below) == ("premium", True, 0)


def test_upgrade_takes_effect_at_once() -> None:
    decision = next_tier("ordinary", "vip", 0, S)
    assert (decision.tier, decision.changed, decision.quarters_below) == ("vip", True, 0)


def test_upgrade_clears_a_run_of_quarters_below() -> None:
    decision = next_tier("premium", "vip", 1, S)
    assert (decision.tier, decision.quarters_below) == ("vip", 0)


def test_first_quarter_below_keeps_the_tier() -> None:
    decision = next_tier("vip", "premium", 0, S)
    assert (decision.tier, decision.changed, decision.quarters_below) == ("vip", False, 1)


def test_second_consecutive_quarter_below_downgrades() -> None:
    decision = next_tier("vip", "premium", 1, S)
    assert (decision.tier, decision.changed, decision.quarters_below) == ("premium", True, 0)
    assert (decision.previous_tier, decision.computed_tier) == ("vip", "premium")
    assert decision.rule_version == "next_tier/1"


def test_downgrade_goes_to_this_quarters_computed_tier() -> None:
    assert next_tier("vip", "ordinary", 1, S).tier == "ordinary"


def test_a_quarter_back_at_the_tier_resets_the_run() -> None:
    decision = next_tier("vip", "vip", 1, S)
    assert (decision.tier, decision.changed, decision.quarters_below) == ("vip", False, 0)
    assert next_tier("vip", "premium", decision.quarters_below, S).tier == "vip"


def test_downgrade_delay_is_configurable() -> None:
    s = RuleSettings(tier_downgrade_quarters=1)
    assert next_tier("vip", "premium", 0, s).tier == "premium"


@pytest.mark.parametrize(
    ("current", "computed", "run"), [("gold", "vip", 0), ("vip", "gold", 0), ("vip", "vip", -1)]
)
def test_unknown_tier_or_negative_run_is_refused(current: str, computed: str, run: int) -> None:
    with pytest.raises(RuleError):
        next_tier(current, computed, run, S)


grade_inputs = st.builds(
    GradeInputs,
    st.decimals(min_value=0, max_value=5_000_000, places=2),
    st.integers(min_value=0, max_value=500),
    st.decimals(min_value=0, max_value=50, places=1),
    st.integers(min_value=0, max_value=20),
    st.integers(min_value=0, max_value=100),
)


@given(grade_inputs)
def test_score_is_always_within_0_to_100_and_matches_its_tier(g: GradeInputs) -> None:
    result = grade_score(g, S)
    assert 0 <= result.score <= 100
    assert result.tier == tier_for_score(result.score, S)


@given(grade_inputs, st.integers(min_value=0, max_value=100))
def test_more_credit_never_lowers_the_score(g: GradeInputs, extra: int) -> None:
    better = GradeInputs(
        g.yearly_amount,
        g.transaction_count,
        g.tenure_years,
        g.products_held,
        min(100, g.credit_score + extra),
    )
    assert grade_score(better, S).score >= grade_score(g, S).score
