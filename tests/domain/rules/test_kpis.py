"""KPI formulas, including zero denominators."""

from __future__ import annotations

from decimal import Decimal

import pytest

from domain.rules import RuleError
from domain.rules.kpis import (
    KPI_FORMULA_VERSION,
    churn_rate,
    complaint_sla_rate,
    first_contact_resolution,
    retention_rate,
    value_uplift,
)

pytestmark = pytest.mark.unit


def test_formula_version_is_recorded() -> None:
    assert KPI_FORMULA_VERSION == "kpis/2"


def test_churn_rate_is_lost_over_customers_at_start() -> None:
    assert churn_rate(5, 200) == Decimal("0.0250")
    assert churn_rate(1, 3) == Decimal("0.3333")


def test_retention_rate_excludes_new_customers() -> None:
    assert retention_rate(at_end=110, new=20, at_start=100) == Decimal("0.9000")


def test_value_uplift_counts_only_customers_present_at_both_ends() -> None:
    start = {"a": Decimal(100), "b": Decimal(300), "left": Decimal(1000)}
    end = {"a": Decimal(150), "b": Decimal(350), "joined": Decimal(5000)}
    assert value_uplift(start, end) == Decimal("0.2500")


def test_value_uplift_can_be_negative() -> None:
    assert value_uplift({"a": Decimal(200)}, {"a": Decimal(150)}) == Decimal("-0.2500")


def test_value_uplift_refuses_a_negative_starting_value() -> None:
    with pytest.raises(RuleError, match="negative"):
        value_uplift({"a": Decimal(-10)}, {"a": Decimal(10)})


def test_complaint_sla_and_first_contact_resolution_are_shares() -> None:
    assert complaint_sla_rate(45, 50) == Decimal("0.9000")
    assert first_contact_resolution(2, 3) == Decimal("0.6667")


@pytest.mark.parametrize(
    "value",
    [
        churn_rate(0, 0),
        retention_rate(0, 0, 0),
        value_uplift({}, {}),
        value_uplift({"a": Decimal(0)}, {"a": Decimal(10)}),
        value_uplift({"a": Decimal(1)}, {"b": Decimal(1)}),
        complaint_sla_rate(0, 0),
        first_contact_resolution(0, 0),
    ],
)
def test_zero_denominator_gives_none_not_zero(value: Decimal | None) -> None:
    assert value is None


def test_zero_numerator_gives_zero() -> None:
    assert churn_rate(0, 10) == Decimal("0.0000")


@pytest.mark.parametrize(
    "call",
    [
        lambda: churn_rate(-1, 10),
        lambda: churn_rate(11, 10),
        lambda: retention_rate(10, 11, 10),
        lambda: retention_rate(30, 0, 10),
        lambda: complaint_sla_rate(6, 5),
        lambda: first_contact_resolution(1, 0),
    ],
)
def test_impossible_counts_are_refused(call: object) -> None:
    with pytest.raises(RuleError):
        call()  # type: ignore[operator]


def test_loyalty_needs_both_the_tenure_and_the_products() -> None:
    from datetime import date

    from domain.rules.kpis import is_loyal

    end = date(2027, 3, 1)  # the period ends before 1 March 2027
    assert is_loyal(date(2025, 3, 1), 2, end, 24, 2)  # exactly 24 months
    assert not is_loyal(date(2025, 3, 2), 2, end, 24, 2)  # a day short
    assert not is_loyal(date(2020, 1, 1), 1, end, 24, 2)  # one product
    assert not is_loyal(None, 5, end, 24, 2)  # never joined
    assert is_loyal(date(2027, 2, 28), 3, end, 0, 3)  # configured: no tenure needed
