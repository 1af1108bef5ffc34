"""Campaigns and customer events (lectures, competitions, appreciation events):
planning, invitations within consent, attendance."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from web.api._blueprint import Blueprint
from web.api._book import book, customers_in_body, not_about_a_customer
from web.api._http import (
    ETAG_HEADER,
    IDEMPOTENCY_PARAM,
    IF_MATCH_OPTIONAL,
    actor,
    etag,
    jsonable,
)
from web.api._http import expected_version as if_match
from web.auth import roles_allowed
from web.context import get_ledger
from web.schemas.campaigns import (
    AttendanceSchema,
    CampaignSchema,
    InvitationRequestSchema,
    InvitationSchema,
    NewCampaignSchema,
)
from web.schemas.common import CreatedSchema

blp = Blueprint("campaigns", __name__, url_prefix="/api/v1/campaigns", description="Campaigns")

PLANNERS = ("relationship_manager", "system")
READERS = ("front_office", "relationship_manager", "compliance_officer")


@blp.route("", methods=["POST"])
@blp.arguments(NewCampaignSchema)
@blp.response(201, CreatedSchema, headers=ETAG_HEADER)
@blp.doc(parameters=[IDEMPOTENCY_PARAM])
@roles_allowed(*PLANNERS)
@book(not_about_a_customer)
def plan_campaign(args: dict[str, Any]) -> Any:
    """Plan a campaign or customer event."""
    app = get_ledger().app
    campaign_id = app.plan_campaign(
        args.pop("kind"),
        args.pop("title"),
        args.pop("starts_on"),
        args.pop("ends_on"),
        actor(),
        **args,
    )
    version = app.get_campaign(campaign_id).version
    headers = {"ETag": etag(version), "Location": f"{blp.url_prefix}/{campaign_id}"}
    return {"id": campaign_id, "version": version}, 201, headers


@blp.route("/<uuid:campaign_id>", methods=["GET"])
@blp.response(200, CampaignSchema, headers=ETAG_HEADER)
@roles_allowed(*READERS)
@book(not_about_a_customer)
def read_campaign(campaign_id: UUID) -> Any:
    """The campaign as planned."""
    view = get_ledger().app.get_campaign(campaign_id)
    return jsonable(view), 200, {"ETag": etag(view.version)}


@blp.route("/<uuid:campaign_id>/invitations", methods=["POST"])
@blp.arguments(InvitationRequestSchema)
@blp.response(201, CreatedSchema, headers=ETAG_HEADER)
@blp.doc(parameters=[IDEMPOTENCY_PARAM])
@roles_allowed(*PLANNERS)
@book(customers_in_body("customer_id"))
def invite(args: dict[str, Any], campaign_id: UUID) -> Any:
    """Invite a customer; without a live marketing consent it is a 409 problem
    `consent_required`, and after the campaign is over a 409 `illegal_transition`."""
    app = get_ledger().app
    invitation_id = app.invite_to_campaign(
        campaign_id, args["customer_id"], actor(), contact_channel=args["contact_channel"]
    )
    version = app.get_invitation(campaign_id, args["customer_id"]).version
    return {"id": invitation_id, "version": version}, 201, {"ETag": etag(version)}


@blp.route("/<uuid:campaign_id>/invitations/<uuid:customer_id>", methods=["GET"])
@blp.response(200, InvitationSchema, headers=ETAG_HEADER)
@roles_allowed(*READERS)
def read_invitation(campaign_id: UUID, customer_id: UUID) -> Any:
    """One customer's invitation and attendance."""
    view = get_ledger().app.get_invitation(campaign_id, customer_id)
    return jsonable(view), 200, {"ETag": etag(view.version)}


@blp.route("/<uuid:campaign_id>/invitations/<uuid:customer_id>/attendance", methods=["POST"])
@blp.arguments(AttendanceSchema)
@blp.response(200, CreatedSchema, headers=ETAG_HEADER)
@blp.doc(parameters=[IF_MATCH_OPTIONAL, IDEMPOTENCY_PARAM])
@roles_allowed("front_office", "relationship_manager")
def record_attendance(args: dict[str, Any], campaign_id: UUID, customer_id: UUID) -> Any:
    """Record whether an invited customer attended."""
    app = get_ledger().app
    app.record_attendance(
        campaign_id,
        customer_id,
        args["attended"],
        actor(),
        expected_version=if_match(required=False),
    )
    view = app.get_invitation(campaign_id, customer_id)
    return {"id": view.id, "version": view.version}, 200, {"ETag": etag(view.version)}
