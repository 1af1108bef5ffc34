"""The watch-lists on the customer view: churn, re-verification due, special care.

The warnings the jobs record show here: an ID document in its expiry window
(`doc_status` "expiring") and a risk rating overdue (`rating_overdue`) on the
re-verification list, a care follow-up overdue (`overdue`) on the special-care list;
expired consents are on the consent register (state "expired").

Each is a page of customer summaries (masked name, C1 fields) with the columns the
list is about; days left are computed at query time from the application's clock.
"""

from __future__ import annotations

import json
from datetime import date, timedelta
from typing import Any

from projections.base import day
from projections.book import EVERYONE, Book
from projections.customer_queries import TIER_RANK, CustomerQueries
from projections.paging import Page, Where, check_page, order_by

DUE = "COALESCE(next_review_due, rating_due_on)"


def days_until(iso_day: str | None, today: date) -> int | None:
    """Days from `today` to an ISO date (negative when past); None for no date."""
    if iso_day is None:
        return None
    return (date.fromisoformat(iso_day) - today).days


class WatchLists(CustomerQueries):
    """Churn watch-list, re-verification due list and special-care list."""

    def churn_watch(
        self,
        *,
        branch: str | None = None,
        signal: str | None = None,
        limit: int = 50,
        offset: int = 0,
        book: Book = EVERYONE,
    ) -> Page:
        """Customers of `book` at risk of churning, most valuable tier first, longest at
        risk first."""
        where = book.restrict(Where()).add("churn_state=?", "at_risk").equal("branch", branch)
        if signal:
            where.add("churn_signals LIKE ?", f'%"{signal}"%')
        order = order_by(
            "tier,since", {"tier": TIER_RANK, "since": "churn_since"}, "", "customer_id"
        )
        return self._page(
            where,
            order,
            limit,
            offset,
            lambda r: {
                "signals": json.loads(r["churn_signals"]),
                "since": r["churn_since"],
                "retention_actions": int(r["retention_actions"]),
                "last_contact_at": r["last_contact_at"],
            },
        )

    def reverification_due(
        self,
        *,
        within_days: int = 30,
        branch: str | None = None,
        risk_level: str | None = None,
        limit: int = 50,
        offset: int = 0,
        book: Book = EVERYONE,
    ) -> Page:
        """Customers whose re-verification (or first risk rating) is due within
        `within_days`, overdue or in review, whose first risk rating is overdue, or
        whose ID document is in its expiry window or has expired; the earliest due date
        first. `due_on` is the review date, or the rating deadline while the first
        rating is pending."""
        horizon = (self.clock().date() + timedelta(days=within_days)).isoformat()
        where = book.restrict(Where()).equal("branch", branch).equal("risk_level", risk_level)
        where.add(
            f"({DUE}<=? OR review_state IN ('due_soon','overdue','in_review') "
            "OR doc_status IN ('expiring','expired') OR rating_overdue=1)",
            horizon,
        )
        where.add("status<>?", "erased")
        order = order_by("due", {"due": DUE}, "", "customer_id")
        today = self.clock().date()
        return self._page(
            where,
            order,
            limit,
            offset,
            lambda r: {
                "review_state": r["review_state"],
                "due_on": r["next_review_due"] or r["rating_due_on"],
                "days_left": days_until(r["next_review_due"] or r["rating_due_on"], today),
                "rating_overdue": bool(r["rating_overdue"]),
                "doc_status": r["doc_status"],
                "doc_expires_on": r["doc_expires_on"],
                "business_suspended": bool(r["business_suspended"]),
            },
        )

    def special_care(
        self,
        *,
        branch: str | None = None,
        reason: str | None = None,
        due_only: bool = False,
        limit: int = 50,
        offset: int = 0,
        book: Book = EVERYONE,
    ) -> Page:
        """Customers of `book` under special care, the follow-up most due first (never
        visited first)."""
        where = book.restrict(Where()).add("needs_care=?", 1).equal("branch", branch)
        today = self.clock().date()
        if due_only:
            where.add("(next_care_due_on IS NULL OR next_care_due_on<=?)", day(today))
        order = " ORDER BY next_care_due_on IS NOT NULL, next_care_due_on, customer_id"

        def care(r: dict[str, Any]) -> dict[str, Any]:
            return {
                "reasons": self._care_reasons(r),
                "measures": json.loads(r["care_measures"]),
                "follow_up_days": r["care_follow_up_days"],
                "last_visit_on": r["last_care_visit_on"],
                "next_due_on": r["next_care_due_on"],
                "days_left": days_until(r["next_care_due_on"], today),
                "overdue": r["care_overdue_on"] is not None,
            }

        if not reason:
            return self._page(where, order, limit, offset, care)
        # The reasons are encrypted: the SQL filter narrows to flagged customers, the
        # reason is matched on the decrypted rows, and the page is cut after that.
        check_page(limit, offset)
        rows = self.store.rows(f"SELECT * FROM {self.customer}{where.sql}{order}", where.params)
        matching = [r for r in rows if reason in self._care_reasons(r)]
        items = [{**self.summary(r), **care(r)} for r in matching[offset : offset + limit]]
        return Page(items, len(matching), limit, offset)

    def _care_reasons(self, row: dict[str, Any]) -> list[str]:
        """The decrypted special-care reasons of a row (none once the key is shredded)."""
        opened = self._opened(row)
        return list(opened.get("care_reasons") or []) if opened else []
