"""Direct SQL on a test's store, as an attacker (or an operator) with database access."""

from __future__ import annotations

from typing import Any

from security.bootstrap import Ledger


def run_sql(ledger: Ledger, statement: str, params: tuple[Any, ...] = ()) -> None:
    """Run one statement in its own committed transaction (`?` placeholders)."""
    with ledger.datastore.transaction(commit=True) as cursor:
        ledger.keystore.dialect.execute(cursor, statement, params)


def select(ledger: Ledger, statement: str, params: tuple[Any, ...] = ()) -> list[Any]:
    """The rows of one query (`?` placeholders)."""
    with ledger.datastore.transaction(commit=False) as cursor:
        ledger.keystore.dialect.execute(cursor, statement, params)
        return list(cursor.fetchall())


def events_table(ledger: Ledger) -> tuple[str, str]:
    """(table, notification id column) of the events table on this store."""
    if ledger.config.store_kind == "sqlite":
        return "stored_events", "rowid"
    return f'"{ledger.datastore.schema}".ledger_events', "notification_id"
