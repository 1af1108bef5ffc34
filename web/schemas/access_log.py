"""The access log: who read whose personal data, why and what."""

from __future__ import annotations

from typing import Any

import marshmallow as ma

from security.integrity.access_log import NO_PURPOSE, PURPOSES
from web.schemas.common import QueryMoment, Text, one_of

# what an entry's purpose can be: a stated purpose, or "none" (a refused access with none)
LOGGED_PURPOSES = (*PURPOSES, NO_PURPOSE)


class AccessLogQuery(ma.Schema):
    subject = ma.fields.UUID(metadata={"description": "the customer whose data was read"})
    actor = Text(200, metadata={"description": "the actor id (token subject)"})
    purpose = ma.fields.String(
        validate=one_of(LOGGED_PURPOSES),
        metadata={"description": "the purpose stated for the read ('none': a refused access)"},
    )
    since = QueryMoment(metadata={"description": "entries recorded at or after this moment"})
    until = QueryMoment(metadata={"description": "entries recorded before this moment"})
    limit = ma.fields.Integer(load_default=100, validate=ma.validate.Range(1, 1000))
    offset = ma.fields.Integer(load_default=0, validate=ma.validate.Range(0, 10_000_000))

    @ma.validates_schema
    def window(self, data: dict[str, Any], **_: Any) -> None:
        since, until = data.get("since"), data.get("until")
        if since is not None and until is not None and until <= since:
            raise ma.ValidationError({"until": ["must be after since"]})


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
    next_offset = ma.fields.Integer(
        required=True,
        allow_none=True,
        metadata={"description": "the offset of the next page; null on the last page"},
    )
