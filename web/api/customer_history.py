"""A customer's history: as of any moment, the changes between versions, the timeline."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from domain.errors import ValidationFailed
from web.api._blueprint import Blueprint
from web.api._disclosure import disclosure, masked, timeline_entry
from web.api._http import PURPOSE_PARAM, jsonable
from web.api.customers import PERSONAL, customer_view
from web.auth import roles_allowed
from web.context import get_ledger
from web.schemas.history import (
    AsOfQuery,
    ChangesQuery,
    ChangesSchema,
    CustomerAsOfSchema,
    TimelineQuery,
    TimelineSchema,
)

blp = Blueprint(
    "customer_history",
    __name__,
    url_prefix="/api/v1/customers",
    description="What compliance audits: a customer's history",
)

AUDITORS = ("relationship_manager", "compliance_officer")


@blp.route("/<uuid:customer_id>/history", methods=["GET"])
@blp.arguments(AsOfQuery, location="query")
@blp.response(200, CustomerAsOfSchema)
@blp.doc(parameters=[PURPOSE_PARAM])
@roles_allowed(*AUDITORS)
def customer_as_of(args: dict[str, Any], customer_id: UUID) -> dict[str, Any]:
    """The customer as it was at `as_of` (404 if not yet registered then).

    Masked unless disclosed for a purpose, as for the current customer.
    """
    app = get_ledger().app
    app.get_customer(customer_id)  # a customer, not another aggregate; 410 once erased
    view = app.customer_as_of(customer_id, args["as_of"])
    data = customer_view(view, "customer.history")
    data["as_of"] = args["as_of"].isoformat()
    return data


@blp.route("/<uuid:customer_id>/changes", methods=["GET"])
@blp.arguments(ChangesQuery, location="query")
@blp.response(200, ChangesSchema)
@blp.doc(parameters=[PURPOSE_PARAM])
@roles_allowed(*AUDITORS)
def customer_changes(args: dict[str, Any], customer_id: UUID) -> dict[str, Any]:
    """Every field change after version `from` up to `to` (default: the latest): old and
    new value, who, when, through which channel and why. Personal values are masked
    unless disclosed for a purpose (then the read is access-logged)."""
    app = get_ledger().app
    latest = app.get_customer(customer_id).version
    upper = args.get("to", latest)
    try:
        changes = app.changes(customer_id, args["from_"], upper)
    except ValidationFailed as exc:
        raise ValidationFailed({"to": exc.errors.get("to_version", "out of range")}) from None
    shown = disclosure()
    listed = []
    for change in changes:
        entry = jsonable(change)
        if change.field in PERSONAL and not shown.full:
            kind = PERSONAL[change.field].masking
            entry["old"], entry["new"] = masked(entry["old"], kind), masked(entry["new"], kind)
        listed.append(entry)
    shown.record(customer_id, "customer.changes")
    return {
        "id": customer_id,
        "from_": args["from_"],
        "to": upper,
        "disclosure": shown.label,
        "changes": listed,
    }


@blp.route("/<uuid:customer_id>/timeline", methods=["GET"])
@blp.arguments(TimelineQuery, location="query")
@blp.response(200, TimelineSchema)
@blp.doc(parameters=[PURPOSE_PARAM])
@roles_allowed(*AUDITORS)
def customer_timeline(args: dict[str, Any], customer_id: UUID) -> dict[str, Any]:
    """Every event about the customer, across all its streams (profile, KYC, consents,
    cases, surveys, grades, value, care, erasure...), oldest first: its `seq` for
    `/integrity/proof`, when, who, in which role, through which channel, why, and each
    field it changed, before and after. With `as_of`, only what had happened by then.
    Paged: pass `next_after` back as `after`. Personal values and reasons are masked
    unless disclosed for a purpose (then the read is access-logged). 410 once erased."""
    timeline = get_ledger().app.customer_timeline(
        customer_id, as_of=args.get("as_of"), after=args["after"], limit=args["limit"]
    )
    shown = disclosure()
    shown.record(customer_id, "customer.timeline")
    return {
        "id": customer_id,
        "as_of": jsonable(timeline.as_of),
        "disclosure": shown.label,
        "events": [timeline_entry(entry, shown) for entry in timeline.entries],
        "next_after": timeline.next_after,
    }
