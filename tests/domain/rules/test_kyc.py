"""KYC timing rules at their boundaries."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from domain.rules import RuleError
from domain.rules.kyc import (
    id_document_status,
    reverification_due,
    reverification_schedule,
    reverification_status,
    risk_rating_deadline,
    risk_rating_overdue,
)
from domain.settings import RuleSettings

pytestmark = pytest.mark.unit

S = RuleSettings()


@pytest.mark.parametrize(
    ("risk", "expected"),
    [("high", date(2026, 7, 15)), ("medium", date(2027, 1, 15)), ("low", date(2028, 1, 15))],
)
def test_reverification_cycle_follows_risk_level(risk: str, expected: date) -> None:
    assert reverification_due(risk, date(2026, 1, 15), S) == expected


def test_reverification_from_aug_31_clamps_to_end_of_february() -> None:
    assert reverification_due("high", date(2025, 8, 31), S) == date(2026, 2, 28)


def test_reverification_cycle_is_configurable() -> None:
    s = RuleSettings(reverification_months_high=3)
    assert reverification_due("high", date(2026, 1, 15), s) == date(2026, 4, 15)


def test_unknown_risk_level_is_refused() -> None:
    with pytest.raises(RuleError, match="risk level"):
        reverification_due("severe", date(2026, 1, 15), S)


DUE = date(2026, 6, 30)


@pytest.mark.parametrize(
    ("today", "status"),
    [
        (DUE - timedelta(31), "current"),
        (DUE - timedelta(30), "due_soon"),
        (DUE, "due_soon"),
        (DUE + timedelta(1), "overdue"),
    ],
)
def test_reverification_status_boundaries(today: date, status: str) -> None:
    assert reverification_status(DUE, today, S) == status


def test_reverification_schedule_records_inputs_and_version() -> None:
    result = reverification_schedule("medium", date(2025, 7, 1), date(2026, 6, 15), S)
    assert (result.due, result.status) == (date(2026, 7, 1), "due_soon")
    assert result.risk_level == "medium"
    assert "reverification_due/1" in result.rule_version


def test_risk_rating_deadline_is_ten_working_days_after_registration() -> None:
    # Registered Mon 2 Mar 2026, no holidays in the next two weeks.
    assert risk_rating_deadline(date(2026, 3, 2), S) == date(2026, 3, 16)


def test_risk_rating_deadline_skips_national_day_and_counts_make_up_saturday() -> None:
    # 1-7 Oct are holidays and Sat 10 Oct is a make-up workday. After Tue 29 Sep:
    # 30 Sep, then 8, 9, 10 (Sat), 12, 13, 14, 15, 16, 19 Oct.
    assert risk_rating_deadline(date(2026, 9, 29), S) == date(2026, 10, 19)


EXPIRES = date(2026, 12, 31)


@pytest.mark.parametrize(
    ("today", "status"),
    [
        (EXPIRES - timedelta(91), "valid"),
        (EXPIRES - timedelta(90), "expiring"),
        (EXPIRES, "expiring"),
        (EXPIRES + timedelta(1), "expired"),
    ],
)
def test_id_document_status_boundaries(today: date, status: str) -> None:
    assert id_document_status(EXPIRES, today, S) == status


def test_a_risk_rating_is_overdue_only_after_its_deadline_day_and_only_unrated() -> None:
    due = date(2026, 3, 16)
    assert not risk_rating_overdue(due, False, due)
    assert risk_rating_overdue(due, False, due + timedelta(1))
    assert not risk_rating_overdue(due, True, due + timedelta(30))
