"""`ledger jobs list` and `ledger jobs run NAME [--as-of DATE]`, called as a user would."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from click.testing import CliRunner

from domain.jobs import JobRunCompleted
from scheduler.registry import JOBS
from security.bootstrap import Settings, build_ledger
from tests.domain.factories import Clock, individual
from tests.support.environment import point_environment_at
from web.cli import main

pytestmark = pytest.mark.e2e


@pytest.fixture
def env(ledger_config: Settings, monkeypatch: pytest.MonkeyPatch) -> Iterator[Settings]:
    point_environment_at(ledger_config, monkeypatch)
    monkeypatch.delenv("LEDGER_SCHEDULER_FILE", raising=False)
    # the CLI sends JSON logs to stderr; under CliRunner that stream is temporary
    monkeypatch.setattr("web.cli.jobs.configure_logging", lambda: None)
    monkeypatch.setattr("web.cli.scheduler.configure_logging", lambda: None)
    ledger = build_ledger(ledger_config, clock=Clock(datetime(2026, 2, 2, 9, tzinfo=UTC)))
    for _ in range(2):
        individual(ledger.app)
    ledger.close()
    yield ledger_config


def test_jobs_run_backfills_a_day_once_and_jobs_list_shows_it(env: Settings) -> None:
    runner = CliRunner()
    result = runner.invoke(main, ["jobs", "run", "performance_monthly", "--as-of", "2026-03-01"])
    assert result.exit_code == 0, result.output
    assert result.output.startswith("performance_monthly 2026-02: completed (")
    again = runner.invoke(main, ["jobs", "run", "performance_monthly", "--as-of", "2026-03-01"])
    assert again.exit_code == 0
    assert "2026-02: skipped" in again.output

    listing = runner.invoke(main, ["jobs", "list"])
    assert listing.exit_code == 0, listing.output
    lines = listing.output.splitlines()
    assert lines[0].split() == ["JOB", "TRIGGER", "PERIOD", "LAST", "RUN", "NEXT", "RUN"]
    assert [line.split()[0] for line in lines[1:]] == [spec.name for spec in JOBS]
    monthly = next(line for line in lines if line.startswith("performance_monthly"))
    assert "0 3 1 * * (UTC)" in monthly and "2026-02 completed" in monthly
    ledger = build_ledger(env)
    try:
        run = ledger.app.get_job_run("performance_monthly", "2026-02")
        assert run.summary["scopes_recorded"] >= 1
        assert isinstance(ledger.app.events_of(run.id)[-1], JobRunCompleted)
    finally:
        ledger.close()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["jobs", "run", "backups"], "error: no job 'backups'; jobs: reverification"),
        (["jobs", "run", "retention", "--as-of", "2026-02-30"], "is not an ISO 8601 date"),
        (["jobs", "run", "retention", "--as-of", "2999-01-01"], "is in the future"),
        (["jobs", "run"], "error: Missing argument 'NAME'"),
        (["scheduler", "--replay-from", "2026-01-01"], "go together"),
    ],
)
def test_a_bad_name_or_date_is_one_line_on_stderr_and_exit_2(
    env: Settings, args: list[str], message: str
) -> None:
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 2
    assert message in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_a_bad_scheduler_setting_is_one_line_and_exit_2(
    env: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LEDGER_JOB_GRADING_CRON", "0 4 1 1,4,7,10 1")
    result = CliRunner().invoke(main, ["jobs", "list"])
    assert result.exit_code == 2
    assert result.stderr.strip() == (
        "error: job 'grading': cron '0 4 1 1,4,7,10 1': write the day of week with names "
        "(mon-sun), not digits"
    )
