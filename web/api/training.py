"""Staff training (policy 4.3, 5.3): courses completed, by employee id. Staff are not
customers: nothing here names a customer or a staff member's name."""

from __future__ import annotations

from typing import Any

from web.api._blueprint import Blueprint
from web.api._book import book, not_about_a_customer
from web.api._http import ETAG_HEADER, IDEMPOTENCY_PARAM, actor, etag, jsonable
from web.auth import roles_allowed
from web.context import get_ledger
from web.schemas.common import CreatedSchema
from web.schemas.quality import TrainingSchema, TrainingViewSchema

blp = Blueprint(
    "training", __name__, url_prefix="/api/v1/staff-training", description="Service quality"
)

RECORDERS = ("compliance_officer", "system")
READERS = ("relationship_manager", "compliance_officer", "system")


@blp.route("", methods=["POST"])
@blp.arguments(TrainingSchema)
@blp.response(201, CreatedSchema, headers=ETAG_HEADER)
@blp.doc(parameters=[IDEMPOTENCY_PARAM])
@roles_allowed(*RECORDERS)
def record_training(args: dict[str, Any]) -> Any:
    """Record a course a staff member completed, optionally against the service standard
    whose finding it answers (404 when that standard does not exist)."""
    app = get_ledger().app
    app.record_training(
        args["staff_id"],
        args["course"],
        args["topic"],
        args["completed_on"],
        args["hours"],
        args["provider"],
        actor(),
        standard_code=args.get("standard_code"),
    )
    view = app.get_training(args["staff_id"])
    return {"id": view.id, "version": view.version}, 201, {"ETag": etag(view.version)}


@blp.route("/<string:staff_id>", methods=["GET"])
@blp.response(200, TrainingViewSchema, headers=ETAG_HEADER)
@roles_allowed(*READERS)
@book(not_about_a_customer)
def read_training(staff_id: str) -> Any:
    """A staff member's training record: courses and total hours (the courses one by one
    are in the `staff-training` view)."""
    view = get_ledger().app.get_training(staff_id)
    return jsonable(view), 200, {"ETag": etag(view.version)}
