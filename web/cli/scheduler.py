"""`ledger scheduler`: every job on its trigger, in the foreground until stopped."""

from __future__ import annotations

from datetime import datetime

import click

from domain.errors import DomainError
from web.cli.exits import CheckFailed, UsageProblem
from web.cli.group import LedgerCommand
from web.cli.jobs import open_job_runner
from web.cli.options import MOMENT
from web.logs import configure_logging


@click.command("scheduler", cls=LedgerCommand)
@click.option("--replay-from", type=MOMENT, metavar="TIME", help="Replay the triggers from TIME.")
@click.option("--replay-until", type=MOMENT, metavar="TIME", help="End of the replay (exclusive).")
def scheduler_command(replay_from: datetime | None, replay_until: datetime | None) -> None:
    """Run every job on its trigger (APScheduler, in the foreground).

    Long-running: runs until stopped (SIGTERM or Ctrl-C). Logs are JSON lines on stderr.
    Refuses to start when a business calendar lacks the current year (warns for the next).

    With --replay-from/--replay-until, run instead every job at each of its fire times
    in that past window, as of those times, in order, and exit (catching up after
    downtime); exit 1 when a run failed. Periods already recorded are skipped, whoever
    recorded them.
    """
    configure_logging()
    if (replay_from is None) != (replay_until is None):
        raise UsageProblem("--replay-from and --replay-until go together")
    runner = open_job_runner()
    if replay_from is None or replay_until is None:
        from scheduler.service import serve
        from security.calendars import require_coverage

        app = runner.ledger.app
        try:  # no business calendar for this year: refuse to start (one line); next: warn
            require_coverage(app.calendars, app.now().date())
        except DomainError:
            runner.close()
            raise
        serve(runner)
        return
    counts: dict[str, int] = {}
    try:
        for outcome in runner.replay(replay_from, replay_until):
            counts[outcome.state] = counts.get(outcome.state, 0) + 1
    except DomainError as exc:
        raise UsageProblem(exc.message) from None
    finally:
        runner.close()
    click.echo("replayed: " + (", ".join(f"{n} {s}" for s, n in sorted(counts.items())) or "0"))
    if counts.get("failed"):
        raise CheckFailed(f"{counts['failed']} runs failed")


COMMANDS: tuple[click.Command, ...] = (scheduler_command,)
