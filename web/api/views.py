"""Read views for the front office: served from the projections, never by replaying.

Every list is paginated (`limit`, `offset`), filterable and sorted; personal fields
are masked. Read-your-writes: give the position a write returned as `min_position`
(or the `X-Min-Position` header) and the view waits until it reflects that position,
for at most `VIEWS_MAX_WAIT` seconds (default 5), else a 503 problem `view_lagging`
with `Retry-After`. Every answer carries `X-View-Position`: the log position it reflects.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Callable, Sequence
from typing import Any, TypeVar
from uuid import UUID

import marshmallow as ma
from flask import Response, current_app, request
from flask_smorest import Blueprint

from domain.errors import ValidationFailed
from projections.paging import MAX_LIMIT, Page
from projections.runtime import ReadModels, ViewLagging, read_models
from web.app import get_ledger
from web.auth import roles_allowed
from web.problems import problem

blp = Blueprint(
    "views", __name__, url_prefix="/api/v1/views", description="Read views (projections)"
)

FRONT = ("front_office", "relationship_manager", "compliance_officer")
ANALYSTS = ("relationship_manager", "compliance_officer", "system")
OPERATORS = ("security_officer", "compliance_officer", "system")
CUSTOMER_VIEWS = ("customers", "cases", "consents")
MIN_POSITION_PARAM = {
    "in": "header",
    "name": "X-Min-Position",
    "required": False,
    "schema": {"type": "integer", "minimum": 0},
    "description": "Wait until the view reflects this log position (as `min_position`).",
}
T = TypeVar("T", bound=Callable[..., Any])


# --- schemas --------------------------------------------------------------------------


class Query(ma.Schema):
    min_position = ma.fields.Integer(validate=ma.validate.Range(min=0, max=2**62))


class PageQuery(Query):
    limit = ma.fields.Integer(load_default=50, validate=ma.validate.Range(min=1, max=MAX_LIMIT))
    offset = ma.fields.Integer(load_default=0, validate=ma.validate.Range(min=0, max=10**9))


def _text(**kwargs: Any) -> ma.fields.String:
    return ma.fields.String(validate=ma.validate.Length(min=1, max=200), **kwargs)


class SearchQuery(PageQuery):
    branch = _text()
    tier = _text()
    segment = _text(metadata={"description": "exact label, e.g. individual/60_plus/high/balanced"})
    status = _text()
    kind = ma.fields.String(validate=ma.validate.OneOf(("individual", "corporate")))
    relationship_manager = _text()
    phone = _text(metadata={"description": "exact match through a blind index"})
    email = _text(metadata={"description": "exact match through a blind index"})
    id_number = _text(metadata={"description": "exact match through a blind index"})
    sort = _text(metadata={"description": "registered_on, updated_at, tier, branch, status; -x"})


class DistributionQuery(Query):
    branch = _text()
    kind = ma.fields.String(validate=ma.validate.OneOf(("individual", "corporate")))
    status = _text()


class ChurnQuery(PageQuery):
    branch = _text()
    signal = _text()


class ReverificationQuery(PageQuery):
    within_days = ma.fields.Integer(load_default=30, validate=ma.validate.Range(min=0, max=3650))
    branch = _text()
    risk_level = _text()


class CareQuery(PageQuery):
    branch = _text()
    reason = _text()
    due_only = ma.fields.Boolean(load_default=False)


class ComplaintQuery(PageQuery):
    kind = _text()
    branch = _text()
    owner = _text()
    state = _text()
    escalated = ma.fields.Boolean()
    overdue = ma.fields.Boolean()
    sort = _text(metadata={"description": "due_at, received_at, escalation; -x"})


class ConsentQuery(PageQuery):
    customer_id = ma.fields.UUID()
    purpose = _text()
    state = _text()
    live = ma.fields.Boolean()
    sort = _text(metadata={"description": "customer, purpose, updated_at; -x"})


class KpiQuery(Query):
    from_ = ma.fields.String(
        data_key="from", required=True, validate=ma.validate.Regexp(r"^\d{4}-\d{2}$")
    )
    to = ma.fields.String(required=True, validate=ma.validate.Regexp(r"^\d{4}-\d{2}$"))
    by = ma.fields.String(
        load_default="overall", validate=ma.validate.OneOf(("overall", "branch", "staff"))
    )
    branch = _text()
    staff = _text()


class EvaluationQuery(Query):
    period = _text()
    scope = _text()


class PageSchema(ma.Schema):
    items = ma.fields.List(ma.fields.Dict(), required=True)
    total = ma.fields.Integer(required=True)
    limit = ma.fields.Integer(required=True)
    offset = ma.fields.Integer(required=True)
    position = ma.fields.Integer(required=True, metadata={"description": "log position shown"})


class ListSchema(ma.Schema):
    items = ma.fields.List(ma.fields.Dict(), required=True)
    position = ma.fields.Integer(required=True)


class Customer360Schema(ma.Schema):
    customer_id = ma.fields.String(required=True)
    kind = ma.fields.String(allow_none=True)
    status = ma.fields.String(required=True)
    branch = ma.fields.String(allow_none=True)
    relationship_manager = ma.fields.String(allow_none=True)
    name = ma.fields.String(allow_none=True, metadata={"description": "masked"})
    erased = ma.fields.Boolean(required=True)
    tier = ma.fields.String(allow_none=True)
    tier_since = ma.fields.String(allow_none=True)
    risk_level = ma.fields.String(allow_none=True)
    registered_on = ma.fields.String(allow_none=True)
    profile = ma.fields.Dict(metadata={"description": "personal fields, masked"})
    grade = ma.fields.Dict()
    reverification = ma.fields.Dict()
    value = ma.fields.Dict(metadata={"description": "RFM scores; amounts masked"})
    churn = ma.fields.Dict()
    care = ma.fields.Dict()
    restrictions = ma.fields.Dict()
    live_consents = ma.fields.List(ma.fields.Dict())
    open_cases = ma.fields.List(ma.fields.Dict())
    last_interactions = ma.fields.List(ma.fields.Dict())
    last_contact_at = ma.fields.String(allow_none=True)
    interactions = ma.fields.Integer()
    updated_at = ma.fields.String(allow_none=True)
    position = ma.fields.Integer(metadata={"description": "log position of the last change"})


class StatusSchema(ma.Schema):
    ready = ma.fields.Boolean(required=True)
    reasons = ma.fields.List(ma.fields.String(), required=True)
    views = ma.fields.List(ma.fields.Dict(), required=True)


# --- helpers --------------------------------------------------------------------------


def _models() -> ReadModels:
    """This process's read models. Its background projector starts on first use unless
    the app's `VIEWS_FOLLOW` (else env `LEDGER_VIEWS_FOLLOW`) is off; off under TESTING."""
    models = read_models(get_ledger())
    follow = current_app.config.get("VIEWS_FOLLOW")
    if follow is None:
        setting = os.environ.get("LEDGER_VIEWS_FOLLOW", "on").strip().lower()
        follow = setting not in ("off", "0", "false", "no") and not current_app.testing
    if follow:
        models.follow()
    return models


def _reflecting(models: ReadModels, views: Sequence[str], args: dict[str, Any]) -> int:
    """Wait for `min_position` (query or header) on `views`; the position they reflect."""
    wanted = args.get("min_position")
    header = request.headers.get("X-Min-Position")
    if wanted is None and header is not None:
        if not header.strip().isdigit() or len(header.strip()) > 18:
            raise ValidationFailed({"X-Min-Position": "a log position: a whole number"})
        wanted = int(header.strip())
    if wanted is None:
        return models.position_of(views)
    timeout = float(current_app.config.get("VIEWS_MAX_WAIT", 5.0))
    return models.wait_for(views, wanted, timeout)


def _answer(body: dict[str, Any], position: int) -> tuple[dict[str, Any], int, dict[str, str]]:
    return body, 200, {"X-View-Position": str(position)}


def _paged(page: Page, position: int) -> tuple[dict[str, Any], int, dict[str, str]]:
    body = {
        "items": page.items,
        "total": page.total,
        "limit": page.limit,
        "offset": page.offset,
        "position": position,
    }
    return _answer(body, position)


def lagging_as_503(func: T) -> T:
    """A view that did not catch up in time: 503 with Retry-After, not a bare error."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except ViewLagging as exc:
            return problem(503, exc.code, exc.message, headers={"Retry-After": "1"})

    return wrapper  # type: ignore[return-value]


def _filters(args: dict[str, Any], *names: str) -> dict[str, Any]:
    return {name: args[name] for name in names if name in args}


# --- endpoints ------------------------------------------------------------------------


@blp.route("/customers")
@blp.arguments(SearchQuery, location="query")
@blp.response(200, PageSchema)
@blp.doc(parameters=[MIN_POSITION_PARAM])
@roles_allowed(*FRONT)
@lagging_as_503
def search_customers(args: dict[str, Any]) -> Any:
    """Search customers by branch, tier, segment, status, kind or relationship manager,
    and by exact phone, e-mail or ID number (matched through keyed blind indexes)."""
    models = _models()
    position = _reflecting(models, ["customers"], args)
    page = models.customers.search(
        **_filters(
            args, "branch", "tier", "segment", "status", "kind", "relationship_manager",
            "phone", "email", "id_number", "sort", "limit", "offset",
        )
    )  # fmt: skip
    return _paged(page, position)


@blp.route("/customers/<uuid:customer_id>")
@blp.arguments(Query, location="query")
@blp.response(200, Customer360Schema)
@blp.doc(parameters=[MIN_POSITION_PARAM])
@roles_allowed(*FRONT)
@lagging_as_503
def customer_360(args: dict[str, Any], customer_id: UUID) -> Any:
    """The customer 360: masked profile, tier, risk rating, re-verification, live
    consents, open cases, last interactions, value (masked) and churn risk. An erased
    customer is a 410 problem `subject_erased`; one unknown to the views, 404."""
    models = _models()
    position = _reflecting(models, CUSTOMER_VIEWS, args)
    return _answer(models.customers.customer_360(str(customer_id)), position)


@blp.route("/distribution")
@blp.arguments(DistributionQuery, location="query")
@blp.response(200, ListSchema)
@blp.doc(parameters=[MIN_POSITION_PARAM])
@roles_allowed(*ANALYSTS)
@lagging_as_503
def distribution(args: dict[str, Any]) -> Any:
    """Customer counts by tier and segment (live customers unless `status` is given)."""
    models = _models()
    position = _reflecting(models, ["customers"], args)
    items = models.customers.distribution(**_filters(args, "branch", "kind", "status"))
    return _answer({"items": items, "position": position}, position)


@blp.route("/churn-watch")
@blp.arguments(ChurnQuery, location="query")
@blp.response(200, PageSchema)
@blp.doc(parameters=[MIN_POSITION_PARAM])
@roles_allowed(*FRONT)
@lagging_as_503
def churn_watch(args: dict[str, Any]) -> Any:
    """Customers at risk of churning with the signals that fired; top tiers first."""
    models = _models()
    position = _reflecting(models, ["customers"], args)
    page = models.customers.churn_watch(**_filters(args, "branch", "signal", "limit", "offset"))
    return _paged(page, position)


@blp.route("/reverification-due")
@blp.arguments(ReverificationQuery, location="query")
@blp.response(200, PageSchema)
@blp.doc(parameters=[MIN_POSITION_PARAM])
@roles_allowed(*FRONT)
@lagging_as_503
def reverification_due(args: dict[str, Any]) -> Any:
    """Re-verification due within `within_days`, overdue or in review; most overdue first."""
    models = _models()
    position = _reflecting(models, ["customers"], args)
    names = ("within_days", "branch", "risk_level", "limit", "offset")
    return _paged(models.customers.reverification_due(**_filters(args, *names)), position)


@blp.route("/special-care")
@blp.arguments(CareQuery, location="query")
@blp.response(200, PageSchema)
@blp.doc(parameters=[MIN_POSITION_PARAM])
@roles_allowed(*FRONT)
@lagging_as_503
def special_care(args: dict[str, Any]) -> Any:
    """Customers under special care (elderly, disabled); follow-up most due first."""
    models = _models()
    position = _reflecting(models, ["customers"], args)
    names = ("branch", "reason", "due_only", "limit", "offset")
    return _paged(models.customers.special_care(**_filters(args, *names)), position)


@blp.route("/complaints")
@blp.arguments(ComplaintQuery, location="query")
@blp.response(200, PageSchema)
@blp.doc(parameters=[MIN_POSITION_PARAM])
@roles_allowed(*FRONT)
@lagging_as_503
def complaint_queue(args: dict[str, Any]) -> Any:
    """Every open case with due time, time left, escalation level and owner; overdue first."""
    models = _models()
    position = _reflecting(models, ["cases"], args)
    names = ("kind", "branch", "owner", "state", "escalated", "overdue", "sort", "limit", "offset")
    return _paged(models.cases.complaint_queue(**_filters(args, *names)), position)


@blp.route("/consents")
@blp.arguments(ConsentQuery, location="query")
@blp.response(200, PageSchema)
@blp.doc(parameters=[MIN_POSITION_PARAM])
@roles_allowed(*FRONT)
@lagging_as_503
def consent_register(args: dict[str, Any]) -> Any:
    """The consent register: per customer and purpose, the current state and evidence
    reference (the event holding the evidence)."""
    models = _models()
    position = _reflecting(models, ["consents"], args)
    if "customer_id" in args:
        args["customer_id"] = str(args["customer_id"])
    names = ("customer_id", "purpose", "state", "live", "sort", "limit", "offset")
    return _paged(models.cases.consent_register(**_filters(args, *names)), position)


@blp.route("/kpis")
@blp.arguments(KpiQuery, location="query")
@blp.response(200, ListSchema)
@blp.doc(parameters=[MIN_POSITION_PARAM])
@roles_allowed(*ANALYSTS)
@lagging_as_503
def kpi_table(args: dict[str, Any]) -> Any:
    """KPIs per month from `from` to `to`, overall or by branch or staff member."""
    models = _models()
    position = _reflecting(models, ["kpis"], args)
    items = models.kpis.kpi_table(
        args["from_"], args["to"], **_filters(args, "by", "branch", "staff")
    )
    return _answer({"items": items, "position": position}, position)


@blp.route("/kpis/evaluations")
@blp.arguments(EvaluationQuery, location="query")
@blp.response(200, ListSchema)
@blp.doc(parameters=[MIN_POSITION_PARAM])
@roles_allowed(*ANALYSTS)
@lagging_as_503
def evaluations(args: dict[str, Any]) -> Any:
    """The KPI evaluations the performance job recorded, per period and scope."""
    models = _models()
    position = _reflecting(models, ["kpis"], args)
    items = models.kpis.evaluations(**_filters(args, "period", "scope"))
    return _answer({"items": items, "position": position}, position)


@blp.route("/status")
@blp.response(200, StatusSchema)
@roles_allowed(*OPERATORS)
def status() -> Response | tuple[dict[str, Any], int]:
    """Position, lag (events and seconds) and errors per view; 503 when not ready."""
    result = _models().readiness()
    body = {
        "ready": result.ready,
        "reasons": list(result.reasons),
        "views": [
            {**vars(view), "lag_seconds": _finite(view.lag_seconds)} for view in result.views
        ],
    }
    return body, 200 if result.ready else 503


def _finite(seconds: float) -> float | None:
    return None if seconds == float("inf") else round(seconds, 3)
