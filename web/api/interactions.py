"""Interactions on every channel, greetings within consent, and care visits."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from web.api._blueprint import Blueprint
from web.api._http import (
    ETAG_HEADER,
    IDEMPOTENCY_PARAM,
    IF_MATCH_OPTIONAL,
    actor,
    etag,
    expected_version,
    jsonable,
)
from web.auth import roles_allowed
from web.context import get_ledger
from web.schemas.interactions import (
    AdviceSchema,
    CareVisitedSchema,
    CareVisitSchema,
    GreetedSchema,
    GreetingSchema,
    InteractionSchema,
    InteractionSummarySchema,
    LoggedSchema,
    PreferencesRecordedSchema,
    PreferencesSchema,
)

blp = Blueprint(
    "interactions", __name__, url_prefix="/api/v1/customers", description="Communication"
)


@blp.route("/<uuid:customer_id>/interactions", methods=["POST"])
@blp.arguments(InteractionSchema)
@blp.response(201, LoggedSchema)
@blp.doc(parameters=[IDEMPOTENCY_PARAM])
@roles_allowed("front_office", "relationship_manager", "system")
def log_interaction(args: dict[str, Any], customer_id: UUID) -> Any:
    """Log a contact (phone, e-mail, SMS, social media, online chat, branch, letter).
    A marketing or sales contact without a live marketing consent is a 409 problem
    `consent_required`."""
    app = get_ledger().app
    interaction_id = app.log_interaction(
        customer_id,
        args["contact_channel"],
        args["direction"],
        args["purpose"],
        args["topic"],
        args["content"],
        actor(),
    )
    version = app.get_interactions(customer_id).version
    return {"id": interaction_id, "version": version}, 201


@blp.route("/<uuid:customer_id>/interactions", methods=["GET"])
@blp.response(200, InteractionSummarySchema)
@roles_allowed("front_office", "relationship_manager", "compliance_officer")
def interaction_summary(customer_id: UUID) -> Any:
    """Counts and dates of the customer's contacts, greetings and care visits (no
    contents)."""
    return jsonable(get_ledger().app.get_interactions(customer_id))


@blp.route("/<uuid:customer_id>/greetings", methods=["POST"])
@blp.arguments(GreetingSchema)
@blp.response(201, GreetedSchema)
@blp.doc(parameters=[IDEMPOTENCY_PARAM])
@roles_allowed("relationship_manager", "system")
def send_greeting(args: dict[str, Any], customer_id: UUID) -> Any:
    """Record a greeting (birthday, holidays) within a live greetings consent (409
    `consent_required` otherwise); once per occasion and year, in the customer's
    language."""
    sent = get_ledger().app.send_greeting(
        customer_id,
        args["occasion"],
        args.get("message"),
        actor(),
        contact_channel=args["contact_channel"],
    )
    return {"sent": sent}, 201


@blp.route("/<uuid:customer_id>/advice", methods=["POST"])
@blp.arguments(AdviceSchema)
@blp.response(201, LoggedSchema)
@blp.doc(parameters=[IDEMPOTENCY_PARAM])
@roles_allowed("front_office", "relationship_manager")
def record_advice(args: dict[str, Any], customer_id: UUID) -> Any:
    """Record advice tailored to the customer (policy 7.1): area, topic, channel and the
    advice itself (encrypted under the customer's key, masked on display)."""
    app = get_ledger().app
    advice_id = app.record_advice(
        customer_id,
        args["area"],
        args["topic"],
        args["advice"],
        actor(),
        contact_channel=args["contact_channel"],
    )
    return {"id": advice_id, "version": app.get_interactions(customer_id).version}, 201


@blp.route("/<uuid:customer_id>/preferences", methods=["PUT"])
@blp.arguments(PreferencesSchema)
@blp.response(200, PreferencesRecordedSchema, headers=ETAG_HEADER)
@blp.doc(parameters=[IF_MATCH_OPTIONAL, IDEMPOTENCY_PARAM])
@roles_allowed("front_office", "relationship_manager")
def record_preferences(args: dict[str, Any], customer_id: UUID) -> Any:
    """Record the customer's needs and interests (policy 7.1) as they stand now: codes
    (C1) and optional notes (personal: encrypted under the customer's key, masked on
    display). Unchanged preferences record nothing (`recorded` false)."""
    app = get_ledger().app
    recorded = app.record_preferences(
        customer_id,
        args["needs"],
        args["interests"],
        actor(),
        notes=args["notes"],
        expected_version=expected_version(required=False),
    )
    version = app.get_customer(customer_id).version
    return {"recorded": recorded, "version": version}, 200, {"ETag": etag(version)}


@blp.route("/<uuid:customer_id>/care-visits", methods=["POST"])
@blp.arguments(CareVisitSchema)
@blp.response(201, CareVisitedSchema)
@blp.doc(parameters=[IDEMPOTENCY_PARAM])
@roles_allowed("front_office", "relationship_manager")
def record_care_visit(args: dict[str, Any], customer_id: UUID) -> Any:
    """Record a care visit or follow-up; the answer says when the next one is due
    (every 90 days by default for customers under special care)."""
    next_due = get_ledger().app.record_care_visit(
        customer_id,
        args["visit_kind"],
        args["notes"],
        actor(),
        related_case_id=args.get("related_case_id"),
    )
    return {"next_due_on": jsonable(next_due)}, 201
