"""History: a customer as of a moment, the changes between versions, the timeline."""

from __future__ import annotations

import marshmallow as ma

from domain.services.history import TIMELINE_PAGE, TIMELINE_PAGE_MAX
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


class TimelineQuery(ma.Schema):
    as_of = QueryMoment(
        metadata={"description": "only the events that occurred at or before this moment"}
    )
    after = ma.fields.Integer(
        load_default=0,
        validate=ma.validate.Range(min=0, max=2**53),
        metadata={"description": "the previous page's `next_after` (a notification id)"},
    )
    limit = ma.fields.Integer(
        load_default=TIMELINE_PAGE, validate=ma.validate.Range(min=1, max=TIMELINE_PAGE_MAX)
    )


class FieldChangeSchema(ma.Schema):
    field = ma.fields.String(required=True)
    before = ma.fields.Raw(allow_none=True)
    after = ma.fields.Raw(allow_none=True)


class RecordedFieldSchema(ma.Schema):
    field = ma.fields.String(required=True)
    value = ma.fields.Raw(allow_none=True)


class TimelineEntrySchema(ma.Schema):
    seq = ma.fields.Integer(
        allow_none=True,
        metadata={
            "description": "the event's leaf index in the sealed log, for "
            "`/integrity/proof?seq=` (null until sealed, within about a second)"
        },
    )
    notification_id = ma.fields.Integer(
        required=True, metadata={"description": "the event's position in the event store"}
    )
    stream = ma.fields.String(
        required=True, metadata={"description": "the aggregate kind, e.g. Consent"}
    )
    stream_id = ma.fields.UUID(required=True)
    version = ma.fields.Integer(required=True)
    event = ma.fields.String(required=True)
    at = ma.fields.String(required=True, metadata={"format": "date-time"})
    actor_id = ma.fields.String(required=True)
    role = ma.fields.String(required=True)
    channel = ma.fields.String(required=True)
    reason = ma.fields.String(allow_none=True)
    changes = ma.fields.List(
        ma.fields.Nested(FieldChangeSchema),
        required=True,
        metadata={"description": "each field of the aggregate the event changed"},
    )
    recorded = ma.fields.List(
        ma.fields.Nested(RecordedFieldSchema),
        required=True,
        metadata={
            "description": "what the event itself records, kept by an aggregate or not "
            "(the progress told to a complainant, the advice given, a crisis update); "
            "personal values masked unless disclosed for a purpose"
        },
    )


class TimelineSchema(ma.Schema):
    id = ma.fields.UUID(required=True)
    as_of = ma.fields.String(allow_none=True, metadata={"format": "date-time"})
    disclosure = ma.fields.String(required=True)
    events = ma.fields.List(ma.fields.Nested(TimelineEntrySchema), required=True)
    next_after = ma.fields.Integer(
        allow_none=True, metadata={"description": "the cursor of the next page; null on the last"}
    )
