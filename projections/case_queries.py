"""Queries on the complaint queue and the consent register.

Times left and "overdue" are computed at query time from the stored deadlines and
the application's clock, so the queue is right at any moment without a projector
write; liveness of a consent likewise (start inclusive, end exclusive, as
domain.rules.consent says).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from projections.base import when
from projections.book import EVERYONE, Book
from projections.paging import Page, Where, check_page, order_by
from projections.schema import CASE, CONSENT, CUSTOMER
from projections.store import ViewStore

OPEN_STATES = ("received", "acknowledged", "investigating", "resolved", "followed_up", "reopened")
UNRESOLVED_STATES = ("received", "acknowledged", "investigating", "reopened")
QUEUE_SORTS = {"due_at": "due_at", "received_at": "received_at", "escalation": "escalation_level"}
CONSENT_SORTS = {"customer": "customer_id", "purpose": "purpose", "updated_at": "updated_at"}


def _parse(stamp: str | None) -> datetime | None:
    if stamp is None:
        return None
    return datetime.strptime(stamp, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC)


class CaseQueries:
    """Read side of the `cases` and `consents` views."""

    def __init__(self, store: ViewStore, clock: Callable[[], datetime]) -> None:
        self.store = store
        self.clock = clock
        self.cases = store.table(CASE)
        self.consents = store.table(CONSENT)
        self.customers = store.table(CUSTOMER)

    def complaint_queue(
        self,
        *,
        kind: str | None = None,
        branch: str | None = None,
        owner: str | None = None,
        state: str | None = None,
        escalated: bool | None = None,
        overdue: bool | None = None,
        sort: str | None = None,
        limit: int = 50,
        offset: int = 0,
        book: Book = EVERYONE,
    ) -> Page:
        """Every open case of a customer of `book` with its due time, time left,
        escalation level and owner.

        Default order: overdue cases first (unresolved and past due), then by due
        time, cases with no deadline last. `sort` replaces the order after "overdue".
        """
        check_page(limit, offset)
        now = when(self.clock())
        where = book.restrict_by_customer(Where(), self.customers)
        where.equal("kind", kind).equal("branch", branch).equal("owner", owner)
        where.one_of("state", (state,) if state else OPEN_STATES)
        if escalated is not None:
            where.add("escalation_level>0" if escalated else "escalation_level=0")
        unresolved = ", ".join(f"'{s}'" for s in UNRESOLVED_STATES)
        is_overdue = f"(due_at IS NOT NULL AND due_at<=? AND state IN ({unresolved}))"
        if overdue is not None:
            where.add(is_overdue if overdue else f"NOT {is_overdue}", now)
        total = self.store.row(f"SELECT COUNT(*) AS n FROM {self.cases}{where.sql}", where.params)
        order = order_by(sort, QUEUE_SORTS, "due_at", "case_id")
        order = f" ORDER BY CASE WHEN {is_overdue} THEN 0 ELSE 1 END, " + order[len(" ORDER BY ") :]
        rows = self.store.rows(
            f"SELECT * FROM {self.cases}{where.sql}{order} LIMIT ? OFFSET ?",
            [*where.params, now, limit, offset],
        )
        moment = self.clock()
        return Page(
            [self._case(row, moment) for row in rows],
            int(total["n"]) if total else 0,
            limit,
            offset,
        )

    def _case(self, row: dict[str, Any], moment: datetime) -> dict[str, Any]:
        due = _parse(row["due_at"])
        unresolved = row["state"] in UNRESOLVED_STATES
        left = None if due is None or not unresolved else (due - moment).total_seconds()
        return {
            "case_id": row["case_id"],
            "customer_id": row["customer_id"],
            "kind": row["kind"],
            "category": row["category"],
            "branch": row["branch"],
            "state": row["state"],
            "owner": row["owner"],
            "rule_set": row["rule_set"],
            "complexity": row["complexity"],
            "received_at": row["received_at"],
            "due_at": row["due_at"],
            "final_due_at": row["final_due_at"],
            "seconds_left": None if left is None else int(left),
            "overdue": left is not None and left <= 0,
            "escalation_level": int(row["escalation_level"]),
            "resolved_at": row["resolved_at"],
            "resolved_in_time": None if row["in_time"] is None else bool(row["in_time"]),
        }

    def consent_register(
        self,
        *,
        customer_id: str | None = None,
        purpose: str | None = None,
        state: str | None = None,
        live: bool | None = None,
        sort: str | None = None,
        limit: int = 50,
        offset: int = 0,
        book: Book = EVERYONE,
    ) -> Page:
        """The current consent record per customer of `book` and purpose, with its
        evidence reference.

        `live=True` keeps records granted and valid now; `live=False` the others.
        """
        check_page(limit, offset)
        now = when(self.clock())
        where = book.restrict_by_customer(Where(), self.customers)
        where.equal("customer_id", customer_id).equal("purpose", purpose)
        where.equal("state", state)
        is_live = "(state='granted' AND valid_from<=? AND (valid_to IS NULL OR valid_to>?))"
        if live is not None:
            where.add(is_live if live else f"NOT {is_live}", now, now)
        total = self.store.row(
            f"SELECT COUNT(*) AS n FROM {self.consents}{where.sql}", where.params
        )
        order = order_by(sort, CONSENT_SORTS, "customer,purpose", "customer_id, purpose")
        rows = self.store.rows(
            f"SELECT *, CASE WHEN {is_live} THEN 1 ELSE 0 END AS live_now "
            f"FROM {self.consents}{where.sql}{order} LIMIT ? OFFSET ?",
            [now, now, *where.params, limit, offset],
        )
        items = [
            {
                "customer_id": row["customer_id"],
                "purpose": row["purpose"],
                "record_id": row["record_id"],
                "state": row["state"],
                "live": bool(row["live_now"]),
                "data_categories": json.loads(row["data_categories"]),
                "sensitive": bool(row["sensitive"]),
                "notice_version": row["notice_version"],
                "method": row["method"],
                "valid_from": row["valid_from"],
                "valid_to": row["valid_to"],
                "granted_at": row["granted_at"],
                "withdrawn_at": row["withdrawn_at"],
                "expired_at": row["expired_at"],
                "evidence_ref": row["evidence_ref"],
                "evidence_position": row["evidence_position"],
                "records": int(row["records"]),
            }
            for row in rows
        ]
        return Page(items, int(total["n"]) if total else 0, limit, offset)
