"""Interactions on every channel, greetings within consent, care visits."""

from __future__ import annotations

import marshmallow as ma

from domain import customer as customer_model
from domain import interaction as interaction_model
from web.schemas.common import EntryView, Text, one_of


class InteractionSchema(ma.Schema):
    """A contact; marketing and sales contacts need a live marketing consent."""

    contact_channel = ma.fields.String(required=True, validate=one_of(interaction_model.CHANNELS))
    direction = ma.fields.String(required=True, validate=one_of(interaction_model.DIRECTIONS))
    purpose = ma.fields.String(required=True, validate=one_of(interaction_model.PURPOSES))
    topic = Text(200, required=True)
    content = Text(4000, load_default="")


class GreetingSchema(ma.Schema):
    occasion = ma.fields.String(required=True, validate=one_of(interaction_model.OCCASIONS))
    message = Text(
        1000,
        metadata={
            "description": "default: the firm's text for the occasion in the customer's "
            "language (zh-CN unless the customer chose en); required for other occasions"
        },
    )
    contact_channel = ma.fields.String(
        load_default="sms", validate=one_of(interaction_model.CHANNELS)
    )


class AdviceSchema(ma.Schema):
    """Advice tailored to the customer (7.1); `topic` and `advice` are personal."""

    area = ma.fields.String(required=True, validate=one_of(interaction_model.ADVICE_AREAS))
    topic = Text(200, required=True)
    advice = Text(4000, required=True)
    contact_channel = ma.fields.String(
        load_default="branch", validate=one_of(interaction_model.CHANNELS)
    )


class PreferencesSchema(ma.Schema):
    """The customer's needs and interests as they stand now (7.1), replacing the previous
    ones: codes (C1); `notes` is personal (encrypted, masked)."""

    needs = ma.fields.List(
        ma.fields.String(validate=one_of(customer_model.NEEDS)),
        required=True,
        validate=ma.validate.Length(max=20),
    )
    interests = ma.fields.List(
        ma.fields.String(
            validate=ma.validate.Regexp(
                r"^[a-z][a-z0-9_]{0,39}$",
                error="codes are lower-case letters, digits and underscores (at most 40)",
            )
        ),
        required=True,
        validate=ma.validate.Length(max=20),
        metadata={"description": "codes such as golf, art, travel"},
    )
    notes = Text(2000, load_default="")


class PreferencesRecordedSchema(ma.Schema):
    recorded = ma.fields.Boolean(
        required=True, metadata={"description": "false: unchanged, nothing recorded"}
    )
    version = ma.fields.Integer(required=True, metadata={"description": "of the customer"})


class CareVisitSchema(ma.Schema):
    visit_kind = ma.fields.String(required=True, validate=one_of(interaction_model.VISIT_KINDS))
    notes = Text(4000, load_default="")
    related_case_id = ma.fields.UUID(allow_none=True)


class LoggedSchema(ma.Schema):
    id = ma.fields.UUID(required=True, metadata={"description": "the interaction (advice)"})
    version = ma.fields.Integer(required=True, metadata={"description": "of the log"})


class GreetedSchema(ma.Schema):
    sent = ma.fields.Boolean(
        required=True, metadata={"description": "false: already greeted this year"}
    )


class CareVisitedSchema(ma.Schema):
    next_due_on = ma.fields.String(allow_none=True, metadata={"format": "date"})


class InteractionSummarySchema(EntryView):
    customer_id = ma.fields.UUID(required=True)
    interactions = ma.fields.Integer(required=True)
    marketing_contacts = ma.fields.Integer(required=True)
    care_visits = ma.fields.Integer(required=True)
    advice_given = ma.fields.Integer(required=True)
    last_advice_at = ma.fields.String(allow_none=True, metadata={"format": "date-time"})
    last_contact_at = ma.fields.String(allow_none=True, metadata={"format": "date-time"})
    last_channel = ma.fields.String(allow_none=True)
    greetings_sent = ma.fields.List(ma.fields.String())
    last_care_visit_on = ma.fields.String(allow_none=True, metadata={"format": "date"})
    next_care_due_on = ma.fields.String(allow_none=True, metadata={"format": "date"})
