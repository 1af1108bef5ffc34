"""Retention period and erasure decisions, including legal holds."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from domain.rules.retention import erasure_decision, retention_ends
from domain.settings import RuleSettings

pytestmark = pytest.mark.unit

S = RuleSettings()
ENDED = date(2016, 3, 15)
ENDS = date(2026, 3, 15)


def test_retention_ends_ten_years_after_the_relationship() -> None:
    assert retention_ends(ENDED, S) == ENDS


def test_retention_from_feb_29_ends_on_feb_28() -> None:
    assert retention_ends(date(2016, 2, 29), S) == date(2026, 2, 28)


def test_erasure_on_the_day_retention_ends_erases() -> None:
    assert erasure_decision(True, ENDED, False, ENDS, S) == "erase"


def test_erasure_the_day_before_retention_ends_only_restricts() -> None:
    assert erasure_decision(True, ENDED, False, ENDS - timedelta(1), S) == "restrict"


def test_erasure_during_a_live_relationship_only_restricts() -> None:
    assert erasure_decision(True, None, False, ENDS, S) == "restrict"


@pytest.mark.parametrize("today", [ENDS - timedelta(1), ENDS, ENDS + timedelta(3650)])
def test_legal_hold_blocks_erasure_whatever_the_date(today: date) -> None:
    assert erasure_decision(True, ENDED, True, today, S) == "blocked_by_hold"


def test_without_a_request_nothing_happens_even_after_retention() -> None:
    assert erasure_decision(False, ENDED, False, ENDS, S) == "not_requested"
    assert erasure_decision(False, ENDED, True, ENDS, S) == "not_requested"


def test_retention_period_is_configurable() -> None:
    s = RuleSettings(retention_years=5)
    assert erasure_decision(True, ENDED, False, date(2021, 3, 15), s) == "erase"
