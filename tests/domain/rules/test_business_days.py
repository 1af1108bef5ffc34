"""Business-day arithmetic: weekends, holidays, make-up workdays, and its invariants."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.business_days import add_business_days, business_days_between, is_business_day
from domain.settings import CN_HOLIDAYS_2026, CN_WORKDAYS_2026

pytestmark = pytest.mark.unit

FRI = date(2026, 3, 6)
SAT, SUN, MON = FRI + timedelta(1), FRI + timedelta(2), FRI + timedelta(3)

dates = st.dates(min_value=date(2025, 6, 1), max_value=date(2027, 6, 30))
holiday_sets = st.one_of(
    st.just(frozenset(CN_HOLIDAYS_2026)),
    st.frozensets(st.dates(min_value=date(2025, 6, 1), max_value=date(2027, 12, 31)), max_size=60),
)
counts = st.integers(min_value=-60, max_value=60)


def test_weekdays_are_business_days_and_weekends_are_not() -> None:
    assert is_business_day(FRI, ())
    assert not is_business_day(SAT, ())
    assert not is_business_day(SUN, ())


def test_holiday_on_a_weekday_is_not_a_business_day() -> None:
    assert not is_business_day(date(2026, 10, 1), CN_HOLIDAYS_2026)


def test_make_up_saturday_is_a_business_day() -> None:
    assert is_business_day(date(2026, 2, 28), CN_HOLIDAYS_2026, workdays=CN_WORKDAYS_2026)
    assert not is_business_day(date(2026, 2, 28), CN_HOLIDAYS_2026)


def test_date_both_holiday_and_workday_is_a_holiday() -> None:
    assert not is_business_day(SAT, {SAT}, workdays={SAT})


def test_adding_one_business_day_to_friday_gives_monday() -> None:
    assert add_business_days(FRI, 1, ()) == MON


def test_start_day_is_never_counted_even_on_a_weekend() -> None:
    assert add_business_days(SAT, 1, ()) == MON
    assert add_business_days(SUN, 3, ()) == MON + timedelta(2)


def test_adding_zero_rolls_a_weekend_forward_and_keeps_a_business_day() -> None:
    assert add_business_days(SAT, 0, ()) == MON
    assert add_business_days(FRI, 0, ()) == FRI


def test_negative_count_goes_back() -> None:
    assert add_business_days(MON, -1, ()) == FRI


def test_spring_festival_week_is_skipped() -> None:
    # Fri 13 Feb 2026; 15-23 Feb are holidays, Sat 14 Feb is a make-up workday.
    start = date(2026, 2, 13)
    assert add_business_days(start, 1, CN_HOLIDAYS_2026) == date(2026, 2, 24)
    assert add_business_days(start, 1, CN_HOLIDAYS_2026, workdays=CN_WORKDAYS_2026) == date(
        2026, 2, 14
    )


def test_business_days_between_counts_after_a_up_to_and_including_b() -> None:
    assert business_days_between(FRI, MON, ()) == 1
    assert business_days_between(FRI, FRI, ()) == 0
    assert business_days_between(MON, FRI, ()) == -1
    assert business_days_between(date(2026, 9, 30), date(2026, 10, 9), CN_HOLIDAYS_2026) == 2


def test_business_days_between_counts_make_up_workdays() -> None:
    a, b = date(2026, 2, 13), date(2026, 2, 28)
    assert business_days_between(a, b, CN_HOLIDAYS_2026) == 4  # 24-27 Feb
    assert business_days_between(a, b, CN_HOLIDAYS_2026, workdays=CN_WORKDAYS_2026) == 6


@given(dates, counts, holiday_sets)
def test_result_is_always_a_business_day(start: date, n: int, holidays: frozenset[date]) -> None:
    assert is_business_day(add_business_days(start, n, holidays), holidays)


@given(dates, dates, st.integers(min_value=0, max_value=40), holiday_sets)
def test_adding_is_monotonic_in_start(a: date, b: date, n: int, holidays: frozenset[date]) -> None:
    early, late = min(a, b), max(a, b)
    assert add_business_days(early, n, holidays) <= add_business_days(late, n, holidays)


@given(dates, counts, holiday_sets)
def test_adding_is_increasing_in_n(start: date, n: int, holidays: frozenset[date]) -> None:
    this, following = (add_business_days(start, k, holidays) for k in (n, n + 1))
    if n == 0 and not is_business_day(start, holidays):
        assert this == following  # both are the first business day after start
    else:
        assert this < following


@given(dates, st.integers(min_value=1, max_value=60), holiday_sets)
def test_between_inverts_adding(start: date, n: int, holidays: frozenset[date]) -> None:
    assert business_days_between(start, add_business_days(start, n, holidays), holidays) == n


@given(dates, dates, holiday_sets, st.frozensets(dates, max_size=10))
def test_between_matches_counting_day_by_day(
    a: date, b: date, holidays: frozenset[date], workdays: frozenset[date]
) -> None:
    lo, hi = min(a, b), max(a, b)
    expected = sum(
        1
        for k in range(1, (hi - lo).days + 1)
        if is_business_day(lo + timedelta(k), holidays, workdays=workdays)
    )
    sign = 1 if b >= a else -1
    assert business_days_between(a, b, holidays, workdays=workdays) == sign * expected
