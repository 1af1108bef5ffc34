"""`ledger scheduler`, `ledger jobs list`, `ledger jobs run NAME [--as-of DATE]`.

The scheduler process and the by-hand runs build the ledger from the same
configuration as every other command (env vars; the scheduler's own settings are in
docs/scheduler.md). Logs are JSON lines on stderr. A bad job name, date or setting
prints one line to stderr and exits 2; a run that fails exits 1.
"""

from __future__ import annotations

import sys
from datetime import datetime

import click

from domain.errors import DomainError
from domain.moments import parse_moment
from domain.services.base import utc_now
from scheduler.config import load_scheduler_settings
from scheduler.registry import DEFAULT_CRONS, JOBS, job
from scheduler.runner import JobRunner, RunOutcome, open_runner
from web.commands import ArgumentError, OneLineCommand
from web.logs import configure_logging


def _runner() -> JobRunner:
    try:
        settings = load_scheduler_settings(DEFAULT_CRONS)
        return open_runner(settings=settings, base_clock=utc_now)
    except DomainError as exc:
        raise ArgumentError(exc.message) from None


def _moment(text: str | None, option: str) -> datetime | None:
    if text is None:
        return None
    try:
        return parse_moment(text)
    except DomainError as exc:
        raise ArgumentError(f"{option}: {exc.message}") from None


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


@click.command("scheduler", cls=OneLineCommand)
@click.option("--replay-from", metavar="TIME", help="Replay the triggers from TIME, then exit.")
@click.option("--replay-until", metavar="TIME", help="End of the replay (exclusive).")
def scheduler_command(replay_from: str | None, replay_until: str | None) -> None:
    """Run every job on its trigger until SIGTERM (APScheduler, in the foreground).

    With --replay-from/--replay-until, run instead every job at each of its fire times
    in that past window, as of those times, in order, and exit (catching up after
    downtime). Periods already recorded are skipped, whoever recorded them.
    """
    configure_logging()
    start, end = _moment(replay_from, "--replay-from"), _moment(replay_until, "--replay-until")
    if (start is None) != (end is None):
        raise ArgumentError("--replay-from and --replay-until go together")
    runner = _runner()
    if start is None or end is None:
        from scheduler.service import serve

        serve(runner)
        return
    counts: dict[str, int] = {}
    try:
        for outcome in runner.replay(start, end):
            counts[outcome.state] = counts.get(outcome.state, 0) + 1
    except DomainError as exc:
        raise ArgumentError(exc.message) from None
    finally:
        runner.close()
    click.echo("replayed: " + (", ".join(f"{n} {s}" for s, n in sorted(counts.items())) or "0"))
    if counts.get("failed"):
        sys.exit(1)


@click.group("jobs")
def jobs() -> None:
    """Scheduled jobs: list them, run one by hand."""


@jobs.command("list", cls=OneLineCommand)
def jobs_list() -> None:
    """Each job with its trigger, period, last run (from the ledger) and next run."""
    runner = _runner()
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


@jobs.command("run", cls=OneLineCommand)
@click.argument("name")
@click.option("--as-of", "as_of", metavar="DATE", help="Run as of this past day (or time).")
def jobs_run(name: str, as_of: str | None) -> None:
    """Run job NAME now, or as of a past DATE (a backfill), recording its period once.

    DATE is an ISO 8601 date (that day at 00:00 UTC) or date-time. A monthly or
    quarterly job run as of a day evaluates the month or quarter before that day.
    """
    try:
        job(name)
    except DomainError as exc:
        raise ArgumentError(exc.message) from None
    moment = _moment(as_of, "--as-of")
    configure_logging()
    runner = _runner()
    try:
        outcome = runner.run_by_hand(name, moment)
    except DomainError as exc:
        raise ArgumentError(exc.message) from None
    finally:
        runner.close()
    _echo_outcome(outcome)
    if outcome.state in ("failed", "interrupted"):
        sys.exit(1)


COMMANDS = [scheduler_command, jobs]
"""Registered on `ledger` by web/cli.py's discovery of `web/cli_*.py` modules."""
