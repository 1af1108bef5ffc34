"""Time told truly: a backfilled or late run dates its events when they are written, and
says in them what moment they are about; nothing is dated in the past."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from domain.events import LedgerEvent, recording_clock, recording_time
from domain.ids import kyc_file_id
from domain.kyc import RiskRatingOverdue
from scheduler.runner import JobRunner
from tests.domain.factories import Clock, individual

REAL = datetime(2026, 3, 20, 1, tzinfo=UTC)


def written_since(runner: JobRunner, position: int) -> list[LedgerEvent]:
    """Every event written after log position `position`, in log order."""
    app = runner.ledger.app
    found: list[LedgerEvent] = []
    for notification in app.recorder.select_notifications(position + 1, 100_000):
        (event,) = [
            e
            for e in app.events_of(notification.originator_id)
            if e.originator_version == notification.originator_version
        ]
        found.append(event)
    return found


@pytest.mark.integration
def test_a_backfill_dates_its_events_now_and_names_the_day_they_are_about(
    runner: JobRunner, clock: Clock
) -> None:
    app = runner.ledger.app
    unrated = individual(app)  # registered 2026-03-02: rating due 2026-03-16
    clock.set(REAL)
    position = int(app.recorder.max_notification_id() or 0)

    outcome = runner.run_by_hand("reverification", datetime(2026, 3, 18, 1, tzinfo=UTC))
    assert (outcome.state, outcome.period) == ("completed", "2026-03-18")

    written = written_since(runner, position)
    assert written and all(e.occurred_at >= REAL for e in written)
    assert all(e.timestamp >= REAL for e in written)
    (overdue,) = [e for e in written if isinstance(e, RiskRatingOverdue)]
    assert overdue.originator_id == kyc_file_id(unrated)
    assert (overdue.as_of, overdue.rating_due_on) == (date(2026, 3, 18), date(2026, 3, 16))
    assert overdue.reason == "backfill run of reverification 2026-03-18"
    run = app.get_job_run("reverification", "2026-03-18")
    assert run.started_at is not None and run.started_at >= REAL
    # the lease runs in real time: a live scheduler cannot take the period over at once
    assert run.lease_until >= REAL + timedelta(hours=2)


@pytest.mark.integration
def test_a_replayed_day_dates_its_events_now(runner: JobRunner, clock: Clock) -> None:
    app = runner.ledger.app
    individual(app)
    clock.set(REAL)
    position = int(app.recorder.max_notification_id() or 0)
    outcomes = list(
        runner.replay(datetime(2026, 3, 17, tzinfo=UTC), datetime(2026, 3, 18, tzinfo=UTC))
    )
    assert outcomes and all(o.state == "completed" for o in outcomes)
    written = written_since(runner, position)
    assert written and min(e.occurred_at for e in written) >= REAL


@pytest.mark.unit
def test_the_recording_clock_never_dates_before_the_given_moment() -> None:
    given = datetime(2026, 3, 18, tzinfo=UTC)
    assert recording_time(given) == given
    with recording_clock(lambda: REAL):
        assert recording_time(given) == REAL
        assert recording_time(REAL + timedelta(days=1)) == REAL + timedelta(days=1)
    assert recording_time(given) == given
