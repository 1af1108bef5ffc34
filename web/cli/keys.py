"""`ledger keys list | rotate | retire`: the key-encryption keys of the keyring."""

from __future__ import annotations

import click

from web.cli.exits import UsageProblem
from web.cli.group import LedgerGroup
from web.cli.store import open_ledger


@click.group(cls=LedgerGroup)
def keys() -> None:
    """Key-encryption keys: list, rotate, retire."""


@keys.command("list")
def keys_list() -> None:
    """List KEKs with the number of data keys each still wraps (* marks the active one)."""
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
def keys_rotate() -> None:
    """Create a new KEK, make it active and re-wrap every data key under it.

    No event is rewritten; running processes pick up the new KEK from the keyring
    file when they first meet a data key wrapped by it.
    """
    ledger = open_ledger()
    try:
        if ledger.keyring.source is None:
            raise UsageProblem(
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
def keys_retire(kek_id: str) -> None:
    """Remove the old KEK KEK_ID from the keyring once no data key depends on it."""
    ledger = open_ledger()
    try:
        # a process that wrapped a key under the old KEK just before it saw the rotation
        # would leave that key behind: re-wrap once more, then count
        ledger.keystore.rewrap_all()
        remaining = ledger.keystore.count_by_kek().get(kek_id, 0)
        if remaining:
            raise UsageProblem(
                f"{kek_id} still wraps {remaining} data keys: run `ledger keys rotate` first"
            )
        ledger.keyring.remove_kek(kek_id)
        ledger.keyring.save()
        click.echo(f"retired {kek_id}")
    finally:
        ledger.close()
