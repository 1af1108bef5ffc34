"""KYC: identity documents, risk rating, re-verification, restoring suspended business."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from domain.identity import AlreadyRegistered
from domain.ids import kyc_file_id
from domain.kyc import KycFile
from web.api._blueprint import Blueprint
from web.api._disclosure import disclosure, personal_fields_of
from web.api._http import ETAG_HEADER, IF_MATCH_OPTIONAL, PURPOSE_PARAM, actor, etag
from web.api._http import expected_version as if_match
from web.api._registration import holder_shown
from web.auth import roles_allowed
from web.context import get_ledger
from web.schemas.kyc import (
    DocumentRecordedSchema,
    IdDocumentSchema,
    KycSchema,
    ReviewCompletionSchema,
    ReviewDueSchema,
    ReviewStartSchema,
    RiskRatingSchema,
)

blp = Blueprint("kyc", __name__, url_prefix="/api/v1/customers", description="Know your customer")

READERS = ("front_office", "relationship_manager", "compliance_officer")
DOCUMENT_TAKERS = ("front_office", "relationship_manager", "compliance_officer")
REVIEWERS = ("relationship_manager", "compliance_officer", "system")
PERSONAL = personal_fields_of(KycFile)


def _versioned(customer_id: UUID, **extra: Any) -> Any:
    version = get_ledger().app.get_kyc(customer_id).version
    return {"id": kyc_file_id(customer_id), "version": version, **extra}, {"ETag": etag(version)}


@blp.route("/<uuid:customer_id>/kyc", methods=["GET"])
@blp.response(200, KycSchema, headers=ETAG_HEADER)
@blp.doc(parameters=[PURPOSE_PARAM])
@roles_allowed(*READERS)
def read_kyc(customer_id: UUID) -> Any:
    """The customer's KYC file: risk rating, review state, identity document (its
    number masked unless disclosed for a purpose)."""
    view = get_ledger().app.get_kyc(customer_id)
    shown = disclosure()
    data = shown.show(vars(view), PERSONAL)
    shown.record(customer_id, "kyc.document")
    return data, 200, {"ETag": etag(view.version)}


@blp.route("/<uuid:customer_id>/kyc/documents", methods=["POST"])
@blp.arguments(IdDocumentSchema)
@blp.response(201, DocumentRecordedSchema, headers=ETAG_HEADER)
@blp.doc(parameters=[IF_MATCH_OPTIONAL])
@roles_allowed(*DOCUMENT_TAKERS)
def record_document(args: dict[str, Any], customer_id: UUID) -> Any:
    """Record an identity document (an expired one is refused); a valid document
    restores business suspended by an expired one. The answer's status is `valid` or
    `expiring`."""
    try:
        status = get_ledger().app.record_identity_document(
            customer_id,
            args["type"],
            args["number"],
            args["expires_on"],
            actor(),
            expected_version=if_match(required=False),
        )
    except AlreadyRegistered as exc:
        raise holder_shown(exc) from None
    body, headers = _versioned(customer_id, status=status)
    return body, 201, headers


@blp.route("/<uuid:customer_id>/kyc/risk-rating", methods=["POST"])
@blp.arguments(RiskRatingSchema)
@blp.response(200, ReviewDueSchema, headers=ETAG_HEADER)
@blp.doc(parameters=[IF_MATCH_OPTIONAL])
@roles_allowed(*REVIEWERS)
def assign_risk_rating(args: dict[str, Any], customer_id: UUID) -> Any:
    """Assign the risk rating; the answer names the next re-verification date."""
    due = get_ledger().app.assign_risk_rating(
        customer_id,
        args["risk_level"],
        actor(),
        factors=args["factors"],
        expected_version=if_match(required=False),
    )
    body, headers = _versioned(customer_id, next_review_due=due.isoformat())
    return body, 200, headers


@blp.route("/<uuid:customer_id>/kyc/reviews", methods=["POST"])
@blp.arguments(ReviewStartSchema)
@blp.response(200, ReviewDueSchema, headers=ETAG_HEADER)
@blp.doc(parameters=[IF_MATCH_OPTIONAL])
@roles_allowed(*REVIEWERS)
def start_review(args: dict[str, Any], customer_id: UUID) -> Any:
    """Start a re-verification: when due, or at once for a trigger (ownership change,
    screening hit, ID expiry, customer request)."""
    app = get_ledger().app
    app.start_reverification(
        customer_id, actor(), trigger=args.get("trigger"), expected_version=if_match(required=False)
    )
    due = app.get_kyc(customer_id).next_review_due
    body, headers = _versioned(customer_id, next_review_due=due.isoformat() if due else None)
    return body, 200, headers


@blp.route("/<uuid:customer_id>/kyc/reviews/completion", methods=["POST"])
@blp.arguments(ReviewCompletionSchema)
@blp.response(200, ReviewDueSchema, headers=ETAG_HEADER)
@blp.doc(parameters=[IF_MATCH_OPTIONAL])
@roles_allowed("relationship_manager", "compliance_officer")
def complete_review(args: dict[str, Any], customer_id: UUID) -> Any:
    """Complete the re-verification (the risk level may change); the answer names the
    next due date."""
    due = get_ledger().app.complete_reverification(
        customer_id,
        actor(),
        risk_level=args.get("risk_level"),
        expected_version=if_match(required=False),
    )
    body, headers = _versioned(customer_id, next_review_due=due.isoformat())
    return body, 200, headers


@blp.route("/<uuid:customer_id>/kyc/business-restoration", methods=["POST"])
@blp.response(200, ReviewDueSchema, headers=ETAG_HEADER)
@blp.doc(parameters=[IF_MATCH_OPTIONAL])
@roles_allowed("compliance_officer")
def restore_business(customer_id: UUID) -> Any:
    """Lift a suspension by hand (compliance); needs a document that has not expired."""
    app = get_ledger().app
    app.restore_business(customer_id, actor(), expected_version=if_match(required=False))
    due = app.get_kyc(customer_id).next_review_due
    body, headers = _versioned(customer_id, next_review_due=due.isoformat() if due else None)
    return body, 200, headers
