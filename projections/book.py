"""A book of business as a filter of the views: which customers a list may show.

A relationship manager's book is the customers whose `relationship_manager` names it;
the front office's, the customers of its branch; compliance officers (and the other
roles allowed to list) see every customer (`EVERYONE`). The web layer decides whose
book a request reads (web/api/_book.py); the queries only apply it, to the customer
view's own columns or, for the views keyed by customer (cases, consents), through the
customer view, so a list never shows a row of a customer outside the book.
"""

from __future__ import annotations

from dataclasses import dataclass

from projections.paging import Where


@dataclass(frozen=True)
class Book:
    """Customers of `branch` and/or of `relationship_manager`; `nobody` matches none."""

    branch: str | None = None
    relationship_manager: str | None = None
    nobody: bool = False

    @property
    def everyone(self) -> bool:
        """True when the book holds every customer (no condition to add)."""
        return not self.nobody and self.branch is None and self.relationship_manager is None

    def restrict(self, where: Where) -> Where:
        """AND the book's conditions on a query of the customer view itself."""
        if self.nobody:
            return where.add("1=0")
        return where.equal("branch", self.branch).equal(
            "relationship_manager", self.relationship_manager
        )

    def restrict_by_customer(self, where: Where, customer_table: str) -> Where:
        """AND the book's conditions on a view keyed by `customer_id` (cases, consents),
        through the customer view `customer_table`."""
        if self.everyone:
            return where
        inner = self.restrict(Where())
        return where.add(
            f"customer_id IN (SELECT customer_id FROM {customer_table}{inner.sql})",
            *inner.params,
        )


EVERYONE = Book()
