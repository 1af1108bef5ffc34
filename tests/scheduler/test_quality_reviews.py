"""Service standards past their yearly review and improvement plans past their due
date: recorded once by the `quality_reviews` job, alerted once; on both stores."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import pytest

from domain.errors import IllegalTransition, ValidationFailed
from domain.evaluation import ImprovementPlanClosed, ImprovementPlanOverdue
from domain.quality import StandardReviewOverdue
from scheduler.runner import JobRunner
from tests.domain.factories import COMPLIANCE, SYSTEM, Clock
from tests.domain.test_chapter8_performance import INPUTS
from tests.scheduler.test_warnings import alerts

pytestmark = pytest.mark.integration


def of_type(app: Any, stream: Any, event_type: type) -> list[Any]:
    return [e for e in app.events_of(stream) if isinstance(e, event_type)]


def test_a_standard_unreviewed_for_12_months_is_flagged_once_per_due_date(
    runner: JobRunner, clock: Clock
) -> None:
    app = runner.ledger.app
    clock.set(datetime(2026, 3, 2, 9, tzinfo=UTC))
    kept = app.define_service_standard(
        "Q-1", "Queue", "wait", Decimal(10), "minutes", COMPLIANCE, step="counter"
    )
    reviewed = app.define_service_standard(
        "Q-2", "Calls", "answer", Decimal(2), "minutes", COMPLIANCE, step="phone"
    )
    clock.set(datetime(2026, 12, 1, 9, tzinfo=UTC))
    app.review_service_standard("Q-2", COMPLIANCE, findings="Target still right")
    clock.set(datetime(2027, 3, 2, 9, tzinfo=UTC))  # the due day itself is in time
    assert runner.run("quality_reviews").summary.get("standards_review_overdue") is None
    clock.set(datetime(2027, 3, 3, 9, tzinfo=UTC))
    outcome = runner.run("quality_reviews")
    assert outcome.summary["standards_review_overdue"] == 1
    (late,) = of_type(app, kept, StandardReviewOverdue)
    assert (late.reviewed_on, late.review_due_on) == (date(2026, 3, 2), date(2027, 3, 2))
    assert of_type(app, reviewed, StandardReviewOverdue) == []
    assert app.get_service_standard("Q-1").review_overdue_for == date(2027, 3, 2)
    assert app.get_service_standard("Q-2").reviewed_on == date(2026, 12, 1)
    clock.set(datetime(2027, 3, 4, 9, tzinfo=UTC))
    runner.run("quality_reviews")
    assert len(of_type(app, kept, StandardReviewOverdue)) == 1  # once per due date
    assert alerts(runner, "standard_review_overdue") == [
        "1 service standard review(s) overdue recorded by quality_reviews 2027-03-03;"
        " see the watch-lists"
    ]


def test_an_improvement_plan_closes_with_evidence_or_is_flagged_once_when_late(
    runner: JobRunner, clock: Clock
) -> None:
    app = runner.ledger.app
    clock.set(datetime(2026, 4, 2, 9, tzinfo=UTC))
    app.evaluate_performance("2026-03", "branch:BJ-01", INPUTS, SYSTEM)
    for due in (date(2026, 5, 1), date(2026, 6, 1)):
        view = app.open_improvement_plan(
            "2026-03", "branch:BJ-01", "mgr-bj", ["Call back within a day"], due, COMPLIANCE
        )
    assert view.open_plans == {1: date(2026, 5, 1), 2: date(2026, 6, 1)}
    clock.set(datetime(2026, 4, 30, 9, tzinfo=UTC))
    closed = app.close_improvement_plan(
        "2026-03", "branch:BJ-01", 1, "Call-backs within a day: 96 % in April", COMPLIANCE
    )
    (closing,) = of_type(app, closed.id, ImprovementPlanClosed)
    assert (closing.plan, closing.in_time, closing.due_on) == (1, True, date(2026, 5, 1))
    assert (closed.open_plans, closed.closed_plans) == ({2: date(2026, 6, 1)}, 1)
    before = len(app.events_of(closed.id))
    with pytest.raises(IllegalTransition, match="no open improvement plan 1"):
        app.close_improvement_plan("2026-03", "branch:BJ-01", 1, "again", COMPLIANCE)
    with pytest.raises(ValidationFailed):
        app.close_improvement_plan("2026-03", "branch:BJ-01", 2, " ", COMPLIANCE)
    assert len(app.events_of(closed.id)) == before
    clock.set(datetime(2026, 6, 2, 9, tzinfo=UTC))
    assert runner.run("quality_reviews").summary["plans_overdue"] == 1
    clock.set(datetime(2026, 6, 3, 9, tzinfo=UTC))
    assert "plans_overdue" not in runner.run("quality_reviews").summary
    (late,) = of_type(app, closed.id, ImprovementPlanOverdue)
    assert (late.plan, late.due_on, late.as_of) == (2, date(2026, 6, 1), date(2026, 6, 2))
    assert app.get_evaluation("2026-03", "branch:BJ-01").overdue_plans == (2,)
    assert len(alerts(runner, "improvement_plan_overdue")) == 1
