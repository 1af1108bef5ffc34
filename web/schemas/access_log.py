"""The access log: who read whose personal data, why and what."""

from __future__ import annotations

import marshmallow as ma

from web.schemas.common import QueryMoment, Text


class AccessLogQuery(ma.Schema):
    subject = ma.fields.UUID(metadata={"description": "the customer whose data was read"})
    actor = Text(200, metadata={"description": "the actor id (token subject)"})
    since = QueryMoment()
    limit = ma.fields.Integer(load_default=100, validate=ma.validate.Range(1, 1000))
    offset = ma.fields.Integer(load_default=0, validate=ma.validate.Range(0, 10_000_000))


class AccessEntrySchema(ma.Schema):
    id = ma.fields.Integer(required=True)
    recorded_at = ma.fields.String(required=True, metadata={"format": "date-time"})
    actor_id = ma.fields.String(required=True)
    role = ma.fields.String(required=True)
    purpose = ma.fields.String(required=True)
    subject_id = ma.fields.String(required=True)
    what = ma.fields.String(required=True)


class AccessLogSchema(ma.Schema):
    entries = ma.fields.List(ma.fields.Nested(AccessEntrySchema), required=True)
