"""`ledger init`, `ledger verify`, `ledger checkpoint`, `ledger demo`: the ledger itself."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from domain.actor import SYSTEM
from ledger_verify.checkpoints import CheckpointError, parse_checkpoint, verifier_key
from security.bootstrap import Ledger, Settings, build_ledger
from security.festivals import festival_dates
from security.integrity.verification import TrustedCheckpoint
from security.presence import NoLedger, Presence, prepare_store, probe_ledger
from web.cli.exits import CheckFailed, UsageProblem
from web.cli.group import LedgerCommand
from web.cli.identity import report
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
    """Seal every unsealed event and print the signed checkpoint, with the cosignatures
    of the witnesses of LEDGER_WITNESSES that answered (exit 1: empty log)."""
    ledger = open_ledger()
    try:
        stored = ledger.seal()
        if stored is not None and ledger.witnesses is not None:
            ledger.witnesses.drain()
        note = None if stored is None else ledger.cosigned_note(stored)
    finally:
        ledger.close()
    if note is None:
        raise CheckFailed("the log is empty: nothing to sign")
    click.echo(note, nl=False)


def read_trusted(ledger: Ledger, paths: tuple[Path, ...]) -> dict[str, list[TrustedCheckpoint]]:
    """The trusted checkpoints of `paths`, by the origin they name (the event log's or
    the access log's); UsageProblem for a file that is no checkpoint of this ledger."""
    found: dict[str, list[TrustedCheckpoint]] = {
        ledger.sealed_log.origin: [],
        ledger.access_sealed.origin: [],
    }
    for path in paths:
        try:
            note = path.read_text(encoding="utf-8")
            origin = parse_checkpoint(note).origin
        except (OSError, UnicodeDecodeError) as exc:
            raise UsageProblem(f"--trusted-checkpoint {path} cannot be read: {exc}") from None
        except CheckpointError as exc:
            raise UsageProblem(f"--trusted-checkpoint {path} is not a checkpoint: {exc}") from None
        if origin not in found:
            raise UsageProblem(
                f"--trusted-checkpoint {path} is a checkpoint of {origin!r}, not of this "
                f"ledger's logs ({' or '.join(repr(o) for o in found)})"
            )
        found[origin].append(TrustedCheckpoint(f"--trusted-checkpoint {path}", note))
    return found


@click.command(cls=LedgerCommand)
@click.option("--quiet", is_flag=True, help="Print only failures.")
@click.option(
    "--trusted-checkpoint",
    "trusted_paths",
    multiple=True,
    metavar="FILE",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="A checkpoint note obtained elsewhere (a witness, a regulator, a bundle's "
    "`checkpoint`); the store's log must be that log or a consistent extension of it. "
    "Repeatable.",
)
@click.option(
    "--full",
    is_flag=True,
    help="Recompute every leaf of both logs, not only those added since the last verified state.",
)
def verify(quiet: bool, trusted_paths: tuple[Path, ...], full: bool) -> None:
    """Verify everything recorded: the event log, the access log and the key store;
    exit 1 on any difference, naming the part.

    Incremental by default: each log is checked from the state the last ok run kept in
    `<data dir>/verify/` (its signed checkpoint and Merkle frontier), recomputing only
    the entries added since, and the store must still hold the verified log (a
    rollback, truncation or wipe below it fails). A change to an entry already verified
    is only caught by `--full` (run daily by the `integrity_full` job). Without a
    usable state the run is full, and says so in a `note:` line; the output says which
    mode ran.

    Event and access logs: the leaves, the tree and the checkpoints are recomputed (all
    of them, or those since the verified state), and each log must reach the newest
    checkpoint of the anchor file (LEDGER_ANCHOR_FILE) and every --trusted-checkpoint
    with the same root at its size: a rolled-back,
    truncated, wiped or forked log fails, naming the size it no longer reaches. So must
    it reach each LEDGER_WITNESSES witness's latest cosigned checkpoint (fetched, 3 s
    timeout; a bad cosignature fails, an unreachable witness is a `note:` line). A
    newest checkpoint still lacking a witness's cosignature after 10 s is a note too. Key
    store: every live data key unwraps under its KEK bound to its subject; a destroyed
    key is lawful only with a sealed erasure event of its subject. An empty log does
    not verify either (exit 1): a ledger holds at least the events that were written
    to it, so an empty one is a wiped log or the wrong store.
    """
    ledger = open_ledger()
    try:
        trusted = read_trusted(ledger, trusted_paths)
        report = ledger.verify_all(
            trusted[ledger.sealed_log.origin], trusted[ledger.access_sealed.origin], full=full
        )
    finally:
        ledger.close()
    for note in report.notes:
        click.echo(f"note: {note}", err=True)
    if not report.ok:
        for problem in report.problems:
            click.echo(f"  {problem.message}", err=True)
        raise CheckFailed(report.failure())
    if report.event_log.size == 0 and report.events == 0:
        raise CheckFailed(
            f"the log at {probe_ledger(ledger.config).location} holds no events: nothing to "
            "verify (the wrong store, or a wiped log)"
        )
    if not quiet:
        click.echo(report.summary())


@click.command("log-key", cls=LedgerCommand)
@click.option(
    "--log",
    "which",
    type=click.Choice(["events", "access"]),
    help="Print only this log's verifier key, unlabelled (e.g. into log.vkey).",
)
def log_key(which: str | None) -> None:
    """Print the C2SP verifier keys (vkeys) that check the logs' checkpoints, to publish.

    One line per log, labelled: `events <vkey>` (the event log, the key a regulator
    passes as `--trusted-vkey`) and `access <vkey>` (the access log). Only public keys
    are printed.
    """
    ledger = open_ledger()
    try:
        keys = {
            "events": verifier_key(ledger.sealed_log.origin, ledger.sealed_log.public_key),
            "access": verifier_key(ledger.access_sealed.origin, ledger.access_sealed.public_key),
        }
    finally:
        ledger.close()
    if which is not None:
        click.echo(keys[which])
        return
    for label, vkey in keys.items():
        click.echo(f"{label} {vkey}")


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
                festival_days=festival_dates,
            )
        # customers an older demo wrote without identity claims get theirs now
        claims = ledger.app.backfill_identity_claims(SYSTEM)
        sealed = ledger.seal()
        size = sealed.size if sealed else 0
        click.echo(f"demo data written: {summary}; log sealed at size {size}")
        if claims.claimed or claims.duplicates:
            click.echo(report(claims))
    finally:
        ledger.close()


COMMANDS: tuple[click.Command, ...] = (init, verify, checkpoint, log_key, demo)
