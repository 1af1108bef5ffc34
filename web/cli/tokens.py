"""`ledger token issue`: bearer tokens for development and tests."""

from __future__ import annotations

import click

from domain.actor import ROLES
from web.cli.exits import UsageProblem
from web.cli.group import LedgerGroup
from web.cli.store import open_ledger

DEFAULT_TTL = 3600


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
    "--branch",
    default=None,
    help="The branch whose customers the token acts on (required for front_office).",
)
@click.option(
    "--ttl",
    default=None,
    type=click.IntRange(min=1),
    help="Seconds valid (default 3600, or the maximum if lower); at most "
    "LEDGER_TOKEN_MAX_LIFETIME (default 43200).",
)
def token_issue(roles: tuple[str, ...], subject: str, branch: str | None, ttl: int | None) -> None:
    """Print a signed bearer token (HS256) for SUBJECT with ROLEs (and BRANCH).

    A relationship manager acts on the customers whose `relationship_manager` is
    SUBJECT; the front office on the customers of BRANCH (docs/api.md, book of business).
    """
    from domain.errors import DomainError
    from web.auth import TokenSettings, issue_token

    ledger = open_ledger()
    try:
        settings = TokenSettings.from_settings(ledger.config, ledger.keyring.index_key())
    finally:
        ledger.close()
    try:
        lifetime = ttl if ttl is not None else min(DEFAULT_TTL, settings.max_lifetime)
        token = issue_token(settings, subject, roles, lifetime, branch=branch)
    except DomainError as exc:
        raise UsageProblem(exc.message) from None
    click.echo(token)
