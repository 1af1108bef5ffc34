"""`ledger init`, `ledger verify`, `ledger checkpoint`, `ledger demo`: the ledger itself."""

from __future__ import annotations

import sys

import click

from security.bootstrap import Settings, build_ledger
from security.presence import NoLedger, Presence, prepare_store, probe_ledger
from web.cli.exits import CheckFailed
from web.cli.group import LedgerCommand
from web.cli.store import open_ledger


def refuse_a_new_keyring(found: Presence) -> None:
    """A store that holds a ledger whose keyring is elsewhere must not get a new one."""
    if found.has_tables and found.keyring is None:
        raise NoLedger(
            f"the store at {found.location} holds a ledger but its keyring is not at "
            f"{found.keyring_expected}; set LEDGER_DATA_DIR, LEDGER_KEYRING_FILE or "
            "LEDGER_KEYRING (a new keyring would not open it)"
        )


@click.command(cls=LedgerCommand, needs_ledger=False)
def init() -> None:
    """Create a ledger (keyring and tables) where LEDGER_DATA_DIR or LEDGER_DATABASE_URL
    point, and say where.

    On an existing ledger it says so and changes nothing (exit 0). On PostgreSQL it
    creates the schema named by `?schema=` if it is absent.
    """
    config = Settings.from_env()
    found = probe_ledger(config)
    if found.complete:
        click.echo(f"a ledger already exists at {found.location}: nothing changed")
        return
    refuse_a_new_keyring(found)
    prepare_store(config)
    ledger = build_ledger(config)
    try:
        keyring = ledger.keyring.source or "LEDGER_KEYRING"
    finally:
        ledger.close()
    click.echo(f"created a ledger at {found.location} (keyring: {keyring})")


@click.command(cls=LedgerCommand)
def checkpoint() -> None:
    """Seal every unsealed event and print the signed checkpoint (exit 1: empty log)."""
    ledger = open_ledger()
    try:
        stored = ledger.seal()
    finally:
        ledger.close()
    if stored is None:
        raise CheckFailed("the log is empty: nothing to sign")
    click.echo(stored.note, nl=False)


@click.command(cls=LedgerCommand)
@click.option("--quiet", is_flag=True, help="Print only failures.")
def verify(quiet: bool) -> None:
    """Verify everything recorded: the event log, the access log and the key store;
    exit 1 on any difference, naming the part.

    Event and access logs: every leaf, the tree and every checkpoint are recomputed.
    Key store: every live data key unwraps under its KEK bound to its subject; a
    destroyed key is lawful only with a sealed erasure event of its subject. An empty
    log does not verify either (exit 1): a ledger holds at least the events that were
    written to it, so an empty one is a wiped log or the wrong store.
    """
    ledger = open_ledger()
    try:
        report = ledger.verify_all(ledger.verify())
    finally:
        ledger.close()
    if not report.ok:
        for problem in report.problems:
            click.echo(f"  {problem.message}", err=True)
        raise CheckFailed(report.failure())
    if report.events == 0:
        raise CheckFailed(
            f"the log at {probe_ledger(ledger.config).location} holds no events: nothing to "
            "verify (the wrong store, or a wiped log)"
        )
    if not quiet:
        click.echo(report.summary())


@click.command(cls=LedgerCommand, needs_ledger=False)
@click.option("--customers", default=200, show_default=True, type=click.IntRange(1, 1_000_000))
@click.option("--seed", default=7, show_default=True, type=int)
@click.option("--if-empty", is_flag=True, help="Do nothing if the ledger already holds events.")
def demo(customers: int, seed: int, if_empty: bool) -> None:
    """Seed realistic synthetic customers and a year of activity (deterministic per seed).

    Creates the ledger first if there is none (as `ledger init` would): `make run`
    starts with `ledger demo --if-empty`.
    """
    from rich.progress import Progress

    from demo.year import generate_demo

    config = Settings.from_env()
    found = probe_ledger(config)
    if not found.complete:
        refuse_a_new_keyring(found)
        prepare_store(config)
    ledger = build_ledger(config)
    try:
        if if_empty and ledger.app.recorder.max_notification_id():
            click.echo("the ledger already holds events: demo data not added")
            return
        with Progress(disable=not sys.stderr.isatty(), transient=True) as progress:
            task = progress.add_task("demo customers", total=customers)
            summary = generate_demo(
                ledger.app,
                customers=customers,
                seed=seed,
                progress=lambda done: progress.update(task, completed=done),
            )
        sealed = ledger.seal()
        size = sealed.size if sealed else 0
        click.echo(f"demo data written: {summary}; log sealed at size {size}")
    finally:
        ledger.close()


COMMANDS: tuple[click.Command, ...] = (init, verify, checkpoint, demo)
