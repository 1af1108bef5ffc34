"""Grading: a customer's credit assessments, tier (VIP, premium, ordinary), what it
entitles them to and the risk-control measures in force."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from domain.records import GradingRecord
from domain.services.grading import CreditAssessment
from web.api._blueprint import Blueprint
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
from web.schemas.grading import (
    CreditAssessmentSchema,
    GradeRequestSchema,
    GradeSchema,
)

blp = Blueprint("grading", __name__, url_prefix="/api/v1/customers", description="Grading")

READERS = ("front_office", "relationship_manager", "compliance_officer", "system")
CREDIT_WRITERS = ("relationship_manager", "compliance_officer", "system")


def _grade_body(view: GradingRecord) -> dict[str, Any]:
    # The credit score itself stays in the event (C2); the view says whether one is held.
    return {**jsonable(view), "credit_status": view.credit_status}


@blp.route("/<uuid:customer_id>/grade", methods=["GET"])
@blp.response(200, GradeSchema, headers=ETAG_HEADER)
@roles_allowed(*READERS)
def read_grade(customer_id: UUID) -> Any:
    """The customer's tier, latest score and entitlements (priority handling, a
    dedicated relationship manager, ...). 404 until first graded."""
    view = get_ledger().app.get_grading(customer_id)
    return _grade_body(view), 200, {"ETag": etag(view.version)}


@blp.route("/<uuid:customer_id>/grade", methods=["POST"])
@blp.arguments(GradeRequestSchema)
@blp.response(200, GradeSchema, headers=ETAG_HEADER)
@blp.doc(parameters=[IDEMPOTENCY_PARAM])
@roles_allowed("relationship_manager", "system")
def grade_customer(args: dict[str, Any], customer_id: UUID) -> Any:
    """Grade the customer for a quarter: upgrades at once, downgrades after two
    consecutive quarters below. The event records the inputs and rule versions."""
    view = get_ledger().app.grade_customer(customer_id, args["period"], actor())
    return _grade_body(view), 200, {"ETag": etag(view.version)}


@blp.route("/<uuid:customer_id>/credit-assessments", methods=["POST"])
@blp.arguments(CreditAssessmentSchema)
@blp.response(201, GradeSchema, headers=ETAG_HEADER)
@blp.doc(parameters=[IF_MATCH_OPTIONAL, IDEMPOTENCY_PARAM])
@roles_allowed(*CREDIT_WRITERS)
def record_credit_assessment(args: dict[str, Any], customer_id: UUID) -> Any:
    """Record a credit assessment (source, 0-100 score, the day assessed); the next
    grading uses the newest one. `If-Match` names the grading stream's version."""
    view = get_ledger().app.record_credit_assessment(
        CreditAssessment(customer_id, args["source"], args["score"], args["assessed_on"]),
        actor(),
        expected_version=if_match(required=False),
    )
    return _grade_body(view), 201, {"ETag": etag(view.version)}
