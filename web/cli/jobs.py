"""`ledger jobs list` and `ledger jobs run NAME [--as-of DATE]`: the scheduled jobs by hand.

The runs build the ledger from the same configuration as every other command (env
vars; the scheduler's own settings are in docs/scheduler.md). Logs are JSON lines on
stderr. A bad job name, date or setting exits 2; a run that fails exits 1.
"""

from __future__ import annotations

from datetime import datetime

import click

from domain.errors import DomainError
from domain.services.base import utc_now
from scheduler.registry import JOBS, job
from scheduler.runner import JobRunner, RunOutcome, open_runner
from security.settings import Settings
from web.cli.exits import CheckFailed, UsageProblem
from web.cli.group import LedgerGroup
from web.cli.options import MOMENT
from web.logs import configure_logging


def open_job_runner() -> JobRunner:
    """The job runner over the ledger the environment points at (checked by the command)."""
    try:
        return open_runner(Settings.from_env(), base_clock=utc_now)
    except DomainError as exc:
        raise UsageProblem(exc.message) from None


def _summary(summary: dict[str, int | str]) -> str:
    return ", ".join(f"{key}={value}" for key, value in summary.items()) or "nothing to do"


def _echo_outcome(outcome: RunOutcome) -> None:
    line = f"{outcome.job} {outcome.period}: {outcome.state}"
    if outcome.state == "completed":
        line += f" ({_summary(outcome.summary)})"
    elif outcome.state == "skipped":
        line += " (already recorded or running elsewhere; nothing recorded)"
    elif outcome.error:
        line += f": {outcome.error}"
    click.echo(line)


@click.group("jobs", cls=LedgerGroup)
def jobs() -> None:
    """Scheduled jobs: list them, run one by hand."""


@jobs.command("list")
def jobs_list() -> None:
    """Each job with its trigger, period, last run (from the ledger) and next run."""
    runner = open_job_runner()
    try:
        rows = []
        for spec in JOBS:
            schedule = runner.settings.schedules[spec.name]
            trigger = f"{schedule.cron} ({runner.settings.timezone})"
            if not schedule.enabled:
                trigger = "disabled"
            last = runner.last_run(spec.name)
            last_text = "never"
            if last is not None:
                when = last.finished_at or last.started_at
                stamp = f" {when:%Y-%m-%dT%H:%MZ}" if when else ""
                last_text = f"{last.period} {last.state}{stamp}"
            next_run = runner.next_run(spec.name)
            next_text = f"{next_run:%Y-%m-%dT%H:%M%z}" if next_run else "-"
            rows.append((spec.name, trigger, spec.cadence.name, last_text, next_text))
    finally:
        runner.close()
    header = ("JOB", "TRIGGER", "PERIOD", "LAST RUN", "NEXT RUN")
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(len(header))]
    for row in [header, *rows]:
        cells = (cell.ljust(width) for cell, width in zip(row, widths, strict=True))
        click.echo("  ".join(cells).rstrip())


@jobs.command("run")
@click.argument("name")
@click.option("--as-of", "as_of", type=MOMENT, metavar="DATE", help="Run as of this past day.")
def jobs_run(name: str, as_of: datetime | None) -> None:
    """Run job NAME now, or as of a past DATE (a backfill), recording its period once.

    DATE is an ISO 8601 date (that day at 00:00 UTC) or date-time. A monthly or
    quarterly job run as of a day evaluates the month or quarter before that day.
    `ledger jobs list` names the jobs. Exit 1 when the run fails.
    """
    try:
        job(name)
    except DomainError as exc:
        raise UsageProblem(exc.message) from None
    configure_logging()
    runner = open_job_runner()
    try:
        outcome = runner.run_by_hand(name, as_of)
    except DomainError as exc:
        raise UsageProblem(exc.message) from None
    finally:
        runner.close()
    _echo_outcome(outcome)
    if outcome.state in ("failed", "interrupted"):
        raise CheckFailed(f"{name} {outcome.period}: {outcome.state}")


COMMANDS: tuple[click.Command, ...] = (jobs,)
