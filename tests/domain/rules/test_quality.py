"""standard_breached: a measurement against a service standard's target (policy 4.1)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.rules import RuleError
from domain.rules.quality import (
    HIGHER_IS_BETTER,
    LOWER_IS_BETTER,
    standard_breached,
    standard_review_due,
    standard_review_overdue,
)
from domain.settings import RuleSettings, SettingsError

pytestmark = pytest.mark.unit

S = RuleSettings()
amounts = st.decimals(min_value=0, max_value=10_000, places=2)


@given(target=amounts, unit=st.sampled_from(LOWER_IS_BETTER + HIGHER_IS_BETTER))
def test_a_measurement_on_target_never_breaches(target: Decimal, unit: str) -> None:
    assert standard_breached(target, target, unit, S) is False


@given(target=amounts, excess=st.decimals(min_value="0.01", max_value=100, places=2))
def test_a_time_past_its_target_breaches_and_under_it_does_not(
    target: Decimal, excess: Decimal
) -> None:
    assert standard_breached(target + excess, target, "minutes", S) is True
    if target >= excess:
        assert standard_breached(target - excess, target, "hours", S) is False


def test_a_score_or_share_short_of_its_target_breaches() -> None:
    assert standard_breached(Decimal("89.99"), Decimal(90), "percent", S) is True
    assert standard_breached(Decimal(95), Decimal(90), "percent", S) is False
    assert standard_breached(Decimal(3), Decimal(4), "score", S) is True


def test_the_tolerance_is_a_fraction_of_the_target() -> None:
    lenient = RuleSettings(standard_breach_tolerance=Decimal("0.2"))
    assert standard_breached(Decimal(12), Decimal(10), "days", lenient) is False
    assert standard_breached(Decimal("12.01"), Decimal(10), "days", lenient) is True
    assert standard_breached(Decimal(80), Decimal(100), "percent", lenient) is False
    assert standard_breached(Decimal("79.9"), Decimal(100), "percent", lenient) is True


def test_a_tolerance_outside_0_to_1_is_refused() -> None:
    with pytest.raises(SettingsError, match="standard_breach_tolerance"):
        RuleSettings(standard_breach_tolerance=Decimal("1.5"))


@pytest.mark.parametrize(("measured", "unit"), [(Decimal(-1), "minutes"), (Decimal(1), "furlongs")])
def test_a_negative_measurement_or_unknown_unit_is_a_rule_error(
    measured: Decimal, unit: str
) -> None:
    with pytest.raises(RuleError):
        standard_breached(measured, Decimal(5), unit, S)


def test_a_standard_is_due_for_review_12_months_after_its_last_review() -> None:
    settings = RuleSettings()
    assert standard_review_due(date(2026, 3, 2), settings) == date(2027, 3, 2)
    assert standard_review_due(date(2024, 2, 29), settings) == date(2025, 2, 28)  # clamped
    assert not standard_review_overdue(date(2026, 3, 2), date(2027, 3, 2), settings)
    assert standard_review_overdue(date(2026, 3, 2), date(2027, 3, 3), settings)
    six = RuleSettings(standard_review_months=6)
    assert standard_review_due(date(2026, 8, 31), six) == date(2027, 2, 28)


def test_a_review_period_that_is_not_positive_is_refused() -> None:
    with pytest.raises(SettingsError, match="standard_review_months"):
        RuleSettings(standard_review_months=0)
