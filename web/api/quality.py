"""Service quality: standards and their monitoring (mystery shopping, audits,
breaches, improvement actions). Findings name no customer."""

from __future__ import annotations

from typing import Any

from domain.rules.quality import STANDARD_BREACH_VERSION
from web.api._blueprint import Blueprint
from web.api._book import book, not_about_a_customer
from web.api._http import ETAG_HEADER, IDEMPOTENCY_PARAM, actor, etag, jsonable
from web.auth import roles_allowed
from web.context import get_ledger
from web.schemas.common import CreatedSchema
from web.schemas.quality import (
    AuditSchema,
    BreachSchema,
    ImprovementSchema,
    MeasuredSchema,
    MeasurementSchema,
    MysteryShopSchema,
    ReviewSchema,
    StandardSchema,
    StandardViewSchema,
)

blp = Blueprint(
    "quality", __name__, url_prefix="/api/v1/service-standards", description="Service quality"
)

MONITORS = ("compliance_officer", "system")
READERS = ("front_office", "relationship_manager", "compliance_officer", "system")


def _recorded(code: str) -> Any:
    view = get_ledger().app.get_service_standard(code)
    return {"id": view.id, "version": view.version}, 201, {"ETag": etag(view.version)}


@blp.route("", methods=["POST"])
@blp.arguments(StandardSchema)
@blp.response(201, CreatedSchema, headers=ETAG_HEADER)
@blp.doc(parameters=[IDEMPOTENCY_PARAM])
@roles_allowed(*MONITORS)
def define_standard(args: dict[str, Any]) -> Any:
    """Define a service standard for a service step, with its target time or score and
    the staff duty answerable for it (redefining one records the new definition)."""
    get_ledger().app.define_service_standard(
        args["code"],
        args["name"],
        args["measure"],
        args["target"],
        args["unit"],
        actor(),
        step=args["step"],
        duty=args.get("duty"),
    )
    return _recorded(args["code"])


@blp.route("/<string:code>", methods=["GET"])
@blp.response(200, StandardViewSchema, headers=ETAG_HEADER)
@roles_allowed(*READERS)
@book(not_about_a_customer)
def read_standard(code: str) -> Any:
    """A standard with its target and monitoring counts."""
    view = get_ledger().app.get_service_standard(code)
    return jsonable(view), 200, {"ETag": etag(view.version)}


@blp.route("/<string:code>/measurements", methods=["POST"])
@blp.arguments(MeasurementSchema)
@blp.response(201, MeasuredSchema, headers=ETAG_HEADER)
@blp.doc(parameters=[IDEMPOTENCY_PARAM])
@roles_allowed(*MONITORS)
def record_measurement(args: dict[str, Any], code: str) -> Any:
    """Record a measurement against the standard. The ledger compares it with the
    target (rule `standard_breached`): a time past its target, or a share or score short
    of it, is recorded as a breach in the same write."""
    breached = get_ledger().app.record_measurement(
        code, args["branch"], args["measured"], actor(), staff_id=args.get("staff_id")
    )
    body, status, headers = _recorded(code)
    return {**body, "breached": breached, "rule_version": STANDARD_BREACH_VERSION}, status, headers


@blp.route("/<string:code>/mystery-shops", methods=["POST"])
@blp.arguments(MysteryShopSchema)
@blp.response(201, CreatedSchema, headers=ETAG_HEADER)
@blp.doc(parameters=[IDEMPOTENCY_PARAM])
@roles_allowed(*MONITORS)
def record_mystery_shop(args: dict[str, Any], code: str) -> Any:
    """Record a mystery-shopper visit (score 0-100) against the standard."""
    get_ledger().app.record_mystery_shop(
        code,
        args["branch"],
        args["score"],
        args["findings"],
        actor(),
        staff_id=args.get("staff_id"),
    )
    return _recorded(code)


@blp.route("/<string:code>/audits", methods=["POST"])
@blp.arguments(AuditSchema)
@blp.response(201, CreatedSchema, headers=ETAG_HEADER)
@blp.doc(parameters=[IDEMPOTENCY_PARAM])
@roles_allowed(*MONITORS)
def record_audit(args: dict[str, Any], code: str) -> Any:
    """Record an internal quality audit (score 0-100) against the standard."""
    get_ledger().app.complete_quality_audit(
        code, args["branch"], args["score"], args["findings"], actor()
    )
    return _recorded(code)


@blp.route("/<string:code>/breaches", methods=["POST"])
@blp.arguments(BreachSchema)
@blp.response(201, CreatedSchema, headers=ETAG_HEADER)
@blp.doc(parameters=[IDEMPOTENCY_PARAM])
@roles_allowed(*MONITORS)
def record_breach(args: dict[str, Any], code: str) -> Any:
    """Record a breach of the standard: the measured value against its target."""
    get_ledger().app.record_standard_breach(
        code,
        args["branch"],
        args["measured"],
        args["detail"],
        actor(),
        staff_id=args.get("staff_id"),
        case_id=args.get("case_id"),
    )
    return _recorded(code)


@blp.route("/<string:code>/improvement-actions", methods=["POST"])
@blp.arguments(ImprovementSchema)
@blp.response(201, CreatedSchema, headers=ETAG_HEADER)
@blp.doc(parameters=[IDEMPOTENCY_PARAM])
@roles_allowed(*MONITORS)
def record_improvement(args: dict[str, Any], code: str) -> Any:
    """Record an improvement action decided on the standard."""
    get_ledger().app.record_improvement_action(
        code,
        args["action"],
        args["owner"],
        actor(),
        due_on=args.get("due_on"),
        branch=args.get("branch"),
    )
    return _recorded(code)


@blp.route("/<string:code>/reviews", methods=["POST"])
@blp.arguments(ReviewSchema)
@blp.response(201, CreatedSchema, headers=ETAG_HEADER)
@blp.doc(parameters=[IDEMPOTENCY_PARAM])
@roles_allowed(*MONITORS)
def review_standard(args: dict[str, Any], code: str) -> Any:
    """Record the yearly review of a standard that keeps it as it is (redefining it
    counts as a review too); a standard not reviewed for 12 months is flagged by the
    `quality_reviews` job."""
    get_ledger().app.review_service_standard(code, actor(), findings=args["findings"])
    return _recorded(code)
