"""Calendar-month arithmetic clamps to the month's last day."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.rules.months import add_months, add_years

pytestmark = pytest.mark.unit


def test_aug_31_plus_six_months_clamps_to_feb_28() -> None:
    assert add_months(date(2025, 8, 31), 6) == date(2026, 2, 28)


def test_aug_31_plus_six_months_clamps_to_feb_29_in_a_leap_year() -> None:
    assert add_months(date(2023, 8, 31), 6) == date(2024, 2, 29)


def test_negative_months_cross_the_year_backwards() -> None:
    assert add_months(date(2026, 1, 15), -12) == date(2025, 1, 15)
    assert add_months(date(2026, 3, 31), -1) == date(2026, 2, 28)


def test_feb_29_plus_one_year_is_feb_28() -> None:
    assert add_years(date(2024, 2, 29), 1) == date(2025, 2, 28)


@given(st.dates(min_value=date(1900, 1, 1), max_value=date(2200, 1, 1)), st.integers(-600, 600))
def test_month_moves_land_in_the_target_month_never_past_the_day(d: date, months: int) -> None:
    result = add_months(d, months)
    assert (result.year * 12 + result.month) - (d.year * 12 + d.month) == months
    assert result.day <= d.day
