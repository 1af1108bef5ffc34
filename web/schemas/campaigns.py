"""Campaigns and customer events, invitations and attendance."""

from __future__ import annotations

from typing import Any

import marshmallow as ma

from domain import campaign as campaign_model
from domain import interaction as interaction_model
from web.schemas.common import Day, EntryView, Text, one_of


class NewCampaignSchema(ma.Schema):
    kind = ma.fields.String(required=True, validate=one_of(campaign_model.KINDS))
    title = Text(200, required=True)
    starts_on = Day(required=True)
    ends_on = Day(required=True)
    target_segment = Text(100, allow_none=True)
    branch = Text(100, allow_none=True)

    @ma.validates_schema
    def dates(self, data: dict[str, Any], **_: Any) -> None:
        start, end = data.get("starts_on"), data.get("ends_on")
        if start is not None and end is not None and end < start:
            raise ma.ValidationError({"ends_on": ["must not be before starts_on"]})


class InvitationRequestSchema(ma.Schema):
    """Invite a customer: a marketing contact, so it needs a live marketing consent."""

    customer_id = ma.fields.UUID(required=True)
    contact_channel = ma.fields.String(
        load_default="sms", validate=one_of(interaction_model.CHANNELS)
    )


class AttendanceSchema(ma.Schema):
    attended = ma.fields.Boolean(required=True)


class CampaignSchema(EntryView):
    kind = ma.fields.String(required=True)
    title = ma.fields.String(required=True)
    starts_on = ma.fields.String(required=True, metadata={"format": "date"})
    ends_on = ma.fields.String(required=True, metadata={"format": "date"})
    target_segment = ma.fields.String(allow_none=True)
    branch = ma.fields.String(allow_none=True)


class InvitationSchema(EntryView):
    customer_id = ma.fields.UUID(required=True)
    campaign_id = ma.fields.UUID(required=True)
    attendance = ma.fields.String(required=True)
