"""Queries on the customer views: the 360, search, distribution and the watch-lists.

Every personal field leaves these queries masked (domain.masking), after being
opened with the customer's key; a customer whose key was shredded shows no personal
field at all (`erased: true`). Exact-match search on name, phone, e-mail, ID number,
account number and segment compares blind-index digests, never plaintext.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime
from itertools import product
from typing import Any

from domain.classification import COMPANY_SIZES, INCOME_BANDS, RISK_PREFERENCES, STAGES
from domain.errors import NotFound, SubjectErased
from domain.masking import mask
from domain.personal_data import FIELD_KINDS, Masking
from projections.base import when
from projections.book import EVERYONE, Book
from projections.field_encryption import BlindIndex, FieldCipher
from projections.paging import Page, Where, check_page, order_by
from projections.schema import CASE, CONSENT, CUSTOMER, INTERACTION
from projections.store import ViewStore

VALUE_FIELDS = ("current_value", "potential_value", "uplift")
# kept in the encrypted fields, shown apart from the profile (7.1)
PREFERENCE_FIELDS = ("needs", "interests", "preference_notes")
AGE_BANDS = ("under_30", "30_44", "45_59", "60_plus", "unknown")
TIER_RANK = "CASE tier WHEN 'vip' THEN 0 WHEN 'premium' THEN 1 WHEN 'ordinary' THEN 2 ELSE 3 END"
OPEN_CASE_STATES = (
    "received",
    "acknowledged",
    "investigating",
    "resolved",
    "followed_up",
    "reopened",
)
SEARCH_SORTS = {
    "registered_on": "registered_on",
    "updated_at": "updated_at",
    "tier": TIER_RANK,
    "branch": "branch",
    "status": "status",
}


def masked(name: str, value: Any) -> Any:
    """A personal field as the views show it."""
    kind = FIELD_KINDS.get(name)
    return mask(value, kind.masking if kind else Masking.FREE_TEXT)


class CustomerQueries:
    """Read side of the `customers` view (plus consents and cases for the 360)."""

    def __init__(
        self,
        store: ViewStore,
        cipher: FieldCipher,
        index: BlindIndex,
        clock: Callable[[], datetime],
    ) -> None:
        self.store = store
        self.cipher = cipher
        self.index = index
        self.clock = clock
        self.customer = store.table(CUSTOMER)

    # --- rows --------------------------------------------------------------------------

    def _opened(self, row: dict[str, Any]) -> dict[str, Any] | None:
        encrypted = row.get("encrypted")
        return self.cipher.try_decrypt(
            row.get("personal_ref"),
            row["customer_id"],
            CUSTOMER,
            None if encrypted is None else bytes(encrypted),
        )

    def summary(self, row: dict[str, Any]) -> dict[str, Any]:
        """A customer row as list views show it: C1 fields and the masked name."""
        opened = self._opened(row)
        return {
            "customer_id": row["customer_id"],
            "kind": row["kind"],
            "status": row["status"],
            "branch": row["branch"],
            "relationship_manager": row["relationship_manager"],
            "name": None if opened is None else masked("name", opened.get("name")),
            "erased": opened is None,
            "tier": row["tier"],
            "risk_level": row["risk_level"],
            "registered_on": row["registered_on"],
        }

    def _page(
        self,
        where: Where,
        order: str,
        limit: int,
        offset: int,
        extra: Callable[[dict[str, Any]], dict[str, Any]] | None = None,
    ) -> Page:
        check_page(limit, offset)
        total = self.store.row(
            f"SELECT COUNT(*) AS n FROM {self.customer}{where.sql}", where.params
        )
        rows = self.store.rows(
            f"SELECT * FROM {self.customer}{where.sql}{order} LIMIT ? OFFSET ?",
            [*where.params, limit, offset],
        )
        items = [{**self.summary(r), **(extra(r) if extra else {})} for r in rows]
        return Page(items, int(total["n"]) if total else 0, limit, offset)

    # --- the 360 -----------------------------------------------------------------------

    def customer_360(self, customer_id: str, *, interactions: int = 5) -> dict[str, Any]:
        """Everything the front office sees of one customer, masked.

        Raises NotFound for an unknown id and SubjectErased for an erased customer
        (a tombstone row, or a key that was shredded).
        """
        row = self.store.row(f"SELECT * FROM {self.customer} WHERE customer_id=?", [customer_id])
        if row is None:
            raise NotFound("no such customer in the views")
        opened = self._opened(row)
        if row["status"] == "erased" or opened is None:
            raise SubjectErased("the customer was erased")
        now = when(self.clock())
        profile = {
            name: masked(name, value)
            for name, value in sorted(opened.items())
            if name not in (*VALUE_FIELDS, *PREFERENCE_FIELDS, "care_reasons")
        }
        consents = self.store.rows(
            f"SELECT purpose, record_id, notice_version, method, valid_from, valid_to, "
            f"sensitive, evidence_ref FROM {self.store.table(CONSENT)} WHERE customer_id=? "
            "AND state='granted' AND valid_from<=? AND (valid_to IS NULL OR valid_to>?) "
            "ORDER BY purpose",
            [customer_id, now, now],
        )
        cases = self.store.rows(
            f"SELECT case_id, kind, category, state, owner, due_at, escalation_level "
            f"FROM {self.store.table(CASE)} WHERE customer_id=? AND state IN "
            f"({', '.join('?' for _ in OPEN_CASE_STATES)}) ORDER BY received_at",
            [customer_id, *OPEN_CASE_STATES],
        )
        contacts = self.store.rows(
            f"SELECT at, kind, channel, direction, purpose, personal_ref, encrypted, actor_id "
            f"FROM {self.store.table(INTERACTION)} WHERE customer_id=? "
            "ORDER BY at DESC, position DESC LIMIT ?",
            [customer_id, interactions],
        )
        return {
            **self.summary(row),
            "profile": profile,
            "tier_since": row["tier_since"],
            "grade": {"period": row["grade_period"], "score": row["grade_score"]},
            "reverification": {
                "state": row["review_state"],
                "trigger": row["review_trigger"],
                "rating_due_on": row["rating_due_on"],
                "last_verified_on": row["last_verified_on"],
                "next_review_due": row["next_review_due"],
                "doc_type": row["doc_type"],
                "doc_expires_on": row["doc_expires_on"],
                "doc_status": row["doc_status"],
                "business_suspended": bool(row["business_suspended"]),
            },
            "value": {
                "rfm": json.loads(row["rfm"]) if row["rfm"] else None,
                "assessed_on": row["value_assessed_on"],
                "current_value": masked("current_value", opened.get("current_value")),
                "potential_value": masked("potential_value", opened.get("potential_value")),
            },
            "churn": {
                "state": row["churn_state"],
                "signals": json.loads(row["churn_signals"]),
                "since": row["churn_since"],
                "retention_actions": int(row["retention_actions"]),
            },
            "preferences": {
                "needs": list(opened.get("needs") or []),
                "interests": list(opened.get("interests") or []),
                "notes": masked("preference_notes", opened.get("preference_notes")),
            },
            "care": {
                "reasons": list(opened.get("care_reasons") or []),
                "measures": json.loads(row["care_measures"]),
                "last_visit_on": row["last_care_visit_on"],
                "next_due_on": row["next_care_due_on"],
            },
            "restrictions": {
                "erasure_requested_on": row["erasure_requested_on"],
                "processing_restricted": bool(row["processing_restricted"]),
                "legal_holds": int(row["legal_holds"]),
            },
            "live_consents": [{**c, "sensitive": bool(c["sensitive"])} for c in consents],
            "open_cases": cases,
            "last_interactions": [self._contact(customer_id, c) for c in contacts],
            "last_contact_at": row["last_contact_at"],
            "interactions": int(row["interactions"]),
            "updated_at": row["updated_at"],
            "position": int(row["position"]),
        }

    def _contact(self, customer_id: str, row: dict[str, Any]) -> dict[str, Any]:
        """An interaction row as the 360 shows it: the topic (personal text) masked."""
        encrypted = row.pop("encrypted")
        opened = self.cipher.try_decrypt(
            row.pop("personal_ref"),
            customer_id,
            INTERACTION,
            None if encrypted is None else bytes(encrypted),
        )
        return {**row, "topic": masked("topic", opened.get("topic")) if opened else None}

    # --- search and distribution ---------------------------------------------------------

    def search(
        self,
        *,
        branch: str | None = None,
        tier: str | None = None,
        segment: str | None = None,
        status: str | None = None,
        kind: str | None = None,
        relationship_manager: str | None = None,
        name: str | None = None,
        phone: str | None = None,
        email: str | None = None,
        id_number: str | None = None,
        account_number: str | None = None,
        sort: str | None = None,
        limit: int = 50,
        offset: int = 0,
        book: Book = EVERYONE,
    ) -> Page:
        """Customers of `book` matching every given filter; personal fields match exactly,
        by digest.

        Erased customers are left out unless `status="erased"` is asked for.
        """
        where = book.restrict(Where())
        where.equal("branch", branch).equal("tier", tier).equal("kind", kind)
        where.equal("relationship_manager", relationship_manager)
        if status:
            where.equal("status", status)
        else:
            where.add("status<>?", "erased")
        for field, value in (
            ("name", name),
            ("phone", phone),
            ("email", email),
            ("id_number", id_number),
            ("account_number", account_number),
            ("segment", segment),
        ):
            if value is not None:
                where.add(f"{field}_ix=?", self.index.digest(field, value) or "")
        order = order_by(sort, SEARCH_SORTS, "-registered_on", "customer_id")
        return self._page(where, order, limit, offset)

    def segment_labels(self) -> dict[str, str]:
        """Digest -> label for every segment the classification rules can produce."""
        industries = self.store.rows(
            f"SELECT DISTINCT industry FROM {self.customer} WHERE industry IS NOT NULL"
        )
        labels = [
            "/".join(("individual", *parts))
            for parts in product(
                AGE_BANDS, (*INCOME_BANDS, "unknown"), (*RISK_PREFERENCES, "unknown")
            )
        ]
        labels += [
            "/".join(("corporate", *parts))
            for parts in product(
                (*COMPANY_SIZES, "unknown"),
                (*(r["industry"] for r in industries), "unknown"),
                (*STAGES, "unknown"),
            )
        ]
        return {str(self.index.digest("segment", label)): label for label in labels}

    def distribution(
        self,
        *,
        branch: str | None = None,
        kind: str | None = None,
        status: str | None = None,
        book: Book = EVERYONE,
    ) -> list[dict[str, Any]]:
        """Customer counts of `book` by tier and segment (live customers unless `status`
        says)."""
        where = book.restrict(Where()).equal("branch", branch).equal("kind", kind)
        if status:
            where.equal("status", status)
        else:
            where.one_of("status", ("prospect", "active", "at_risk", "dormant"))
        rows = self.store.rows(
            f"SELECT tier, segment_ix, COUNT(*) AS n FROM {self.customer}{where.sql} "
            "GROUP BY tier, segment_ix",
            where.params,
        )
        labels = self.segment_labels()
        counted: dict[tuple[str, str], int] = {}
        for row in rows:
            key = (row["tier"] or "ungraded", labels.get(row["segment_ix"] or "", "unclassified"))
            counted[key] = counted.get(key, 0) + int(row["n"])
        return [
            {"tier": tier, "segment": segment, "customers": n}
            for (tier, segment), n in sorted(counted.items())
        ]
