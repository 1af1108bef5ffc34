"""Periods, the clock and --as-of moments: pure functions, no store."""

from __future__ import annotations

import threading
from datetime import UTC, date, datetime, timedelta, timezone

import pytest

from domain.moments import BadMoment, parse_moment
from scheduler.clock import JobClock
from scheduler.periods import DAILY, HOURLY, PREVIOUS_MONTH, PREVIOUS_QUARTER, QUARTER_HOURLY
from tests.domain.factories import Clock

pytestmark = pytest.mark.unit

AT = datetime(2026, 4, 1, 9, 20, 30, tzinfo=UTC)


def test_each_cadence_names_the_period_a_run_records() -> None:
    assert QUARTER_HOURLY.key(AT) == "2026-04-01T09:15"
    assert HOURLY.key(AT) == "2026-04-01T09"
    assert DAILY.key(AT) == "2026-04-01"
    assert PREVIOUS_MONTH.key(AT) == "2026-03"
    assert PREVIOUS_QUARTER.key(AT) == "2026Q1"
    assert PREVIOUS_QUARTER.key(datetime(2026, 1, 1, tzinfo=UTC)) == "2025Q4"
    assert PREVIOUS_MONTH.key(datetime(2026, 1, 31, 23, tzinfo=UTC)) == "2025-12"


def test_periods_are_cut_on_the_utc_moment_whatever_the_zone() -> None:
    shanghai = timezone(timedelta(hours=8))
    assert DAILY.key(datetime(2026, 4, 1, 2, 0, tzinfo=shanghai)) == "2026-03-31"


def test_monthly_and_quarterly_bounds_cover_the_period_just_ended() -> None:
    assert PREVIOUS_MONTH.bounds(AT) == (date(2026, 3, 1), date(2026, 4, 1))
    assert PREVIOUS_QUARTER.bounds(AT) == (date(2026, 1, 1), date(2026, 4, 1))
    assert DAILY.bounds(AT) == (date(2026, 4, 1), date(2026, 4, 2))


def test_walking_back_visits_every_earlier_period_once() -> None:
    for cadence, expected in (
        (PREVIOUS_MONTH, ["2026-03", "2026-02", "2026-01", "2025-12"]),
        (PREVIOUS_QUARTER, ["2026Q1", "2025Q4", "2025Q3", "2025Q2"]),
        (QUARTER_HOURLY, ["2026-04-01T09:15", "2026-04-01T09:00", "2026-04-01T08:45"]),
    ):
        moment, keys = AT, []
        for _ in expected:
            keys.append(cadence.key(moment))
            moment = cadence.earlier(moment)
        assert keys == expected


def test_a_naive_moment_is_refused() -> None:
    with pytest.raises(ValueError):
        DAILY.key(datetime(2026, 4, 1))


def test_the_clock_shifts_to_an_as_of_moment_and_moves_on_from_there() -> None:
    base = Clock(datetime(2026, 11, 29, 12, tzinfo=UTC))
    clock = JobClock(base)
    with clock.shifted_to(datetime(2026, 3, 1, tzinfo=UTC)):
        assert clock() == datetime(2026, 3, 1, tzinfo=UTC)
        base.advance(seconds=5)
        assert clock() == datetime(2026, 3, 1, 0, 0, 5, tzinfo=UTC)
        assert clock.base_now() == datetime(2026, 11, 29, 12, 0, 5, tzinfo=UTC)
    assert clock() == base.now


def test_a_shift_applies_only_to_the_thread_that_made_it() -> None:
    base = Clock(datetime(2026, 11, 29, 12, tzinfo=UTC))
    clock = JobClock(base)
    seen: list[datetime] = []
    with clock.shifted_to(datetime(2026, 3, 1, tzinfo=UTC)):
        thread = threading.Thread(target=lambda: seen.append(clock()))
        thread.start()
        thread.join()
    assert seen == [base.now]


def test_as_of_accepts_a_date_or_a_date_time_and_names_what_it_refuses() -> None:
    assert parse_moment("2026-03-01") == datetime(2026, 3, 1, tzinfo=UTC)
    assert parse_moment("2026-03-01T10:30") == datetime(2026, 3, 1, 10, 30, tzinfo=UTC)
    assert parse_moment("2026-03-01T10:30+08:00") == datetime(2026, 3, 1, 2, 30, tzinfo=UTC)
    with pytest.raises(BadMoment, match="'yesterday'"):
        parse_moment("yesterday")
    with pytest.raises(BadMoment):
        parse_moment("2026-02-30")
