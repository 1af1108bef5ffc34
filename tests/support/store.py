"""Direct SQL on a test's store, as an attacker (or an operator) with database access."""

from __future__ import annotations

from typing import Any
from uuid import UUID

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


def wrapped_of(ledger: Ledger, subject: UUID) -> bytes:
    """The subject's wrapped data key as stored."""
    rows = select(
        ledger, f"SELECT wrapped FROM {ledger.keystore.table} WHERE subject_id=?", (str(subject),)
    )
    return bytes(rows[0]["wrapped"])


def set_wrapped(ledger: Ledger, subject: UUID, wrapped: bytes | None) -> None:
    """Overwrite (or null) the subject's wrapped data key, as an insider could."""
    run_sql(
        ledger,
        f"UPDATE {ledger.keystore.table} SET wrapped=? WHERE subject_id=?",
        (wrapped, str(subject)),
    )
