"""Grading: the quarterly grade and the tier held, with its entitlements."""

from __future__ import annotations

import marshmallow as ma

from web.schemas.common import EntryView


class GradeRequestSchema(ma.Schema):
    """Grade a customer for a quarter from its own activity and tenure."""

    period = ma.fields.String(
        required=True, validate=ma.validate.Regexp(r"^\d{4}Q[1-4]$", error="a quarter like 2026Q2")
    )
    credit_score = ma.fields.Integer(
        load_default=60, strict=True, validate=ma.validate.Range(0, 100)
    )


class GradeSchema(EntryView):
    customer_id = ma.fields.UUID(required=True)
    tier = ma.fields.String(allow_none=True)
    computed_tier = ma.fields.String(allow_none=True)
    score = ma.fields.String(allow_none=True, metadata={"description": "a decimal, as a string"})
    quarters_below = ma.fields.Integer(required=True)
    periods = ma.fields.List(ma.fields.String())
    entitlements = ma.fields.List(ma.fields.String())
