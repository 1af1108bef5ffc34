"""`ledger export` and `ledger verify-bundle`: audit-trail bundles for regulators.

`export` writes a bundle (docs/export-format.md) and records the export in the
ledger; `verify-bundle` checks one offline, with no database and no private key.
Bad arguments print one line to stderr and exit 2; a bundle that does not verify
prints each failure (file and seq) and exits 1 (web/cli/exits.py).
"""

from __future__ import annotations

import getpass
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path

import click

from ledger_verify.bundle.verify import summary
from ledger_verify.bundle.verify import verify_bundle as check_bundle
from ledger_verify.cli import read_vkey
from security.export.errors import ExportError
from security.export.exporter import ExportActor, ExportScope, ExportScopeError, export_bundle
from web.cli.exits import CheckFailed, UsageProblem
from web.cli.group import LedgerCommand
from web.cli.options import MOMENT
from web.cli.store import open_ledger


def default_actor() -> str:
    """`cli:<os user>`, the actor recorded for exports made from a shell."""
    try:
        return f"cli:{getpass.getuser()}"
    except (OSError, KeyError):
        return "cli:unknown"


@contextmanager
def progress_bar(label: str) -> Iterator[Callable[[int, int], None] | None]:
    """A progress callback drawing a bar on a terminal; None when stderr is not one."""
    if not sys.stderr.isatty():
        yield None
        return
    from rich.console import Console
    from rich.progress import Progress

    with Progress(console=Console(stderr=True), transient=True) as bar:
        task = bar.add_task(label, total=None)

        def advance(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total)

        yield advance


@click.command(cls=LedgerCommand)
@click.option("--out", required=True, type=click.Path(path_type=Path), help="Bundle folder.")
@click.option("--customer", "customers", multiple=True, metavar="ID", help="A customer id.")
@click.option("--since", type=MOMENT, metavar="TIME", help="Window start, inclusive.")
@click.option("--until", type=MOMENT, metavar="TIME", help="Window end, exclusive.")
@click.option("--all", "everything", is_flag=True, help="Export the whole log.")
@click.option("--tar", is_flag=True, help="Write OUT.tar.gz instead of a folder.")
@click.option("--actor", default=None, help="Who exports (default: cli:<os user>).")
@click.option("--reason", default=None, help="Why: legal basis or request reference.")
def export(
    out: Path,
    customers: tuple[str, ...],
    since: datetime | None,
    until: datetime | None,
    everything: bool,
    tar: bool,
    actor: str | None,
    reason: str | None,
) -> None:
    """Write an audit-trail bundle a regulator can verify offline, and record it."""
    try:
        scope = ExportScope(customers, since, until, everything)
    except ExportScopeError as exc:
        raise UsageProblem(exc.message) from None
    who = ExportActor(actor or default_actor(), "compliance_officer", "cli", reason)
    ledger = open_ledger()
    try:
        with progress_bar("exporting") as progress:
            result = export_bundle(ledger, out, scope, who, tar=tar, progress=progress)
    except ExportScopeError as exc:
        raise UsageProblem(exc.message) from None
    except ExportError as exc:  # the sealed log does not match its checkpoint
        raise CheckFailed(exc.message) from None
    finally:
        ledger.close()
    click.echo(
        f"wrote {result.path}: {result.events} events ({result.decrypted} decrypted, "
        f"{result.erased} erased) against checkpoint size {result.checkpoint_size}\n"
        f"bundle digest (SHA-256 of manifest.json): {result.bundle_digest}"
    )


@click.command("verify-bundle", cls=LedgerCommand, needs_ledger=False)
@click.argument("bundle", type=click.Path(exists=True, path_type=Path))
@click.option(
    "--trusted-vkey",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="The log's verifier key obtained from the firm; log.vkey must equal it.",
)
@click.option(
    "--witness-vkey",
    "witness_vkeys",
    multiple=True,
    metavar="VKEY",
    help="A trusted witness's C2SP cosigner vkey (or a file holding one); repeatable.",
)
@click.option(
    "--witness-quorum",
    type=click.IntRange(min=0),
    default=None,
    metavar="K",
    help="Valid cosignatures of trusted witnesses the checkpoint needs (default: all).",
)
def verify_bundle(
    bundle: Path,
    trusted_vkey: Path | None,
    witness_vkeys: tuple[str, ...],
    witness_quorum: int | None,
) -> None:
    """Check a bundle (folder or .tar.gz) offline; exit 1 naming each failure."""
    try:
        vkey = trusted_vkey.read_text("utf-8") if trusted_vkey else None
        witnesses = [read_vkey(value) for value in witness_vkeys]
        with progress_bar("verifying") as progress:
            report = check_bundle(
                bundle,
                trusted_vkey=vkey,
                progress=progress,
                witness_vkeys=witnesses,
                witness_quorum=witness_quorum,
            )
    except (OSError, ValueError) as exc:
        raise UsageProblem(str(exc)) from None
    if not report.ok:
        click.echo(summary(report), err=True)
        raise CheckFailed(f"{bundle} does not verify")
    click.echo(summary(report))
    if trusted_vkey is None:
        click.echo(
            "note: checked against the bundle's own key; compare log.vkey with the key the "
            "firm published, or pass --trusted-vkey",
            err=True,
        )


COMMANDS: tuple[click.Command, ...] = (export, verify_bundle)
