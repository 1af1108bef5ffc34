"""The `satisfaction` view: the four survey dimensions of policy 5.1 (service quality,
product quality, price reasonableness, communication) per answer, aggregated per month.

Rows name the customer by id only so that erasure can remove them; the scores are C1.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import ROUND_HALF_EVEN, Decimal
from typing import Any

from domain import customer as c
from domain import survey as s
from projections.base import EventContext, Handler, Tx, ViewProjection, month
from projections.paging import Where
from projections.schema import SURVEY_DIMENSION, SURVEY_DIMENSION_TABLE
from projections.store import ViewStore


class SatisfactionProjection(ViewProjection):
    """Survey dimensions (see the module docstring)."""

    name = "satisfaction"
    tables = (SURVEY_DIMENSION_TABLE,)

    def handlers(self) -> Mapping[type, Handler]:
        """An answer scoring the dimensions adds a row; erasure removes the customer's."""
        return {
            s.SurveyAnswered: self.answered,
            c.CustomerErased: self.erased,
        }

    def answered(self, tx: Tx, event: s.SurveyAnswered, ctx: EventContext) -> None:
        """One row per answer that scored the dimensions (older answers scored none)."""
        if not event.dimensions:
            return
        tx.insert_ignore(
            SURVEY_DIMENSION,
            {
                "survey_id": str(event.originator_id),
                "customer_id": str(event.customer_id),
                "answered_period": month(event.occurred_at),
                **{name: event.dimensions[name] for name in s.DIMENSIONS},
                "position": ctx.position,
            },
        )

    def erased(self, tx: Tx, event: c.CustomerErased, ctx: EventContext) -> None:
        """Remove the erased customer's rows."""
        self.purge_customer(tx, str(event.originator_id))


class SatisfactionQueries:
    """Read side of the `satisfaction` view."""

    def __init__(self, store: ViewStore) -> None:
        self.store = store
        self.table = store.table(SURVEY_DIMENSION)

    def survey_dimensions(self, first: str, last: str) -> list[dict[str, Any]]:
        """Per month from `first` to `last` (YYYY-MM): answers, and for each dimension
        the mean score (2 places) and the share of 4-5 (4 places); oldest first."""
        where = Where().add("answered_period>=?", first).add("answered_period<=?", last)
        sums = ", ".join(
            f"SUM({name}) AS {name}_sum, SUM(CASE WHEN {name}>=4 THEN 1 ELSE 0 END) AS {name}_high"
            for name in s.DIMENSIONS
        )
        rows = self.store.rows(
            f"SELECT answered_period, COUNT(*) AS answers, {sums} FROM {self.table}"
            f"{where.sql} GROUP BY answered_period ORDER BY answered_period",
            where.params,
        )
        return [_period(row) for row in rows]


def _period(row: Mapping[str, Any]) -> dict[str, Any]:
    answers = int(row["answers"])
    result: dict[str, Any] = {"period": row["answered_period"], "answers": answers}
    for name in s.DIMENSIONS:
        mean = Decimal(int(row[f"{name}_sum"])) / answers
        share = Decimal(int(row[f"{name}_high"])) / answers
        result[name] = {
            "mean": str(mean.quantize(Decimal("0.01"), ROUND_HALF_EVEN)),
            "satisfied_share": str(share.quantize(Decimal("0.0001"), ROUND_HALF_EVEN)),
        }
    return result
