"""Crisis incidents: scope, affected customers (by id), updates and closing."""

from __future__ import annotations

import marshmallow as ma

from domain import crisis as crisis_model
from domain.interaction import CHANNELS
from web.schemas.common import EntryView, Text, one_of


class NewCrisisSchema(ma.Schema):
    title = Text(200, required=True)
    scope = Text(500, required=True)
    severity = ma.fields.String(required=True, validate=one_of(crisis_model.SEVERITIES))
    affected_customer_ids = ma.fields.List(
        ma.fields.UUID(), load_default=list, validate=ma.validate.Length(max=10_000)
    )


class CrisisUpdateSchema(ma.Schema):
    """A contact round, a remedy, a public statement or a note."""

    kind = ma.fields.String(required=True, validate=one_of(crisis_model.UPDATE_KINDS))
    text = Text(8000, required=True)
    customers_contacted = ma.fields.Integer(
        load_default=0, strict=True, validate=ma.validate.Range(0, 10**7)
    )


class CrisisContactSchema(ma.Schema):
    """A contact with a customer affected by the crisis; `notes` (what was said) go to
    the customer's own interaction log, the crisis keeps the id, channel and time."""

    customer_id = ma.fields.UUID(required=True)
    contact_channel = ma.fields.String(required=True, validate=one_of(CHANNELS))
    notes = Text(4000, load_default="")


class CrisisContactedSchema(ma.Schema):
    id = ma.fields.UUID(required=True, metadata={"description": "the crisis"})
    version = ma.fields.Integer(required=True)
    in_time = ma.fields.Boolean(
        allow_none=True,
        metadata={"description": "whether the customer's first contact met the deadline"},
    )


class CrisisClosureSchema(ma.Schema):
    summary = Text(4000, required=True)


class CrisisSchema(EntryView):
    title = ma.fields.String(required=True)
    scope = ma.fields.String(required=True)
    severity = ma.fields.String(required=True)
    affected_customer_ids = ma.fields.List(ma.fields.String())
    state = ma.fields.String(required=True)
    updates = ma.fields.List(ma.fields.String())
    customers_contacted = ma.fields.Integer(required=True)
    statements = ma.fields.Integer(required=True)
    opened_at = ma.fields.String(allow_none=True, metadata={"format": "date-time"})
    closed_at = ma.fields.String(allow_none=True, metadata={"format": "date-time"})
    contact_due_at = ma.fields.String(
        allow_none=True,
        metadata={"format": "date-time", "description": "first contact with everyone by"},
    )
    contacted_customer_ids = ma.fields.List(ma.fields.String())
    first_contact_at = ma.fields.String(allow_none=True, metadata={"format": "date-time"})
