"""The customer lifecycle: activate a prospect, classify, flag special care, end."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from web.api._blueprint import Blueprint
from web.api._http import ETAG_HEADER, IDEMPOTENCY_PARAM, IF_MATCH_OPTIONAL, actor, etag
from web.api._http import expected_version as if_match
from web.auth import roles_allowed
from web.context import get_ledger
from web.schemas.common import CreatedSchema
from web.schemas.lifecycle import (
    RelationshipEndChangeSchema,
    RelationshipEndedSchema,
    RelationshipEndSchema,
    SpecialCareSchema,
)

blp = Blueprint(
    "customer_lifecycle",
    __name__,
    url_prefix="/api/v1/customers",
    description="The customer lifecycle",
)

COMMAND_DOCS = [IF_MATCH_OPTIONAL, IDEMPOTENCY_PARAM]


def _versioned(customer_id: UUID, **extra: Any) -> tuple[dict[str, Any], int, dict[str, str]]:
    version = get_ledger().app.get_customer(customer_id).version
    return {"id": customer_id, "version": version, **extra}, 200, {"ETag": etag(version)}


@blp.route("/<uuid:customer_id>/activation", methods=["POST"])
@blp.response(200, CreatedSchema, headers=ETAG_HEADER)
@blp.doc(parameters=COMMAND_DOCS)
@roles_allowed("front_office", "relationship_manager")
def activate(customer_id: UUID) -> Any:
    """A prospect becomes an active customer and gets a KYC file."""
    get_ledger().app.activate_customer(
        customer_id, actor(), expected_version=if_match(required=False)
    )
    return _versioned(customer_id)


@blp.route("/<uuid:customer_id>/classification", methods=["POST"])
@blp.response(200, CreatedSchema, headers=ETAG_HEADER)
@blp.doc(parameters=COMMAND_DOCS)
@roles_allowed("relationship_manager", "system")
def classify(customer_id: UUID) -> Any:
    """Classify the customer from its profile (individuals by age, income and risk
    preference; corporate customers by size, industry and stage). The segment is
    personal data: read it from the customer with a purpose."""
    get_ledger().app.classify_customer(
        customer_id, actor(), expected_version=if_match(required=False)
    )
    return _versioned(customer_id)


@blp.route("/<uuid:customer_id>/special-care", methods=["POST"])
@blp.arguments(SpecialCareSchema)
@blp.response(200, CreatedSchema, headers=ETAG_HEADER)
@blp.doc(parameters=COMMAND_DOCS)
@roles_allowed("front_office", "relationship_manager")
def flag_special_care(args: dict[str, Any], customer_id: UUID) -> Any:
    """Flag special care (elderly, disabled) with its measures: priority channel,
    home service, periodic follow-up."""
    get_ledger().app.flag_special_care(
        customer_id,
        args["reasons"],
        args["measures"],
        actor(),
        expected_version=if_match(required=False),
    )
    return _versioned(customer_id)


@blp.route("/<uuid:customer_id>/relationship-end", methods=["POST"])
@blp.arguments(RelationshipEndSchema)
@blp.response(200, RelationshipEndedSchema, headers=ETAG_HEADER)
@blp.doc(parameters=COMMAND_DOCS)
@roles_allowed("relationship_manager", "compliance_officer", "system")
def end_relationship(args: dict[str, Any], customer_id: UUID) -> Any:
    """End the relationship; the retention period (10 years by default) starts.
    `ended_on` (default today) can be neither before the registration nor after today
    (422)."""
    until = get_ledger().app.end_relationship(
        customer_id,
        actor(),
        ended_on=args.get("ended_on"),
        expected_version=if_match(required=False),
    )
    return _versioned(customer_id, retention_ends_on=until.isoformat())


@blp.route("/<uuid:customer_id>/relationship-end", methods=["PUT"])
@blp.arguments(RelationshipEndChangeSchema)
@blp.response(200, RelationshipEndedSchema, headers=ETAG_HEADER)
@blp.doc(parameters=COMMAND_DOCS)
@roles_allowed("relationship_manager", "compliance_officer")
def change_relationship_end(args: dict[str, Any], customer_id: UUID) -> Any:
    """Correct the day an ended relationship ended: needs a `reason` (recorded with the
    event) and keeps the bounds (not before the registration, not after today); 409
    unless the relationship has ended and its retention still runs."""
    until = get_ledger().app.change_relationship_end(
        customer_id,
        args["ended_on"],
        args["reason"],
        actor(),
        expected_version=if_match(required=False),
    )
    return _versioned(customer_id, retention_ends_on=until.isoformat())
