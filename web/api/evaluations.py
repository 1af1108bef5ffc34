"""Performance evaluations: the KPIs of a period per scope (overall, branch, staff),
and what was done with them (policy 8.3): improvement plans and recognitions."""

from __future__ import annotations

from typing import Any

from web.api._blueprint import Blueprint
from web.api._book import book, not_about_a_customer
from web.api._http import ETAG_HEADER, IDEMPOTENCY_PARAM, actor, etag, jsonable
from web.auth import roles_allowed
from web.context import get_ledger
from web.schemas.operations import (
    EvaluationQuery,
    EvaluationSchema,
    ImprovementPlanSchema,
    PlanClosureSchema,
    RecognitionSchema,
)

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


MANAGERS = ("relationship_manager", "compliance_officer")


@blp.route("/improvement-plans", methods=["POST"])
@blp.arguments(ImprovementPlanSchema)
@blp.response(201, EvaluationSchema, headers=ETAG_HEADER)
@blp.doc(parameters=[IDEMPOTENCY_PARAM])
@roles_allowed(*MANAGERS)
@book(not_about_a_customer)
def open_improvement_plan(args: dict[str, Any]) -> Any:
    """Open an improvement plan (owner, actions, due date) against an evaluation for
    the KPIs it found below target; 409 when none is, 404 without the evaluation."""
    view = get_ledger().app.open_improvement_plan(
        args["period"], args["scope"], args["owner"], args["actions"], args["due_on"], actor()
    )
    return jsonable(view), 201, {"ETag": etag(view.version)}


@blp.route("/improvement-plans/closures", methods=["POST"])
@blp.arguments(PlanClosureSchema)
@blp.response(201, EvaluationSchema, headers=ETAG_HEADER)
@blp.doc(parameters=[IDEMPOTENCY_PARAM])
@roles_allowed(*MANAGERS)
@book(not_about_a_customer)
def close_improvement_plan(args: dict[str, Any]) -> Any:
    """Close an open improvement plan (by its number within the evaluation) with the
    evidence it was carried out; 409 when no such plan is open, 404 without the
    evaluation. A plan still open after its due date is flagged by `quality_reviews`."""
    view = get_ledger().app.close_improvement_plan(
        args["period"], args["scope"], args["plan"], args["evidence"], actor()
    )
    return jsonable(view), 201, {"ETag": etag(view.version)}


@blp.route("/recognitions", methods=["POST"])
@blp.arguments(RecognitionSchema)
@blp.response(201, EvaluationSchema, headers=ETAG_HEADER)
@blp.doc(parameters=[IDEMPOTENCY_PARAM])
@roles_allowed(*MANAGERS)
@book(not_about_a_customer)
def recognise_performance(args: dict[str, Any]) -> Any:
    """Record a recognition against an evaluation for the KPIs it found on or above
    target; 409 when none is, 404 without the evaluation."""
    view = get_ledger().app.recognise_performance(
        args["period"], args["scope"], args["recipient"], args["citation"], actor()
    )
    return jsonable(view), 201, {"ETag": etag(view.version)}
