"""Consent: grants, withdrawals and the current record per purpose."""

from __future__ import annotations

from typing import Any

import marshmallow as ma

from domain import consent as consent_model
from web.schemas.common import DisclosedView, Moment, Text, one_of

CATEGORIES = tuple(
    sorted(consent_model.ORDINARY_CATEGORIES) + sorted(consent_model.SENSITIVE_CATEGORIES)
)


class GrantSchema(ma.Schema):
    """A consent: who agreed to what (purpose and data categories), under which notice,
    how, with what evidence. Sensitive categories need a separate, sensitive grant."""

    purpose = ma.fields.String(required=True, validate=one_of(consent_model.PURPOSES))
    data_categories = ma.fields.List(
        ma.fields.String(validate=one_of(CATEGORIES)),
        required=True,
        validate=ma.validate.Length(min=1, max=len(CATEGORIES)),
    )
    sensitive = ma.fields.Boolean(load_default=False)
    notice_version = Text(50, required=True)
    method = ma.fields.String(required=True, validate=one_of(consent_model.METHODS))
    evidence = Text(500, required=True)
    valid_from = Moment()
    valid_to = Moment()

    @ma.validates_schema
    def period(self, data: dict[str, Any], **_: Any) -> None:
        start, end = data.get("valid_from"), data.get("valid_to")
        if start is not None and end is not None and end <= start:
            raise ma.ValidationError({"valid_to": ["must be after valid_from"]})


class WithdrawalSchema(ma.Schema):
    method = ma.fields.String(load_default="electronic", validate=one_of(consent_model.METHODS))
    evidence = Text(500, allow_none=True)


class GrantedSchema(ma.Schema):
    id = ma.fields.UUID(required=True, metadata={"description": "the consent stream"})
    version = ma.fields.Integer(required=True)
    record_id = ma.fields.UUID(required=True, metadata={"description": "this grant's record"})


class ConsentSchema(DisclosedView):
    customer_id = ma.fields.UUID(required=True)
    purpose = ma.fields.String(required=True)
    record_id = ma.fields.UUID(allow_none=True)
    state = ma.fields.String(required=True)
    live = ma.fields.Boolean(required=True)
    data_categories = ma.fields.List(ma.fields.String())
    sensitive = ma.fields.Boolean()
    notice_version = ma.fields.String(allow_none=True)
    method = ma.fields.String(allow_none=True)
    evidence = ma.fields.String(allow_none=True)
    valid_from = ma.fields.String(allow_none=True, metadata={"format": "date-time"})
    valid_to = ma.fields.String(allow_none=True, metadata={"format": "date-time"})
    withdrawn_at = ma.fields.String(allow_none=True, metadata={"format": "date-time"})
    previous_records = ma.fields.List(ma.fields.String())


class ConsentListSchema(ma.Schema):
    customer_id = ma.fields.UUID(required=True)
    consents = ma.fields.List(ma.fields.Nested(ConsentSchema), required=True)
