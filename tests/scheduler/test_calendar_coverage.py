"""A job that counts business days in a year no calendar covers fails, with a clear
message and an alert, and records nothing else; /readyz gives the reason."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from typing import Any

import pytest

from domain.rules.kyc import risk_rating_deadline
from scheduler.context import JobContext
from scheduler.runner import JobRunner
from security.calendars import load_calendars
from tests.scheduler.test_security_checks import alerts
from web.app import calendars_check

pytestmark = pytest.mark.integration


def test_a_job_reaching_an_uncovered_year_fails_with_the_reason_and_an_alert(
    sqlite_runner: JobRunner,
) -> None:
    app = sqlite_runner.ledger.app
    app.calendars = load_calendars(None)  # the packages alone: CN ends at 2026

    def needs_2027(ctx: JobContext) -> None:
        due = risk_rating_deadline(date(2026, 12, 18), app.settings, app.calendars.cn)
        ctx.note("due", due.isoformat())

    spec = sqlite_runner.spec("performance_monthly")
    sqlite_runner._by_name[spec.name] = replace(spec, run=needs_2027)
    outcome = sqlite_runner.run_by_hand("performance_monthly")
    assert outcome.state == "failed"
    assert outcome.error is not None and "CN business calendar does not cover 2027" in outcome.error
    (alert,) = alerts(sqlite_runner)
    assert alert.kind == "job_failure" and "does not cover 2027" in alert.detail
    # with the year added by the firm's file the same run completes
    app.calendars = load_calendars(sqlite_runner.ledger.config.calendar_overrides)
    again = sqlite_runner.run(spec.name, period_at=outcome.at, how="manual")
    assert again.state == "completed"


def test_readyz_names_the_uncovered_years(sqlite_runner: JobRunner) -> None:
    app: Any = sqlite_runner.ledger.app
    assert calendars_check(app) == "ok"  # the test override file adds CN 2027
    app.calendars = load_calendars(None)
    reason = calendars_check(app)  # an error in 2027, a warning in 2026 (by the app's clock)
    assert reason.removeprefix("warning: ").startswith("no business calendar for CN 2027")
    assert "LEDGER_CALENDAR_OVERRIDES" in reason
