"""Quarterly grading: every live customer graded once per quarter, with its tier."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import pytest

from domain.errors import NotFound
from domain.services.grading import CreditAssessment
from scheduler.runner import JobRunner
from tests.domain.factories import COMPLIANCE, SYSTEM, Clock, individual
from tests.scheduler.conftest import events

pytestmark = pytest.mark.integration


def test_every_live_customer_is_graded_for_the_quarter_just_ended_once(
    sqlite_runner: JobRunner, app: Any, clock: Clock
) -> None:
    big = individual(app)
    small = individual(app)
    restricted = individual(app)
    prospect = individual(app, status="prospect")
    clock.set(datetime(2026, 3, 31, 18, tzinfo=UTC))
    app.record_transactions(
        big,
        date(2026, 3, 1),
        date(2026, 3, 31),
        120,
        Decimal("1000000"),
        SYSTEM,
        products=["deposit", "fund", "fx", "insurance", "loan"],
        source_ref="core-2026-03",
    )
    # Credit comes from an assessment; `small` has none and is graded "credit unknown".
    app.record_credit_assessment(
        CreditAssessment(big, "pboc_credit_reference", 80, date(2026, 3, 15)), SYSTEM
    )
    app.request_erasure(restricted, COMPLIANCE)
    clock.set(datetime(2026, 4, 1, 4, tzinfo=UTC))

    outcome = sqlite_runner.run("grading")
    assert (outcome.state, outcome.period) == ("completed", "2026Q1")
    assert outcome.summary["customers_graded"] == 2
    assert outcome.summary["customers_restricted"] == 1
    assert app.get_grading(big).tier == "vip"
    assert app.get_grading(small).tier == "ordinary"
    assert app.get_grading(small).credit_status == "unknown"
    assert app.get_grading(big).periods == ("2026Q1",)
    for unrated in (restricted, prospect):
        with pytest.raises(NotFound):
            app.get_grading(unrated)

    before = events(sqlite_runner)
    clock.set(datetime(2026, 4, 20, tzinfo=UTC))
    assert sqlite_runner.run_by_hand("grading", datetime(2026, 4, 1, 4, tzinfo=UTC)).state == (
        "skipped"
    )
    assert events(sqlite_runner) == before
