"""The `ledger` command line: a first-class interface to the ledger.

Every command builds the ledger from the same configuration as the web app
(env vars, see docs/operations.md). Errors print one line to stderr and exit non-zero.
"""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable
from typing import Any, TypeVar

import click

from domain.errors import DomainError
from web.commands import open_ledger

F = TypeVar("F", bound=Callable[..., Any])


def clear_errors(func: F) -> F:
    """Turn domain errors into a one-line message and exit status 2."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except DomainError as exc:
            click.echo(f"error: {exc.message}", err=True)
            sys.exit(2)

    return wrapper  # type: ignore[return-value]


@click.group()
def main() -> None:
    """crm-ledger: an encrypted, verifiable customer-relationship ledger."""


@main.command()
@clear_errors
def checkpoint() -> None:
    """Seal every unsealed event and print the signed checkpoint."""
    ledger = open_ledger()
    try:
        stored = ledger.seal()
        if stored is None:
            click.echo("the log is empty: nothing to sign", err=True)
            sys.exit(1)
        click.echo(stored.note, nl=False)
    finally:
        ledger.close()


@main.command()
@click.option("--quiet", is_flag=True, help="Print only failures.")
@clear_errors
def verify(quiet: bool) -> None:
    """Recompute every leaf, the tree and every checkpoint; exit 1 on any difference."""
    ledger = open_ledger()
    try:
        report = ledger.verify()
    finally:
        ledger.close()
    if report.ok:
        if not quiet:
            click.echo(
                f"ok: {report.events} events, {report.sealed} sealed, "
                f"{report.unsealed} not yet sealed, {report.checkpoints} checkpoints verified"
            )
        return
    click.echo(f"FAILED: first bad seq {report.first_bad_seq}", err=True)
    for problem in report.problems:
        click.echo(f"  {problem.message}", err=True)
    sys.exit(1)


@main.group()
def keys() -> None:
    """Key-encryption keys: list, rotate, retire."""


@keys.command("list")
@clear_errors
def keys_list() -> None:
    """List KEKs with the number of data keys each still wraps."""
    ledger = open_ledger()
    try:
        counts = ledger.keystore.count_by_kek()
        active = ledger.keyring.active_kek_id()
        for kek_id in ledger.keyring.kek_ids():
            kek = ledger.keyring.kek(kek_id)
            mark = "*" if kek_id == active else " "
            click.echo(
                f"{mark} {kek_id}  created {kek.created_at:%Y-%m-%d}  "
                f"wraps {counts.get(kek_id, 0)} data keys"
            )
    finally:
        ledger.close()


@keys.command("rotate")
@clear_errors
def keys_rotate() -> None:
    """Create a new KEK, make it active and re-wrap every data key under it.

    No event is rewritten; running processes pick up the new KEK from the keyring
    file when they first meet a data key wrapped by it.
    """
    ledger = open_ledger()
    try:
        if ledger.keyring.source is None:
            raise DomainError(
                "the keyring comes from LEDGER_KEYRING (an env var): rotate it in your "
                "secret manager, or point LEDGER_KEYRING_FILE at a file"
            )
        kek = ledger.keyring.add_kek()
        ledger.keyring.save()
        count = ledger.keystore.rewrap_all()
        click.echo(f"active KEK is now {kek.kek_id}; re-wrapped {count} data keys")
    finally:
        ledger.close()


@keys.command("retire")
@click.argument("kek_id")
@clear_errors
def keys_retire(kek_id: str) -> None:
    """Remove an old KEK from the keyring once no data key depends on it."""
    ledger = open_ledger()
    try:
        # a process that wrapped a key under the old KEK just before it saw the rotation
        # would leave that key behind: re-wrap once more, then count
        ledger.keystore.rewrap_all()
        remaining = ledger.keystore.count_by_kek().get(kek_id, 0)
        if remaining:
            raise DomainError(
                f"{kek_id} still wraps {remaining} data keys: run `ledger keys rotate` first"
            )
        ledger.keyring.remove_kek(kek_id)
        ledger.keyring.save()
        click.echo(f"retired {kek_id}")
    finally:
        ledger.close()


@main.command()
@click.option("--customers", default=200, show_default=True, type=click.IntRange(1, 1_000_000))
@click.option("--seed", default=7, show_default=True, type=int)
@click.option("--if-empty", is_flag=True, help="Do nothing if the ledger already holds events.")
@clear_errors
def demo(customers: int, seed: int, if_empty: bool) -> None:
    """Seed realistic synthetic customers and a year of activity (deterministic per seed)."""
    from rich.progress import Progress

    from demo.year import generate_demo

    ledger = open_ledger()
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
        checkpoint = ledger.seal()
        size = checkpoint.size if checkpoint else 0
        click.echo(f"demo data written: {summary}; log sealed at size {size}")
    finally:
        ledger.close()


@main.group()
def token() -> None:
    """Bearer tokens for development and tests."""


@token.command("issue")
@click.option("--role", "roles", multiple=True, required=True, help="A role; repeat for several.")
@click.option("--subject", required=True, help="The actor id the token names.")
@click.option("--ttl", default=3600, show_default=True, type=int, help="Seconds of validity.")
@clear_errors
def token_issue(roles: tuple[str, ...], subject: str, ttl: int) -> None:
    """Print a signed bearer token (HS256) for SUBJECT with ROLEs."""
    from web.auth import TokenSettings, issue_token

    ledger = open_ledger()
    try:
        settings = TokenSettings.from_env(ledger.keyring.index_key())
    finally:
        ledger.close()
    click.echo(issue_token(settings, subject, roles, ttl))


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=int)
@click.option("--workers", default=2, show_default=True, type=int)
@click.option("--dev", is_flag=True, help="Flask's development server instead of gunicorn.")
def serve(host: str, port: int, workers: int, dev: bool) -> None:
    """Serve the web app (gunicorn; one ledger per worker, built after fork)."""
    if dev:
        from web.app import create_app

        create_app().run(host=host, port=port)
        return
    from web.serving import run_gunicorn

    run_gunicorn(host, port, workers)


def _register_command_modules() -> None:
    """Add the commands of every `web/cli_*.py` module (each exposes `COMMANDS`)."""
    import importlib
    import pkgutil

    import web

    for info in sorted(pkgutil.iter_modules(web.__path__), key=lambda m: m.name):
        if info.name.startswith("cli_"):
            module = importlib.import_module(f"web.{info.name}")
            for command in getattr(module, "COMMANDS", []):
                main.add_command(command)


_register_command_modules()

if __name__ == "__main__":  # pragma: no cover
    main()
