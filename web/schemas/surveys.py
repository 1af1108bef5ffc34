"""Surveys: sending, answering, service recovery, the survey view."""

from __future__ import annotations

from typing import Any

import marshmallow as ma

from domain import interaction as interaction_model
from domain import survey as survey_model
from web.schemas.common import Amount, DisclosedView, Text, one_of


class NewSurveySchema(ma.Schema):
    customer_id = ma.fields.UUID(required=True)
    instrument = ma.fields.String(required=True, validate=one_of(survey_model.INSTRUMENTS))
    contact_channel = ma.fields.String(
        load_default="sms", validate=one_of(interaction_model.CHANNELS)
    )
    context = Text(100, load_default="periodic")
    related_case_id = ma.fields.UUID(allow_none=True)


class DimensionsSchema(ma.Schema):
    """The four dimensions of policy 5.1, each scored 1-5."""

    service_quality = ma.fields.Integer(
        required=True, strict=True, validate=ma.validate.Range(1, 5)
    )
    product_quality = ma.fields.Integer(
        required=True, strict=True, validate=ma.validate.Range(1, 5)
    )
    price_reasonableness = ma.fields.Integer(
        required=True, strict=True, validate=ma.validate.Range(1, 5)
    )
    communication = ma.fields.Integer(required=True, strict=True, validate=ma.validate.Range(1, 5))


class AnswerSchema(ma.Schema):
    """The customer's answer: CSAT 1-5 or NPS 0-10, with an optional verbatim and the
    four dimensions (all or none)."""

    score = ma.fields.Integer(required=True, strict=True, validate=ma.validate.Range(0, 10))
    verbatim = Text(4000, allow_none=True)
    dimensions = ma.fields.Nested(DimensionsSchema, allow_none=True)


class RecoverySchema(ma.Schema):
    """Service recovery after a dissatisfied answer: apology, compensation (with its
    amount) or improvement."""

    action = ma.fields.String(required=True, validate=one_of(survey_model.RECOVERY_ACTIONS))
    description = Text(4000, required=True)
    amount = Amount(allow_none=True)

    @ma.validates_schema
    def amount_of_compensation(self, data: dict[str, Any], **_: Any) -> None:
        if data.get("action") == "compensation" and data.get("amount") is None:
            raise ma.ValidationError({"amount": ["required for compensation"]})


class AnsweredSchema(ma.Schema):
    id = ma.fields.UUID(required=True)
    version = ma.fields.Integer(required=True)
    dissatisfied = ma.fields.Boolean(required=True)
    recovery_case_id = ma.fields.UUID(
        allow_none=True, metadata={"description": "the service-recovery case opened"}
    )


class SurveySchema(DisclosedView):
    customer_id = ma.fields.UUID(required=True)
    instrument = ma.fields.String(required=True)
    context = ma.fields.String(required=True)
    related_case_id = ma.fields.UUID(allow_none=True)
    state = ma.fields.String(required=True)
    sent_at = ma.fields.String(allow_none=True, metadata={"format": "date-time"})
    answered_at = ma.fields.String(allow_none=True, metadata={"format": "date-time"})
    score = ma.fields.Integer(allow_none=True)
    verbatim = ma.fields.String(allow_none=True)
    dimensions = ma.fields.Dict(keys=ma.fields.String(), values=ma.fields.Integer())
    dissatisfied = ma.fields.Boolean(required=True)
    recovery_case_id = ma.fields.UUID(allow_none=True)
    recovery_actions = ma.fields.List(ma.fields.String())
