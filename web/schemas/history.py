"""History: a customer as of a moment, the changes between versions, the timeline."""

from __future__ import annotations

import marshmallow as ma

from web.schemas.common import QueryMoment
from web.schemas.customers import CustomerSchema

VERSION = ma.validate.Range(min=0, max=2**31)


class AsOfQuery(ma.Schema):
    as_of = QueryMoment(required=True)


class ChangesQuery(ma.Schema):
    from_ = ma.fields.Integer(data_key="from", load_default=0, validate=VERSION)
    to = ma.fields.Integer(validate=VERSION)


class CustomerAsOfSchema(CustomerSchema):
    as_of = ma.fields.String(required=True, metadata={"format": "date-time"})


class ChangeSchema(ma.Schema):
    field = ma.fields.String(required=True)
    old = ma.fields.Raw(allow_none=True)
    new = ma.fields.Raw(allow_none=True)
    version = ma.fields.Integer(required=True)
    event = ma.fields.String(required=True)
    at = ma.fields.String(required=True, metadata={"format": "date-time"})
    actor_id = ma.fields.String(required=True)
    role = ma.fields.String(required=True)
    channel = ma.fields.String(required=True)
    reason = ma.fields.String(allow_none=True)
    source = ma.fields.String(allow_none=True)


class ChangesSchema(ma.Schema):
    id = ma.fields.UUID(required=True)
    from_ = ma.fields.Integer(data_key="from", required=True)
    to = ma.fields.Integer(required=True)
    disclosure = ma.fields.String(required=True)
    changes = ma.fields.List(ma.fields.Nested(ChangeSchema), required=True)


class TimelineEntrySchema(ma.Schema):
    version = ma.fields.Integer(required=True)
    event = ma.fields.String(required=True)
    at = ma.fields.String(required=True, metadata={"format": "date-time"})
    actor_id = ma.fields.String(required=True)
    role = ma.fields.String(required=True)
    channel = ma.fields.String(required=True)
    reason = ma.fields.String(allow_none=True)


class TimelineSchema(ma.Schema):
    id = ma.fields.UUID(required=True)
    events = ma.fields.List(ma.fields.Nested(TimelineEntrySchema), required=True)
