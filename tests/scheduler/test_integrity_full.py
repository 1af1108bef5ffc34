"""The hourly `security_checks` verify incrementally; the daily `integrity_full` job in
full. Either one that fails raises `integrity_failure` and signs nothing."""

from __future__ import annotations

import pytest

from scheduler.periods import DAILY
from scheduler.registry import job
from scheduler.runner import JobRunner
from tests.domain.factories import Clock, individual
from tests.scheduler.test_security_checks import alerts, flip_a_byte_of_a_sealed_event

pytestmark = pytest.mark.integration


def hourly_verified(runner: JobRunner, clock: Clock, customers: int = 3) -> int:
    """Customers written and sealed, then one hourly run (ok): the verified size."""
    for _ in range(customers):
        individual(runner.ledger.app)
    sealed = runner.ledger.seal()
    assert sealed is not None
    outcome = runner.run("security_checks")
    assert outcome.state == "completed" and alerts(runner) == []
    clock.advance(hours=1)
    return sealed.size


def test_the_daily_full_job_is_registered() -> None:
    spec = job("integrity_full")
    assert (spec.cadence, spec.default_cron) == (DAILY, "20 3 * * *")


def test_the_hourly_check_verifies_incrementally_from_the_last_run(
    runner: JobRunner, clock: Clock
) -> None:
    size = hourly_verified(runner, clock)
    individual(runner.ledger.app)
    outcome = runner.run("security_checks")
    assert outcome.summary["ledger_verification"] == f"incremental from size {size}"
    assert outcome.summary["ledger_events_verified"] == 1  # only what was added
    assert outcome.summary["ledger_checkpoints_signed"] == 1


def test_an_incremental_failure_signs_nothing(runner: JobRunner, clock: Clock) -> None:
    ledger = runner.ledger
    size = hourly_verified(runner, clock)
    for _ in range(2):
        individual(ledger.app)
    ledger.seal()  # as the sealer would, between two hourly checks
    flip_a_byte_of_a_sealed_event(ledger, size + 1)
    individual(ledger.app)
    checkpoints = ledger.sealed_log.checkpoints()
    outcome = runner.run("security_checks")
    assert outcome.summary["ledger_verification"] == f"incremental from size {size}"
    assert outcome.summary["ledger_checkpoint"] == "not signed: verification failed"
    (alert,) = alerts(runner)
    assert alert.kind == "integrity_failure" and f"first bad seq {size + 1}" in alert.detail
    assert ledger.sealed_log.checkpoints() == checkpoints


def test_a_change_below_the_verified_size_passes_the_hourly_check_and_fails_the_daily(
    runner: JobRunner, clock: Clock
) -> None:
    """The trade-off of the incremental hourly check, and the daily job that closes it."""
    ledger = runner.ledger
    hourly_verified(runner, clock)
    flip_a_byte_of_a_sealed_event(ledger, 1)
    assert runner.run("security_checks").state == "completed"
    assert alerts(runner) == []
    individual(ledger.app)
    checkpoints = ledger.sealed_log.checkpoints()
    outcome = runner.run("integrity_full")
    assert (outcome.state, outcome.period) == ("completed", "2026-03-02")
    assert outcome.summary["ledger_verification"] == "full"
    assert outcome.summary["ledger_checkpoint"] == "not signed: verification failed"
    (alert,) = alerts(runner)
    assert (alert.kind, alert.severity) == ("integrity_failure", "critical")
    assert "first bad seq 1" in alert.detail
    assert ledger.sealed_log.checkpoints() == checkpoints


def test_the_daily_full_job_on_a_clean_log_verifies_in_full_and_signs(
    runner: JobRunner, clock: Clock
) -> None:
    hourly_verified(runner, clock)
    individual(runner.ledger.app)
    outcome = runner.run("integrity_full")
    assert outcome.state == "completed"
    assert outcome.summary["ledger_verification"] == "full"
    assert outcome.summary["ledger_checkpoints_signed"] == 1
    assert alerts(runner) == []
