"""The runner records each (job, period) once: re-runs, failures, leases, shutdown, replay."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

import pytest

from domain.actor import Actor
from domain.alerts import SecurityAlertRaised
from domain.ids import job_run_id
from domain.jobs import JobRunCompleted, JobRunFailed, JobRunStarted
from scheduler.runner import FutureRun, JobRunner
from security.bootstrap import Settings
from tests.domain.factories import Clock, individual
from tests.scheduler.conftest import events, open_test_runner

pytestmark = pytest.mark.integration

QUARTER_START = datetime(2026, 4, 1, 4, 0, tzinfo=UTC)
LATER = datetime(2026, 4, 30, 12, 0, tzinfo=UTC)
OTHER = Actor("scheduler@elsewhere:1", "system", "scheduler")


def topics(app: Any, aggregate_id: UUID) -> list[str]:
    return [type(e).__name__ for e in app.events_of(aggregate_id)]


def alerts(app: Any) -> list[SecurityAlertRaised]:
    from scheduler.population import stream_ids

    return [app.events_of(i)[0] for i in stream_ids(app, SecurityAlertRaised)]


def test_a_period_is_recorded_once_and_a_second_run_records_nothing(
    runner: JobRunner, clock: Clock
) -> None:
    app = runner.ledger.app
    for _ in range(3):
        individual(app)
    clock.set(LATER)
    first = runner.run_by_hand("grading", QUARTER_START)
    assert (first.state, first.period, first.summary["customers_graded"]) == (
        "completed",
        "2026Q1",
        3,
    )
    before = events(runner)
    again = runner.run_by_hand("grading", QUARTER_START + timedelta(days=20))
    assert (again.state, again.period) == ("skipped", "2026Q1")
    assert events(runner) == before
    run_id = job_run_id("grading", "2026Q1")
    assert [type(e) for e in app.events_of(run_id)] == [JobRunStarted, JobRunCompleted]


def test_a_run_failing_midway_is_failed_and_alerted_and_a_rerun_does_only_the_rest(
    runner: JobRunner, clock: Clock, monkeypatch: pytest.MonkeyPatch
) -> None:
    app = runner.ledger.app
    customers = [individual(app) for _ in range(3)]
    clock.set(LATER)
    real = app.grade_customer

    def flaky(customer_id: UUID, *args: Any, **kwargs: Any) -> Any:
        if customer_id == customers[1]:
            raise RuntimeError("core system unavailable")
        return real(customer_id, *args, **kwargs)

    monkeypatch.setattr(app, "grade_customer", flaky)
    failed = runner.run_by_hand("grading", QUARTER_START)
    assert failed.state == "failed"
    assert "1 item(s) failed" in (failed.error or "")
    run_id = job_run_id("grading", "2026Q1")
    assert isinstance(app.events_of(run_id)[-1], JobRunFailed)
    (alert,) = alerts(app)
    assert (alert.kind, alert.job_run_id) == ("job_failure", run_id)
    assert [app.get_grading(c).periods for c in (customers[0], customers[2])] == [("2026Q1",)] * 2

    monkeypatch.setattr(app, "grade_customer", real)
    rerun = runner.run_by_hand("grading", QUARTER_START)
    assert (rerun.state, rerun.attempt) == ("completed", 2)
    assert rerun.summary["customers_graded"] == 1
    assert rerun.summary["customers_already_graded"] == 2
    assert all(app.get_grading(c).periods == ("2026Q1",) for c in customers)


def test_a_period_claimed_elsewhere_is_left_alone_until_its_lease_runs_out(
    runner: JobRunner, clock: Clock
) -> None:
    app = runner.ledger.app
    assert app.start_job_run("retention", "2026-03-02", OTHER)
    before = events(runner)
    assert runner.run("retention").state == "skipped"
    assert events(runner) == before
    clock.advance(hours=2, minutes=1)  # the other process died; its lease has run out
    outcome = runner.run("retention")
    assert (outcome.state, outcome.period, outcome.attempt) == ("completed", "2026-03-02", 2)


def test_shutdown_stops_a_run_between_items_and_the_period_can_be_run_again(
    runner: JobRunner, clock: Clock, monkeypatch: pytest.MonkeyPatch
) -> None:
    app = runner.ledger.app
    customers = [individual(app) for _ in range(3)]
    clock.set(LATER)
    real = app.grade_customer

    def then_stop(*args: Any, **kwargs: Any) -> Any:
        runner.stop.set()  # SIGTERM arrives while the first customer is graded
        return real(*args, **kwargs)

    monkeypatch.setattr(app, "grade_customer", then_stop)
    outcome = runner.run_by_hand("grading", QUARTER_START)
    assert outcome.state == "interrupted"
    assert alerts(app) == []  # a shutdown is not a security finding
    runner.stop.clear()
    monkeypatch.setattr(app, "grade_customer", real)
    assert runner.run_by_hand("grading", QUARTER_START).state == "completed"
    assert all(app.get_grading(c).periods == ("2026Q1",) for c in customers)


def test_a_backfill_of_a_moment_still_to_come_is_refused(runner: JobRunner) -> None:
    before = events(runner)
    with pytest.raises(FutureRun):
        runner.run_by_hand("retention", datetime(2026, 3, 3, tzinfo=UTC))
    assert events(runner) == before


def test_replay_runs_every_fire_time_in_order_as_of_that_time(
    ledger_config: Settings, clock: Clock
) -> None:
    disabled = {
        f"LEDGER_JOB_{name.upper()}_ENABLED": "false"
        for name in ("reverification", "value_churn", "relationship_care", "retention")
    }
    replayer = open_test_runner(ledger_config, clock, **disabled)
    try:
        start = datetime(2026, 3, 1, 0, 0, tzinfo=UTC)
        done = list(replayer.replay(start, start + timedelta(hours=1)))
        assert [(o.job, o.period, o.state) for o in done] == [
            ("complaint_sla", "2026-03-01T00:00", "completed"),
            ("security_checks", "2026-03-01T00", "completed"),
            ("complaint_sla", "2026-03-01T00:15", "completed"),
            ("complaint_sla", "2026-03-01T00:30", "completed"),
            ("complaint_sla", "2026-03-01T00:45", "completed"),
        ]
        assert [o.job for o in replayer.replay(start, start + timedelta(hours=1))] == [
            o.job for o in done
        ]  # a second replay finds every period recorded and records nothing
        run = replayer.ledger.app.get_job_run("complaint_sla", "2026-03-01T00:45")
        # the run is about its period, and dated when it really ran (nothing in the past)
        assert run.started_at == clock.now and run.period == "2026-03-01T00:45"
        with pytest.raises(FutureRun):
            list(replayer.replay(start, clock.now + timedelta(hours=1)))
    finally:
        replayer.close()


def test_last_run_comes_from_the_ledger_and_next_run_from_the_trigger(
    runner: JobRunner, clock: Clock
) -> None:
    assert runner.last_run("complaint_sla") is None
    runner.run_by_hand("complaint_sla", datetime(2026, 3, 2, 6, 40, tzinfo=UTC))
    last = runner.last_run("complaint_sla")
    assert last is not None and (last.period, last.state) == ("2026-03-02T06:30", "completed")
    clock.advance(minutes=1)
    assert runner.next_run("complaint_sla") == datetime(2026, 3, 2, 9, 15, tzinfo=UTC)
    assert runner.next_run("performance_monthly") == datetime(2026, 4, 1, 3, 0, tzinfo=UTC)
