"""Queries on the `crises` view: the crisis register and each crisis's customer contacts.

Whether first contact is overdue is decided at query time from the stored deadline and
the application's clock (as the complaint queue does), so the register is right at any
moment without a projector write.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from projections.base import when
from projections.book import EVERYONE, Book
from projections.paging import Page, Where, check_page, order_by
from projections.schema import CRISIS, CRISIS_CONTACT, CUSTOMER
from projections.store import ViewStore

REGISTER_SORTS = {"opened_at": "opened_at", "severity": "severity", "state": "state"}


class CrisisQueries:
    """Read side of the `crises` view."""

    def __init__(self, store: ViewStore, clock: Callable[[], datetime]) -> None:
        self.store = store
        self.clock = clock
        self.crises = store.table(CRISIS)
        self.contacts = store.table(CRISIS_CONTACT)
        self.customers = store.table(CUSTOMER)

    def crisis_register(
        self,
        *,
        state: str | None = None,
        severity: str | None = None,
        sort: str | None = None,
        limit: int = 50,
        offset: int = 0,
    ) -> Page:
        """Open and closed crises, newest first by default: affected and contacted
        customers, the first contact, the deadline and whether some customer's first
        contact is overdue (open, past the deadline, not everyone contacted)."""
        check_page(limit, offset)
        now = when(self.clock()) or ""
        where = Where().equal("state", state).equal("severity", severity)
        total = self.store.row(f"SELECT COUNT(*) AS n FROM {self.crises}{where.sql}", where.params)
        order = order_by(sort, REGISTER_SORTS, "-opened_at", "crisis_id")
        rows = self.store.rows(
            f"SELECT * FROM {self.crises}{where.sql}{order} LIMIT ? OFFSET ?",
            [*where.params, limit, offset],
        )
        items = [_crisis(row, now) for row in rows]
        return Page(items, int(total["n"]) if total else 0, limit, offset)

    def crisis_contacts(
        self,
        crisis_id: str,
        *,
        contacted: bool | None = None,
        limit: int = 50,
        offset: int = 0,
        book: Book = EVERYONE,
    ) -> Page:
        """Each customer affected by the crisis (by id): the first contact's time and
        channel, whether it was in time, how many contacts, and the evidence (the
        contact in the customer's log; the crisis event and its log position). Only the
        customers of `book` are listed (and counted)."""
        check_page(limit, offset)
        where = book.restrict_by_customer(Where().equal("crisis_id", crisis_id), self.customers)
        if contacted is not None:
            where.add(f"first_contact_at IS {'NOT ' if contacted else ''}NULL")
        total = self.store.row(
            f"SELECT COUNT(*) AS n FROM {self.contacts}{where.sql}", where.params
        )
        rows = self.store.rows(
            f"SELECT * FROM {self.contacts}{where.sql} ORDER BY customer_id LIMIT ? OFFSET ?",
            [*where.params, limit, offset],
        )
        items = [
            {
                "customer_id": row["customer_id"],
                "first_contact_at": row["first_contact_at"],
                "contact_channel": row["contact_channel"],
                "in_time": None if row["in_time"] is None else bool(row["in_time"]),
                "contacts": int(row["contacts"]),
                "interaction_id": row["interaction_id"],
                "evidence_ref": row["evidence_ref"],
                "evidence_position": row["evidence_position"],
            }
            for row in rows
        ]
        return Page(items, int(total["n"]) if total else 0, limit, offset)


def _crisis(row: dict[str, Any], now: str) -> dict[str, Any]:
    due = row["contact_due_at"]
    waiting = int(row["affected"]) - int(row["contacted"])
    return {
        "crisis_id": row["crisis_id"],
        "title": row["title"],
        "severity": row["severity"],
        "state": row["state"],
        "opened_at": row["opened_at"],
        "closed_at": row["closed_at"],
        "contact_due_at": due,
        "affected": int(row["affected"]),
        "contacted": int(row["contacted"]),
        "contacted_in_time": int(row["contacted_in_time"]),
        "first_contact_at": row["first_contact_at"],
        "contact_overdue": row["state"] == "open"
        and due is not None
        and due <= now
        and waiting > 0,
        "statements": int(row["statements"]),
        "remedies": int(row["remedies"]),
    }
