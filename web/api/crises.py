"""Crisis incidents: open, update (contact, remedy, public statement), close."""

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
from web.schemas.common import CreatedSchema
from web.schemas.crises import (
    CrisisClosureSchema,
    CrisisContactedSchema,
    CrisisContactSchema,
    CrisisSchema,
    CrisisUpdateSchema,
    NewCrisisSchema,
)

blp = Blueprint("crises", __name__, url_prefix="/api/v1/crises", description="Crisis incidents")

HANDLERS = ("relationship_manager", "compliance_officer")
READERS = ("front_office", "relationship_manager", "compliance_officer")


def _versioned(crisis_id: UUID, status: int) -> Any:
    version = get_ledger().app.get_crisis(crisis_id).version
    headers = {"ETag": etag(version), "Location": f"{blp.url_prefix}/{crisis_id}"}
    return {"id": crisis_id, "version": version}, status, headers


@blp.route("", methods=["POST"])
@blp.arguments(NewCrisisSchema)
@blp.response(201, CreatedSchema, headers=ETAG_HEADER)
@blp.doc(parameters=[IDEMPOTENCY_PARAM])
@roles_allowed(*HANDLERS)
@book(not_about_a_customer)
def open_crisis(args: dict[str, Any]) -> Any:
    """Open a crisis incident; affected customers are listed by id only."""
    crisis_id = get_ledger().app.open_crisis(
        args["title"],
        args["scope"],
        args["severity"],
        actor(),
        affected_customer_ids=args["affected_customer_ids"],
    )
    return _versioned(crisis_id, 201)


@blp.route("/<uuid:crisis_id>", methods=["GET"])
@blp.response(200, CrisisSchema, headers=ETAG_HEADER)
@roles_allowed(*READERS)
@book(not_about_a_customer)
def read_crisis(crisis_id: UUID) -> Any:
    """The incident and its progress."""
    view = get_ledger().app.get_crisis(crisis_id)
    return jsonable(view), 200, {"ETag": etag(view.version)}


@blp.route("/<uuid:crisis_id>/updates", methods=["POST"])
@blp.arguments(CrisisUpdateSchema)
@blp.response(201, CreatedSchema, headers=ETAG_HEADER)
@blp.doc(parameters=[IF_MATCH_OPTIONAL, IDEMPOTENCY_PARAM])
@roles_allowed(*HANDLERS)
@book(not_about_a_customer)
def update_crisis(args: dict[str, Any], crisis_id: UUID) -> Any:
    """Record a contact round, a remedy, a public statement or a note (only while the
    incident is open)."""
    get_ledger().app.update_crisis(
        crisis_id,
        args["kind"],
        args["text"],
        actor(),
        customers_contacted=args["customers_contacted"],
        expected_version=if_match(required=False),
    )
    return _versioned(crisis_id, 201)


@blp.route("/<uuid:crisis_id>/contacts", methods=["POST"])
@blp.arguments(CrisisContactSchema)
@blp.response(201, CrisisContactedSchema, headers=ETAG_HEADER)
@blp.doc(parameters=[IF_MATCH_OPTIONAL, IDEMPOTENCY_PARAM])
@roles_allowed(*HANDLERS)
@book(customers_in_body("customer_id"))
def record_crisis_contact(args: dict[str, Any], crisis_id: UUID) -> Any:
    """Record a contact with a customer affected by the open crisis (422 for one not
    affected): the customer's interaction log keeps what was said, the crisis the id,
    channel and time; the answer says whether the first contact met the deadline (24
    hours after opening by default). The register is `GET /api/v1/views/crises`."""
    in_time = get_ledger().app.record_crisis_contact(
        crisis_id,
        args["customer_id"],
        args["contact_channel"],
        args["notes"],
        actor(),
        expected_version=if_match(required=False),
    )
    body, status, headers = _versioned(crisis_id, 201)
    return {**body, "in_time": in_time}, status, headers


@blp.route("/<uuid:crisis_id>/closure", methods=["POST"])
@blp.arguments(CrisisClosureSchema)
@blp.response(200, CreatedSchema, headers=ETAG_HEADER)
@blp.doc(parameters=[IF_MATCH_OPTIONAL, IDEMPOTENCY_PARAM])
@roles_allowed("compliance_officer")
def close_crisis(args: dict[str, Any], crisis_id: UUID) -> Any:
    """Close the incident (after a remedy or a public statement)."""
    get_ledger().app.close_crisis(
        crisis_id, args["summary"], actor(), expected_version=if_match(required=False)
    )
    return _versioned(crisis_id, 200)
