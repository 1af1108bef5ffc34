"""Risk-control measures by tier and risk rating (3.3), value strategies (6.2), and
their settings."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.rules.errors import RuleError
from domain.rules.grading import TIERS, GradeInputs, grade_score, risk_measures
from domain.rules.kyc import RISK_LEVELS
from domain.rules.value import STRATEGY_ACTIONS, value_strategy
from domain.settings import RuleSettings, SettingsError, parse_rule_settings

pytestmark = pytest.mark.unit

DEFAULTS = RuleSettings()


def test_high_risk_measures_are_the_policys_and_join_the_tiers() -> None:
    measures = risk_measures("vip", "high", DEFAULTS)
    assert measures.measures == (
        "enhanced_due_diligence",
        "reverification_6_months",
        "senior_approval_new_products",
        "senior_review_large_transactions",
    )
    assert measures.rule_version == "risk_measures/1"
    assert risk_measures("ordinary", None, DEFAULTS).measures == ()
    assert risk_measures("ordinary", "low", DEFAULTS).measures == ("reverification_24_months",)


@given(st.sampled_from(TIERS), st.sampled_from((None, *RISK_LEVELS)))
def test_a_measure_set_is_sorted_without_repeats(tier: str, level: str | None) -> None:
    measures = risk_measures(tier, level, DEFAULTS).measures
    assert list(measures) == sorted(set(measures))


def test_unknown_tiers_and_levels_are_refused() -> None:
    with pytest.raises(RuleError):
        risk_measures("gold", None, DEFAULTS)
    with pytest.raises(RuleError):
        risk_measures("vip", "extreme", DEFAULTS)


def test_measures_are_configured_from_a_file_or_the_environment() -> None:
    settings = parse_rule_settings(
        {"risk_measures_ordinary": ["annual_review"]},
        {"LEDGER_RULE_RISK_MEASURES_HIGH": "enhanced_due_diligence, board_sign_off"},
    )
    assert settings.risk_measures_ordinary == ("annual_review",)
    assert risk_measures("ordinary", "high", settings).measures == (
        "annual_review",
        "board_sign_off",
        "enhanced_due_diligence",
    )
    with pytest.raises(SettingsError, match="risk_measures_vip"):
        parse_rule_settings({"risk_measures_vip": ["Not A Code"]})
    with pytest.raises(SettingsError, match="risk_measures_low"):
        parse_rule_settings({"risk_measures_low": "reverification_24_months"})


def test_unknown_credit_scores_the_configured_treatment() -> None:
    inputs = GradeInputs(Decimal(0), 0, Decimal(0), 0, None)
    assert grade_score(inputs, DEFAULTS).sub_scores.credit == 0
    assert not grade_score(inputs, DEFAULTS).credit_known
    lenient = RuleSettings(grade_credit_unknown_score=40)
    assert grade_score(inputs, lenient).score == Decimal("8.00")
    with pytest.raises(SettingsError):
        RuleSettings(grade_credit_unknown_score=101)


@pytest.mark.parametrize(
    ("current", "potential", "m", "strategy"),
    [
        ("1000", "5000", 5, "premium_service_plan"),  # high value first
        ("1000", "2000", 3, "high_potential"),  # exactly twice: high potential
        ("1000", "1999.99", 3, "standard"),
        ("0", "0", 1, "standard"),  # no current value: nothing to multiply
        ("-50", "100", 2, "standard"),
    ],
)
def test_value_strategy_by_value_and_potential(
    current: str, potential: str, m: int, strategy: str
) -> None:
    result = value_strategy(Decimal(current), Decimal(potential), m, DEFAULTS)
    assert (result.strategy, result.actions) == (strategy, STRATEGY_ACTIONS[strategy])
    assert result.rule_version == "value_strategy/1"


def test_the_high_potential_ratio_and_clv_parameters_are_settings() -> None:
    settings = parse_rule_settings({"high_potential_ratio": "3", "clv_retention": "0.9"})
    assert value_strategy(Decimal(1000), Decimal(2500), 3, settings).strategy == "standard"
    assert settings.clv_retention == Decimal("0.9")
    for bad in ({"high_potential_ratio": "1"}, {"clv_retention": "1.2"}, {"clv_discount": "-0.1"}):
        with pytest.raises(SettingsError):
            parse_rule_settings(bad)
    with pytest.raises(RuleError):
        value_strategy(Decimal(1), Decimal(1), 0, DEFAULTS)
