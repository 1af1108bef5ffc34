"""Performance evaluations: the KPIs of a period per scope (overall, branch, staff)."""

from __future__ import annotations

from typing import Any

from web.api._blueprint import Blueprint
from web.api._book import book, not_about_a_customer
from web.api._http import ETAG_HEADER, etag, jsonable
from web.auth import roles_allowed
from web.context import get_ledger
from web.schemas.operations import EvaluationQuery, EvaluationSchema

blp = Blueprint(
    "evaluations", __name__, url_prefix="/api/v1/evaluations", description="Performance"
)


@blp.route("", methods=["GET"])
@blp.arguments(EvaluationQuery, location="query")
@blp.response(200, EvaluationSchema, headers=ETAG_HEADER)
@roles_allowed("relationship_manager", "compliance_officer", "regulator")
@book(not_about_a_customer)
def read_evaluation(args: dict[str, Any]) -> Any:
    """The latest evaluation of `scope` for `period`: satisfaction, NPS, loyalty,
    churn rate, retention, value uplift, complaint SLA %, first-contact resolution,
    with the formula version and inputs (aggregates only, no personal data)."""
    view = get_ledger().app.get_evaluation(args["period"], args["scope"])
    return jsonable(view), 200, {"ETag": etag(view.version)}
