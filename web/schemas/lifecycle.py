"""The customer lifecycle: activation, classification, special care, ending."""

from __future__ import annotations

import marshmallow as ma

from domain import customer as customer_model
from web.schemas.common import Day, Text, one_of


class SpecialCareSchema(ma.Schema):
    """Special care (elderly, disabled) and its measures."""

    reasons = ma.fields.List(
        ma.fields.String(validate=one_of(customer_model.CARE_REASONS)),
        required=True,
        validate=ma.validate.Length(min=1, max=2),
    )
    measures = ma.fields.List(
        ma.fields.String(validate=one_of(customer_model.CARE_MEASURES)),
        load_default=list,
        validate=ma.validate.Length(max=3),
    )


class RelationshipEndSchema(ma.Schema):
    ended_on = Day(metadata={"description": "default: today; not before the registration"})


class RelationshipEndChangeSchema(ma.Schema):
    ended_on = Day(required=True, metadata={"description": "between the registration and today"})
    reason = Text(500, required=True, metadata={"description": "why (recorded; no personal data)"})


class RelationshipEndedSchema(ma.Schema):
    id = ma.fields.UUID(required=True)
    version = ma.fields.Integer(required=True)
    retention_ends_on = ma.fields.String(required=True, metadata={"format": "date"})
