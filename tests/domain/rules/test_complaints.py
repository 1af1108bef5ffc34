"""Complaint deadlines per rule set, and escalation at 80 % and at breach."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.calendars import CalendarNotCovered, table_calendar
from domain.rules import RuleError
from domain.rules.complaints import (
    binding_deadlines,
    breach_deadline,
    complaint_deadline,
    escalation_at,
    escalation_level,
    summary_resolution,
)
from domain.settings import RuleSettings

pytestmark = pytest.mark.unit

S = RuleSettings()
RECEIVED = datetime(2026, 3, 2, 10, 30, tzinfo=UTC)


@pytest.mark.parametrize(
    ("complexity", "days"), [("standard", 15), ("complex", 30), ("especially_complex", 60)]
)
def test_cn_deadline_is_calendar_days_by_complexity(complexity: str, days: int) -> None:
    result = complaint_deadline(RECEIVED, "CN", complexity, S)
    assert result.due_at == RECEIVED + timedelta(days=days)
    assert result.final_due_at is None
    assert result.rule_version == "complaint_deadline/2"
    assert (result.rule_set, result.complexity, result.received_at) == ("CN", complexity, RECEIVED)


def test_only_cn_especially_complex_needs_an_approver() -> None:
    assert complaint_deadline(RECEIVED, "CN", "especially_complex", S).requires_approval
    assert not complaint_deadline(RECEIVED, "CN", "complex", S).requires_approval
    assert not complaint_deadline(RECEIVED, "US", "especially_complex", S).requires_approval


def test_uk_summary_window_from_friday_before_a_bank_holiday_ends_with_thursday() -> None:
    # Fri 1 May 2026; Mon 4 May is the early May bank holiday: Tue, Wed, Thu count.
    received = datetime(2026, 5, 1, 16, 0, tzinfo=UTC)
    result = complaint_deadline(received, "UK", "standard", S)
    # end of Thu 7 May in London: midnight BST is 23:00 UTC
    assert result.summary_resolution_by == datetime(2026, 5, 7, 23, 0, tzinfo=UTC)
    # The only UK deadline is the final response, 8 weeks after receipt.
    assert result.due_at == received + timedelta(weeks=8)
    assert result.final_due_at is None


def test_uk_days_are_london_days_whatever_the_hour_in_utc() -> None:
    # 00:30 and 12:00 on Tue 7 April 2026 in London (BST): the same UK day, although
    # the first is still Monday 6 April (Easter Monday) in UTC. Wed, Thu, Fri count.
    london = timezone(timedelta(hours=1))
    early = complaint_deadline(datetime(2026, 4, 7, 0, 30, tzinfo=london), "UK", "standard", S)
    noon = complaint_deadline(datetime(2026, 4, 7, 12, 0, tzinfo=london), "UK", "standard", S)
    end_of_friday = datetime(2026, 4, 10, 23, 0, tzinfo=UTC)  # midnight BST
    assert early.summary_resolution_by == noon.summary_resolution_by == end_of_friday


def test_uk_without_the_holiday_list_would_be_due_a_day_earlier() -> None:
    received = datetime(2026, 5, 1, 16, 0, tzinfo=UTC)
    no_holidays = table_calendar("UK", {2026}, ())
    result = complaint_deadline(received, "UK", "standard", S, no_holidays)
    assert result.summary_resolution_by == datetime(2026, 5, 6, 23, 0, tzinfo=UTC)  # midnight BST


def test_uk_settings_without_a_holiday_list_cover_no_year_and_say_so() -> None:
    received = datetime(2026, 5, 1, 16, 0, tzinfo=UTC)
    with pytest.raises(CalendarNotCovered, match="UK business calendar does not cover 2026"):
        complaint_deadline(received, "UK", "standard", RuleSettings(uk_holidays=()))


def test_uk_day_of_receipt_is_not_counted_even_on_a_saturday() -> None:
    received = datetime(2026, 3, 7, 9, 0, tzinfo=UTC)  # Saturday
    result = complaint_deadline(received, "UK", "standard", S)
    assert result.summary_resolution_by == datetime(2026, 3, 12, 0, 0, tzinfo=UTC)  # Wed 11


def test_us_has_a_response_and_a_final_deadline() -> None:
    result = complaint_deadline(RECEIVED, "US", "standard", S)
    assert result.due_at == RECEIVED + timedelta(days=15)
    assert result.final_due_at == RECEIVED + timedelta(days=60)
    assert result.summary_resolution_by is None


def test_received_at_is_normalised_to_utc() -> None:
    beijing = timezone(timedelta(hours=8))
    result = complaint_deadline(datetime(2026, 3, 2, 18, 30, tzinfo=beijing), "CN", "standard", S)
    assert result.received_at == RECEIVED
    assert result.due_at.tzinfo == UTC


@pytest.mark.parametrize(
    ("rule_set", "complexity"), [("EU", "standard"), ("cn", "standard"), ("CN", "simple")]
)
def test_unknown_rule_set_or_complexity_is_refused(rule_set: str, complexity: str) -> None:
    with pytest.raises(RuleError):
        complaint_deadline(RECEIVED, rule_set, complexity, S)


def test_naive_received_at_is_refused() -> None:
    with pytest.raises(RuleError, match="timezone-aware"):
        complaint_deadline(datetime(2026, 3, 2, 10, 30), "CN", "standard", S)


START = datetime(2026, 3, 1, tzinfo=UTC)
DUE = START + timedelta(days=10)


@pytest.mark.parametrize(
    ("now", "level"),
    [
        (START - timedelta(days=1), 0),
        (START, 0),
        (START + timedelta(days=8) - timedelta(microseconds=1), 0),
        (START + timedelta(days=8), 1),  # exactly 80 %
        (DUE - timedelta(microseconds=1), 1),
        (DUE, 2),  # exactly at breach
        (DUE + timedelta(days=30), 2),
    ],
)
def test_escalation_boundaries(now: datetime, level: int) -> None:
    assert escalation_level(START, DUE, now, S) == level


def test_escalation_at_is_the_first_instant_of_level_one() -> None:
    due = START + timedelta(days=15)  # 80 % = 12 days
    at = escalation_at(START, due, S)
    assert at == START + timedelta(days=12)
    assert escalation_level(START, due, at, S) == 1
    assert escalation_level(START, due, at - timedelta(microseconds=1), S) == 0


def test_escalation_fraction_is_configurable() -> None:
    s = RuleSettings(escalation_fraction=Decimal("0.5"))
    assert escalation_level(START, DUE, START + timedelta(days=5), s) == 1


def test_escalation_refuses_a_deadline_not_after_receipt() -> None:
    with pytest.raises(RuleError):
        escalation_level(START, START, START, S)


instants = st.datetimes(
    min_value=datetime(2026, 1, 1), max_value=datetime(2026, 12, 31), timezones=st.just(UTC)
)


@given(instants, st.integers(min_value=1, max_value=10**13), instants, instants)
def test_escalation_level_is_monotonic_in_now(
    received: datetime, micros: int, now_a: datetime, now_b: datetime
) -> None:
    due = received + timedelta(microseconds=micros)
    early, late = min(now_a, now_b), max(now_a, now_b)
    assert escalation_level(received, due, early, S) <= escalation_level(received, due, late, S)


# the UK response deadline counts UK business days: received on or before 20 December it
# ends within 2026, the year the default (domain) calendar covers; later it would reach
# 2027, where the calendar refuses to guess (CalendarNotCovered, tested elsewhere)
received_in_covered_year = st.datetimes(
    min_value=datetime(2026, 1, 1), max_value=datetime(2026, 12, 20), timezones=st.just(UTC)
)


@given(
    received_in_covered_year,
    st.sampled_from(["CN", "UK", "US"]),
    st.sampled_from(["standard", "complex"]),
)
def test_deadlines_always_follow_receipt(received: datetime, rule_set: str, cx: str) -> None:
    result = complaint_deadline(received, rule_set, cx, S)
    assert result.received_at < result.due_at
    assert result.final_due_at is None or result.due_at <= result.final_due_at
    window = result.summary_resolution_by
    assert window is None or result.received_at < window <= result.due_at


def test_uk_deadline_over_christmas_skips_both_bank_holidays() -> None:
    # Thu 24 Dec 2026: 25 (Fri) and 28 (Mon) are bank holidays; 29, 30, 31 count.
    result = complaint_deadline(datetime(2026, 12, 24, 12, tzinfo=UTC), "UK", "standard", S)
    assert result.summary_resolution_by is not None
    assert result.summary_resolution_by.date() == date(2027, 1, 1)


RESPONSE_DUE = RECEIVED + timedelta(days=15)
FINAL_DUE = RECEIVED + timedelta(days=60)


def test_a_us_case_is_bound_by_its_response_stage_until_answered_then_the_final() -> None:
    v2 = "complaint_deadline/2"
    unanswered = binding_deadlines("US", v2, RESPONSE_DUE, FINAL_DUE, responded=False)
    assert unanswered == (("response", RESPONSE_DUE), ("final", FINAL_DUE))
    assert binding_deadlines("US", v2, RESPONSE_DUE, FINAL_DUE, responded=True) == (
        ("final", FINAL_DUE),
    )


def test_a_single_deadline_binds_whether_or_not_answered() -> None:
    for responded in (False, True):
        assert binding_deadlines("CN", "complaint_deadline/2", RESPONSE_DUE, None, responded) == (
            ("response", RESPONSE_DUE),
        )
    assert binding_deadlines("CN", "none", None, None, False) == ()


def test_a_uk_case_under_the_first_rule_version_is_bound_by_its_final_response_only() -> None:
    window = RECEIVED + timedelta(days=3)
    eight_weeks = RECEIVED + timedelta(weeks=8)
    stages = binding_deadlines("UK", "complaint_deadline/1", window, eight_weeks, False)
    assert stages == (("final", eight_weeks),)


def test_in_time_is_judged_against_the_final_response_where_there_is_one() -> None:
    assert breach_deadline(RESPONSE_DUE, FINAL_DUE) == FINAL_DUE
    assert breach_deadline(RESPONSE_DUE, None) == RESPONSE_DUE
    assert breach_deadline(None, None) is None


def test_a_summary_resolution_is_one_resolved_before_the_window_closes() -> None:
    window = datetime(2026, 5, 8, tzinfo=UTC)
    assert summary_resolution(window - timedelta(microseconds=1), window)
    assert not summary_resolution(window, window)
    assert not summary_resolution(RECEIVED, None)
