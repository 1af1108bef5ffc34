"""Activity: transaction summaries from the core system, and their totals."""

from __future__ import annotations

from typing import Any

import marshmallow as ma

from web.schemas.common import Amount, Day, DisclosedView, Text


class TransactionsSchema(ma.Schema):
    """A period summary (or a single trade) from the core system."""

    period_start = Day(required=True)
    period_end = Day(required=True)
    count = ma.fields.Integer(required=True, strict=True, validate=ma.validate.Range(0, 10**9))
    amount = Amount(required=True)
    profit_contribution = Amount(load_default="0")
    products = ma.fields.List(Text(50), load_default=list, validate=ma.validate.Length(max=50))
    source_ref = Text(100, required=True, metadata={"description": "the core system's reference"})

    @ma.validates_schema
    def period(self, data: dict[str, Any], **_: Any) -> None:
        start, end = data.get("period_start"), data.get("period_end")
        if start is not None and end is not None and end < start:
            raise ma.ValidationError({"period_end": ["must not be before period_start"]})


class ActivitySchema(DisclosedView):
    customer_id = ma.fields.UUID(required=True)
    periods = ma.fields.Integer(required=True)
    transaction_count = ma.fields.Integer(required=True)
    amount = ma.fields.String(required=True)
    profit_contribution = ma.fields.String(required=True)
    products_held = ma.fields.List(ma.fields.String())
    first_on = ma.fields.String(allow_none=True, metadata={"format": "date"})
    last_on = ma.fields.String(allow_none=True, metadata={"format": "date"})
