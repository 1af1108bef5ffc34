"""Grading: a customer's tier (VIP, premium, ordinary) and what it entitles them to."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from web.api._blueprint import Blueprint
from web.api._http import ETAG_HEADER, IDEMPOTENCY_PARAM, actor, etag, jsonable
from web.auth import roles_allowed
from web.context import get_ledger
from web.schemas.grading import GradeRequestSchema, GradeSchema

blp = Blueprint("grading", __name__, url_prefix="/api/v1/customers", description="Grading")

READERS = ("front_office", "relationship_manager", "compliance_officer", "system")


@blp.route("/<uuid:customer_id>/grade", methods=["GET"])
@blp.response(200, GradeSchema, headers=ETAG_HEADER)
@roles_allowed(*READERS)
def read_grade(customer_id: UUID) -> Any:
    """The customer's tier, latest score and entitlements (priority handling, a
    dedicated relationship manager, ...). 404 until first graded."""
    view = get_ledger().app.get_grading(customer_id)
    return jsonable(view), 200, {"ETag": etag(view.version)}


@blp.route("/<uuid:customer_id>/grade", methods=["POST"])
@blp.arguments(GradeRequestSchema)
@blp.response(200, GradeSchema, headers=ETAG_HEADER)
@blp.doc(parameters=[IDEMPOTENCY_PARAM])
@roles_allowed("relationship_manager", "system")
def grade_customer(args: dict[str, Any], customer_id: UUID) -> Any:
    """Grade the customer for a quarter: upgrades at once, downgrades after two
    consecutive quarters below. The event records the inputs and rule versions."""
    view = get_ledger().app.grade_customer(
        customer_id, args["period"], actor(), credit_score=args["credit_score"]
    )
    return jsonable(view), 200, {"ETag": etag(view.version)}
