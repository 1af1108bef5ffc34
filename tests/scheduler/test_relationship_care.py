"""Daily relationship care: birthday greetings within consent; special care at 60; follow-ups."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import pytest

from scheduler.relationship_care import is_birthday
from scheduler.runner import JobRunner
from tests.domain.factories import RM, Clock, grant_marketing, individual

pytestmark = pytest.mark.integration


def test_birthdays_are_greeted_within_consent_once_and_sixty_year_olds_get_special_care(
    sqlite_runner: JobRunner, app: Any, clock: Clock
) -> None:
    clock.set(datetime(2026, 3, 1, 9, tzinfo=UTC))
    consenting = individual(app, date_of_birth=date(1966, 3, 2))
    silent = individual(app, date_of_birth=date(1990, 3, 2))
    other_day = individual(app, date_of_birth=date(1990, 7, 9))
    grant_marketing(app, consenting, purpose="greetings")
    grant_marketing(app, other_day, purpose="greetings")
    clock.set(datetime(2026, 3, 2, 8, tzinfo=UTC))

    outcome = sqlite_runner.run("relationship_care")
    assert outcome.summary["greetings_sent"] == 1
    assert outcome.summary["greetings_without_consent"] == 1
    assert outcome.summary["elderly_flagged"] == 1
    assert app.get_interactions(consenting).greetings_sent == ("birthday:2026",)
    assert app.get_customer(consenting).special_care == ("elderly",)
    assert app.get_customer(silent).special_care == ()

    clock.set(datetime(2026, 3, 3, 8, tzinfo=UTC))
    again = sqlite_runner.run_by_hand("relationship_care", datetime(2026, 3, 2, 20, tzinfo=UTC))
    assert again.state == "skipped"  # a backfill of the same day records nothing


def test_special_care_follow_ups_fall_due_every_90_days(
    sqlite_runner: JobRunner, app: Any, clock: Clock
) -> None:
    clock.set(datetime(2026, 3, 2, 8, tzinfo=UTC))
    elderly = individual(app, date_of_birth=date(1950, 1, 20))
    clock.set(datetime(2026, 5, 30, 8, tzinfo=UTC))
    assert "follow_ups_due" not in sqlite_runner.run("relationship_care").summary
    clock.set(datetime(2026, 5, 31, 8, tzinfo=UTC))
    assert sqlite_runner.run("relationship_care").summary["follow_ups_due"] == 1
    app.record_care_visit(elderly, "home_visit", "Tea and statements", RM)
    clock.set(datetime(2026, 6, 1, 8, tzinfo=UTC))
    assert "follow_ups_due" not in sqlite_runner.run("relationship_care").summary


def test_a_29_february_birthday_is_greeted_on_28_february_in_common_years() -> None:
    assert is_birthday(date(1964, 2, 29), date(2027, 2, 28))
    assert not is_birthday(date(1964, 2, 29), date(2028, 2, 28))
    assert is_birthday(date(1964, 2, 29), date(2028, 2, 29))
