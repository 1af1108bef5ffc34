"""`ledger projections status | rebuild [NAME] | run`: the read views from the command line.

`status` prints each view's position, lag (events and seconds), skipped (erased)
events and errors; with `--check` it exits 1 when the views are not ready.
`rebuild` replays the log from zero into shadow tables (a progress bar on a TTY)
while the old views keep serving, then swaps them in. `run` follows the log until
interrupted (`--once`: catch up and exit), as the one projector process of a
deployment.
"""

from __future__ import annotations

import json
import signal
import sys
import threading
from types import FrameType

import click

from domain.errors import DomainError
from projections.runtime import close_read_models, read_models
from projections.status import MAX_LAG_EVENTS, MAX_LAG_SECONDS, ViewStatus
from web.cli.exits import CheckFailed, RuntimeProblem, UsageProblem
from web.cli.group import LedgerGroup
from web.cli.store import open_ledger


def _seconds(value: float) -> str:
    return "never synced" if value == float("inf") else f"{value:.1f}"


def _line(view: ViewStatus) -> str:
    state = "ok" if view.schema_current else "schema changed: rebuild"
    if view.error:
        state = f"error: {view.error}"
    if view.rebuilding_at is not None:
        state += f" (rebuild at {view.rebuilding_at})"
    return (
        f"{view.name:<10} {view.position:>10} {view.lag_events:>10} "
        f"{_seconds(view.lag_seconds):>12} {view.skipped:>8} {view.generation:>4}  {state}"
    )


@click.group("projections", cls=LedgerGroup)
def projections_group() -> None:
    """Read views built from the log: status, rebuild, run."""


@projections_group.command("status")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
@click.option("--check", is_flag=True, help="Exit 1 when the views are not ready.")
@click.option("--max-lag-events", default=MAX_LAG_EVENTS, show_default=True, type=int)
@click.option("--max-lag-seconds", default=MAX_LAG_SECONDS, show_default=True, type=float)
def status(as_json: bool, check: bool, max_lag_events: int, max_lag_seconds: float) -> None:
    """Position and lag (in events and seconds) of every view."""
    ledger = open_ledger()
    try:
        result = read_models(ledger).readiness(
            max_lag_events=max_lag_events, max_lag_seconds=max_lag_seconds
        )
    finally:
        close_read_models(ledger)
        ledger.close()
    if as_json:
        views = [
            {**vars(v), "lag_seconds": None if v.lag_seconds == float("inf") else v.lag_seconds}
            for v in result.views
        ]
        click.echo(json.dumps({"ready": result.ready, "reasons": result.reasons, "views": views}))
    else:
        head = result.views[0].head if result.views else 0
        click.echo(f"log head: {head}")
        header = ("view", "position", "lag", "lag s", "skipped", "gen")
        click.echo("{:<10} {:>10} {:>10} {:>12} {:>8} {:>4}  state".format(*header))
        for view in result.views:
            click.echo(_line(view))
        click.echo("ready" if result.ready else "NOT READY: " + "; ".join(result.reasons))
    if check and not result.ready:
        raise CheckFailed("the views are not ready")


@projections_group.command("rebuild")
@click.argument("name", required=False)
@click.option("--batch-size", default=1000, show_default=True, type=click.IntRange(1, 100_000))
def rebuild(name: str | None, batch_size: int) -> None:
    """Rebuild NAME (default: every view) from zero; the old view serves until the swap."""
    from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn

    ledger = open_ledger()
    try:
        models = read_models(ledger)
        names = None if name is None else [name]
        label = name or "all views"
        columns = (
            TextColumn("{task.description}"),
            BarColumn(),
            TextColumn("{task.completed}/{task.total} events"),
            TimeRemainingColumn(),
        )
        with Progress(*columns, disable=not sys.stderr.isatty(), transient=True) as progress:
            task = progress.add_task(f"rebuilding {label}", total=None)
            done = models.rebuild(
                names,
                batch_size=batch_size,
                progress=lambda at, head: progress.update(task, completed=at, total=head),
            )
        click.echo(
            f"rebuilt {', '.join(done.views)}: {done.notifications} events read, "
            f"now at position {done.position} (generation {done.generation})"
        )
    except DomainError as exc:
        raise UsageProblem(exc.message) from None
    finally:
        close_read_models(ledger)
        ledger.close()


@projections_group.command("run")
@click.option("--once", is_flag=True, help="Catch up with the log and exit.")
@click.option("--poll", default=None, type=float, help="Seconds between polls when idle.")
def run(once: bool, poll: float | None) -> None:
    """Follow the log and keep every view up to date (the one projector of a deployment).

    Long-running: follows until stopped (Ctrl-C or SIGTERM, exit 0); --once catches up
    and exits.
    """
    ledger = open_ledger()
    try:
        models = read_models(ledger)
        if once:
            count = models.catch_up()
            click.echo(f"caught up: {count} events read")
            return
        stopped = threading.Event()

        def stop(signum: int, frame: FrameType | None) -> None:
            stopped.set()

        signal.signal(signal.SIGTERM, stop)
        signal.signal(signal.SIGINT, stop)
        follower = models.follow(poll)
        click.echo("following the log; Ctrl-C to stop", err=True)
        while not stopped.wait(1.0):
            if not follower.running:
                raise RuntimeProblem("the projector stopped unexpectedly")
    finally:
        close_read_models(ledger)
        ledger.close()


COMMANDS: tuple[click.Command, ...] = (projections_group,)
