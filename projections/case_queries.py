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
from projections.kpi_queries import months
from projections.paging import Page, Where, check_page, order_by
from projections.schema import CASE, CONSENT, CUSTOMER
from projections.store import ViewStore

OPEN_STATES = ("received", "acknowledged", "investigating", "resolved", "followed_up", "reopened")
UNRESOLVED_STATES = ("received", "acknowledged", "investigating", "reopened")
# What received cases are counted by, and the column each reads; "none" where unset.
ANALYSIS_DIMENSIONS = {"by_product": "product", "by_channel": "source", "by_category": "category"}
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
        # Past a binding deadline (domain.rules.complaints.binding_deadlines): the one
        # deadline, or with a final stage (US) the response stage until answered and
        # then the final stage. A UK case with a final stage was recorded under
        # complaint_deadline/1, whose `due_at` was the summary window: final only.
        response_binds = "(final_due_at IS NULL OR (state='received' AND rule_set<>'UK'))"
        is_overdue = (
            f"(state IN ({unresolved}) AND ("
            f"(due_at IS NOT NULL AND due_at<=? AND {response_binds})"
            " OR (final_due_at IS NOT NULL AND final_due_at<=?)))"
        )
        if overdue is not None:
            where.add(is_overdue if overdue else f"NOT {is_overdue}", now, now)
        total = self.store.row(f"SELECT COUNT(*) AS n FROM {self.cases}{where.sql}", where.params)
        order = order_by(sort, QUEUE_SORTS, "due_at", "case_id")
        order = f" ORDER BY CASE WHEN {is_overdue} THEN 0 ELSE 1 END, " + order[len(" ORDER BY ") :]
        rows = self.store.rows(
            f"SELECT * FROM {self.cases}{where.sql}{order} LIMIT ? OFFSET ?",
            [*where.params, now, now, limit, offset],
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
        if row["final_due_at"] is not None and (
            row["state"] != "received" or row["rule_set"] == "UK"
        ):
            due = _parse(row["final_due_at"])  # answered, or a UK case under the first rule
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
            "final_escalation_level": int(row["final_escalation_level"]),
            "product": row["product"],
            "acknowledged_due_at": row["acknowledged_due_at"],
            "resolved_at": row["resolved_at"],
            "resolved_in_time": None if row["in_time"] is None else bool(row["in_time"]),
        }

    def case_analysis(
        self,
        first: str,
        last: str,
        *,
        kind: str = "complaint",
        branch: str | None = None,
        book: Book = EVERYONE,
    ) -> list[dict[str, Any]]:
        """Per calendar month (UTC) from `first` to `last` (`YYYY-MM`, at most 120): the
        cases of `kind` received, counted by product, channel (the source it came
        through) and category, and those resolved, counted by root cause.

        A month with no case is listed with zero counts, so a series has no gaps.
        """
        periods = months(first, last)
        # per period: each dimension's counts, the root causes, and the resolved totals
        counts: dict[str, dict[str, dict[str, int]]] = {
            period: {name: {} for name in (*ANALYSIS_DIMENSIONS, "root_causes")}
            for period in periods
        }
        totals: dict[str, dict[str, int]] = {
            period: {"resolved": 0, "in_time": 0, "first_contact": 0} for period in periods
        }
        where = book.restrict_by_customer(Where(), self.customers)
        where.equal("kind", kind).equal("branch", branch)
        received = Where(list(where.conditions), list(where.params))
        received.add("received_period BETWEEN ? AND ?", periods[0], periods[-1])
        for name, column in ANALYSIS_DIMENSIONS.items():
            rows = self.store.rows(
                f"SELECT received_period AS p, {column} AS g, COUNT(*) AS n FROM {self.cases}"
                f"{received.sql} GROUP BY received_period, {column}",
                received.params,
            )
            for row in rows:
                counts[row["p"]][name][row["g"] or "none"] = int(row["n"])
        resolved = Where(list(where.conditions), list(where.params))
        resolved.add("resolved_period BETWEEN ? AND ?", periods[0], periods[-1])
        rows = self.store.rows(
            f"SELECT resolved_period AS p, root_cause AS g, COUNT(*) AS n, "
            f"SUM(CASE WHEN in_time=1 THEN 1 ELSE 0 END) AS t, "
            f"SUM(first_contact) AS f FROM {self.cases}{resolved.sql} "
            f"GROUP BY resolved_period, root_cause",
            resolved.params,
        )
        for row in rows:
            counts[row["p"]]["root_causes"][row["g"] or "none"] = int(row["n"])
            total = totals[row["p"]]
            total["resolved"] += int(row["n"])
            total["in_time"] += int(row["t"] or 0)
            total["first_contact"] += int(row["f"] or 0)
        return [
            {
                "period": period,
                "received": sum(counts[period]["by_channel"].values()),
                **totals[period],
                **counts[period],
            }
            for period in periods
        ]

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
