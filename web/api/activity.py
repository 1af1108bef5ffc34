"""Activity: transactions recorded from the core system and the customer's totals."""

from __future__ import annotations

from decimal import Decimal
from typing import Any
from uuid import UUID

from domain.ids import activity_id
from domain.personal_data import FIELD_KINDS
from web.api._blueprint import Blueprint
from web.api._disclosure import disclosure
from web.api._http import ETAG_HEADER, IDEMPOTENCY_PARAM, PURPOSE_PARAM, actor, etag
from web.auth import roles_allowed
from web.context import get_ledger
from web.schemas.activity import ActivitySchema, TransactionsSchema
from web.schemas.common import CreatedSchema

blp = Blueprint("activity", __name__, url_prefix="/api/v1/customers", description="Activity")

# the view's totals are sums of personal amounts
PERSONAL = {name: FIELD_KINDS[name] for name in ("amount", "profit_contribution")}


@blp.route("/<uuid:customer_id>/transactions", methods=["POST"])
@blp.arguments(TransactionsSchema)
@blp.response(201, CreatedSchema, headers=ETAG_HEADER)
@blp.doc(parameters=[IDEMPOTENCY_PARAM])
@roles_allowed("system")
def record_transactions(args: dict[str, Any], customer_id: UUID) -> Any:
    """Record a period summary from the core system. Refused while business is
    suspended and for prospects; a dormant customer becomes active again."""
    app = get_ledger().app
    app.record_transactions(
        customer_id,
        args["period_start"],
        args["period_end"],
        args["count"],
        args["amount"],
        actor(),
        products=args["products"],
        profit_contribution=Decimal(args["profit_contribution"]),
        source_ref=args["source_ref"],
    )
    version = app.get_activity(customer_id).version
    return {"id": activity_id(customer_id), "version": version}, 201, {"ETag": etag(version)}


@blp.route("/<uuid:customer_id>/activity", methods=["GET"])
@blp.response(200, ActivitySchema, headers=ETAG_HEADER)
@blp.doc(parameters=[PURPOSE_PARAM])
@roles_allowed("relationship_manager", "compliance_officer")
def read_activity(customer_id: UUID) -> Any:
    """The customer's recorded activity: periods, counts, products held, and the
    amount and profit totals (masked unless disclosed for a purpose)."""
    view = get_ledger().app.get_activity(customer_id)
    shown = disclosure()
    data = shown.show(vars(view), PERSONAL)
    shown.record(customer_id, "activity.amounts")
    return data, 200, {"ETag": etag(view.version)}
