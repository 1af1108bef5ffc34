"""The `value_strategies` view: each graded customer's latest value strategy (policy 6.2:
high value, high potential, standard) with the actions planned for it.

Rows name the customer by id only (erasure removes them); lists are book-scoped
through the customer view.
"""

from __future__ import annotations

import json
from collections.abc import Mapping

from domain import customer as c
from domain import value as v
from projections.base import EventContext, Handler, Tx, ViewProjection
from projections.book import EVERYONE, Book
from projections.paging import Page, Where, check_page
from projections.schema import CUSTOMER, VALUE_STRATEGY, VALUE_STRATEGY_TABLE
from projections.store import ViewStore


class ValueStrategiesProjection(ViewProjection):
    """Value strategies (see the module docstring)."""

    name = "value_strategies"
    tables = (VALUE_STRATEGY_TABLE,)

    def handlers(self) -> Mapping[type, Handler]:
        """A strategy assigned replaces the customer's row; erasure removes it."""
        return {
            v.ValueStrategyAssigned: self.assigned,
            c.CustomerErased: self.erased,
        }

    def assigned(self, tx: Tx, event: v.ValueStrategyAssigned, ctx: EventContext) -> None:
        """The customer's strategy is the one assigned last."""
        tx.upsert(
            VALUE_STRATEGY,
            ("customer_id",),
            {
                "customer_id": str(event.customer_id),
                "strategy": event.strategy,
                "as_of": event.as_of.isoformat(),
                "planned_actions": json.dumps(list(event.planned_actions)),
                "rule_version": event.rule_version,
                "position": ctx.position,
            },
        )

    def erased(self, tx: Tx, event: c.CustomerErased, ctx: EventContext) -> None:
        """Remove the erased customer's row."""
        self.purge_customer(tx, str(event.originator_id))


class ValueStrategyQueries:
    """Read side of the `value_strategies` view."""

    def __init__(self, store: ViewStore) -> None:
        self.store = store
        self.table = store.table(VALUE_STRATEGY)
        self.customers = store.table(CUSTOMER)

    def value_strategies(
        self,
        *,
        strategy: str | None = None,
        limit: int = 50,
        offset: int = 0,
        book: Book = EVERYONE,
    ) -> Page:
        """Customers of `book` by their latest strategy (all when `strategy` is None),
        newest assessment first, then by customer id."""
        check_page(limit, offset)
        where = book.restrict_by_customer(Where(), self.customers).equal("strategy", strategy)
        total = self.store.row(f"SELECT COUNT(*) AS n FROM {self.table}{where.sql}", where.params)
        rows = self.store.rows(
            f"SELECT * FROM {self.table}{where.sql} ORDER BY as_of DESC, customer_id"
            " LIMIT ? OFFSET ?",
            [*where.params, limit, offset],
        )
        items = [
            {
                "customer_id": row["customer_id"],
                "strategy": row["strategy"],
                "as_of": row["as_of"],
                "planned_actions": json.loads(row["planned_actions"]),
                "rule_version": row["rule_version"],
            }
            for row in rows
        ]
        return Page(items, int(total["n"]) if total else 0, limit, offset)
