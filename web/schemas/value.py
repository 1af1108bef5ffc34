"""Customer value, churn warning and retention."""

from __future__ import annotations

import marshmallow as ma

from domain import value as value_model
from web.schemas.common import DisclosedView, Text, one_of


class RetentionActionSchema(ma.Schema):
    action = ma.fields.String(required=True, validate=one_of(value_model.RETENTION_ACTIONS))
    description = Text(2000, required=True)


class ChurnSchema(ma.Schema):
    cause = Text(100, required=True)


class ValueSchema(DisclosedView):
    customer_id = ma.fields.UUID(required=True)
    assessed_on = ma.fields.String(allow_none=True, metadata={"format": "date"})
    rfm = ma.fields.Dict(keys=ma.fields.String(), values=ma.fields.Integer())
    current_value = ma.fields.String(allow_none=True)
    potential_value = ma.fields.String(allow_none=True)
    uplift = ma.fields.String(allow_none=True)
    churn_state = ma.fields.String(required=True)
    signals = ma.fields.List(ma.fields.String())
    retention_actions = ma.fields.List(ma.fields.String())
    strategy = ma.fields.String(
        allow_none=True,
        metadata={"description": "premium_service_plan, high_potential or standard (6.2)"},
    )
    planned_actions = ma.fields.List(ma.fields.String())
