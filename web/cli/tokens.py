"""`ledger token issue`: bearer tokens for development and tests."""

from __future__ import annotations

import click

from domain.actor import ROLES
from web.cli.group import LedgerGroup
from web.cli.store import open_ledger


@click.group(cls=LedgerGroup)
def token() -> None:
    """Bearer tokens for development and tests."""


@token.command("issue")
@click.option(
    "--role",
    "roles",
    multiple=True,
    required=True,
    type=click.Choice(sorted(ROLES)),
    metavar="ROLE",
    help=f"One of {', '.join(sorted(ROLES))}; repeat for several.",
)
@click.option("--subject", required=True, help="The actor id the token names.")
@click.option(
    "--ttl", default=3600, show_default=True, type=click.IntRange(min=1), help="Seconds valid."
)
def token_issue(roles: tuple[str, ...], subject: str, ttl: int) -> None:
    """Print a signed bearer token (HS256) for SUBJECT with ROLEs."""
    from web.auth import TokenSettings, issue_token

    ledger = open_ledger()
    try:
        settings = TokenSettings.from_settings(ledger.config, ledger.keyring.index_key())
    finally:
        ledger.close()
    click.echo(issue_token(settings, subject, roles, ttl))
