"""`ledger identity backfill`: one record per person for customers registered before
identity claims existed.

A store written before claims (an older `ledger demo`, an upgrade) has customers whose
identity numbers nobody claims, so a duplicate of them is not refused at registration.
The backfill reads every live customer's numbers (through the application and the
keyring: they are only in encrypted events) and claims each one that is unclaimed. It
is idempotent. Two live customers holding one number are reported by id (the number
is never printed), the earlier-registered one keeps the claim, and the command exits 1.
"""

from __future__ import annotations

import click

from domain.actor import SYSTEM
from domain.services.identity import ClaimsBackfill
from web.cli.exits import CheckFailed
from web.cli.group import LedgerGroup
from web.cli.store import open_ledger


def report(result: ClaimsBackfill) -> str:
    """The one-line summary of a backfill."""
    return (
        f"identity claims: {result.customers} customers read, {result.claimed} numbers "
        f"claimed, {result.erased} erased skipped, {len(result.duplicates)} duplicates"
    )


@click.group("identity", cls=LedgerGroup)
def identity_group() -> None:
    """One record per person: identity-number claims."""


@identity_group.command("backfill")
def backfill() -> None:
    """Claim every live customer's identity numbers where unclaimed (after an upgrade).

    Idempotent. Exits 1 when two live customers hold one number: both ids are printed
    (never the number); resolve by merging or erasure.
    """
    ledger = open_ledger()
    try:
        result = ledger.app.backfill_identity_claims(SYSTEM)
    finally:
        ledger.close()
    for holder, other in result.duplicates:
        click.echo(f"duplicate: {other} holds a number claimed by {holder}")
    click.echo(report(result))
    if result.duplicates:
        raise CheckFailed(
            f"duplicates found: {len(result.duplicates)}; resolve by merging or erasure"
        )


COMMANDS: tuple[click.Command, ...] = (identity_group,)
