"""Read views for the front office: served from the projections, never by replaying.

Every list is paginated (`limit`, `offset`), filterable and sorted; personal fields
are masked. Read-your-writes: every successful write under /api/ answers
`X-Ledger-Position`; pass it back as `min_position` (or the `X-Min-Position` header)
and the view waits until it reflects that position, for at most `VIEWS_MAX_WAIT`
seconds (default 5), else a 503 problem `view_lagging` with `Retry-After`. Every
answer carries `X-View-Position`: the log position it reflects.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Callable, Sequence
from typing import Any, TypeVar
from uuid import UUID

import marshmallow as ma
from flask import Response, current_app, request

from projections.paging import MAX_LIMIT, Page
from projections.runtime import ReadModels, ViewLagging, read_models
from web.api._blueprint import Blueprint
from web.auth import roles_allowed
from web.context import get_ledger
from web.problems import problem
from web.schemas.common import one_of

blp = Blueprint(
    "views", __name__, url_prefix="/api/v1/views", description="Read views (projections)"
)

FRONT = ("front_office", "relationship_manager", "compliance_officer")
ANALYSTS = ("relationship_manager", "compliance_officer", "system")
OPERATORS = ("security_officer", "compliance_officer", "system")
CUSTOMER_VIEWS = ("customers", "cases", "consents")
WRITES = frozenset({"POST", "PUT", "PATCH", "DELETE"})
T = TypeVar("T", bound=Callable[..., Any])


# --- schemas --------------------------------------------------------------------------


class Query(ma.Schema):
    min_position = ma.fields.Integer(
        validate=ma.validate.Range(min=0, max=2**62),
        metadata={"description": "wait until the view reflects this log position"},
    )


class Headers(ma.Schema):
    min_position = ma.fields.Integer(
        data_key="X-Min-Position",
        validate=ma.validate.Range(min=0, max=2**62),
        metadata={"description": "as the `min_position` query parameter"},
    )


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
    kind = ma.fields.String(validate=one_of(("individual", "corporate")))
    relationship_manager = _text()
    phone = _text(metadata={"description": "exact match through a blind index"})
    email = _text(metadata={"description": "exact match through a blind index"})
    id_number = _text(metadata={"description": "exact match through a blind index"})
    sort = _text(metadata={"description": "registered_on, updated_at, tier, branch, status; -x"})


class DistributionQuery(Query):
    branch = _text()
    kind = ma.fields.String(validate=one_of(("individual", "corporate")))
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
    first = ma.fields.String(
        data_key="from", required=True, validate=ma.validate.Regexp(r"^\d{4}-\d{2}$")
    )
    last = ma.fields.String(
        data_key="to", required=True, validate=ma.validate.Regexp(r"^\d{4}-\d{2}$")
    )
    by = ma.fields.String(load_default="overall", validate=one_of(("overall", "branch", "staff")))
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


_OPTIONAL_TEXT = (
    "kind",
    "branch",
    "relationship_manager",
    "name",
    "tier",
    "tier_since",
    "risk_level",
    "registered_on",
    "last_contact_at",
    "updated_at",
)
Customer360Schema = ma.Schema.from_dict(
    {
        "customer_id": ma.fields.String(required=True),
        "status": ma.fields.String(required=True),
        "erased": ma.fields.Boolean(required=True),
        "interactions": ma.fields.Integer(),
        "position": ma.fields.Integer(metadata={"description": "log position of the last change"}),
        **{name: ma.fields.String(allow_none=True) for name in _OPTIONAL_TEXT},
        **{
            name: ma.fields.Dict(metadata={"description": "personal fields and amounts masked"})
            for name in (
                "profile",
                "grade",
                "reverification",
                "value",
                "churn",
                "care",
                "restrictions",
            )
        },
        **{
            name: ma.fields.List(ma.fields.Dict())
            for name in ("live_consents", "open_cases", "last_interactions")
        },
    },
    name="Customer360",
)


class StatusSchema(ma.Schema):
    ready = ma.fields.Boolean(required=True)
    reasons = ma.fields.List(ma.fields.String(), required=True)
    views = ma.fields.List(ma.fields.Dict(), required=True)


# --- helpers --------------------------------------------------------------------------


def models_for_request() -> ReadModels:
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
    if wanted is None:
        return models.position_of(views)
    timeout = float(current_app.config.get("VIEWS_MAX_WAIT", 5.0))
    return models.wait_for(views, wanted, timeout)


def _serve(
    views: Sequence[str], args: dict[str, Any], headers: dict[str, Any], query: Callable[..., Any]
) -> Any:
    """Wait as asked (read-your-writes), run `query(models, **filters)`, and answer it
    with the position the views reflect (body `position` and header `X-View-Position`)."""
    models = models_for_request()
    position = _reflecting(models, views, {**headers, **args})
    filters = {name: value for name, value in args.items() if name != "min_position"}
    result = query(models, **filters)
    if isinstance(result, Page):
        body = {
            "items": result.items,
            "total": result.total,
            "limit": result.limit,
            "offset": result.offset,
            "position": position,
        }
    elif isinstance(result, list):
        body = {"items": result, "position": position}
    else:
        body = result
    return body, 200, {"X-View-Position": str(position)}


@blp.after_app_request
def tell_the_position(response: Response) -> Response:
    """Every successful write under /api/ answers `X-Ledger-Position`: a log position at
    or past its events, for the client to pass back as `min_position`."""
    if (
        request.method in WRITES
        and response.status_code < 400
        and request.path.startswith("/api/")
        and current_app.config.get("LEDGER") is not None
    ):
        position = current_app.config["LEDGER"].app.recorder.max_notification_id() or 0
        response.headers.setdefault("X-Ledger-Position", str(position))
    return response


def lagging_as_503(func: T) -> T:
    """A view that did not catch up in time: 503 with Retry-After, not a bare error."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except ViewLagging as exc:
            return problem(503, exc.code, exc.message, headers={"Retry-After": "1"})

    return wrapper  # type: ignore[return-value]


# --- endpoints ------------------------------------------------------------------------


@blp.route("/customers")
@blp.arguments(SearchQuery, location="query")
@blp.arguments(Headers, location="headers")
@blp.response(200, PageSchema)
@roles_allowed(*FRONT)
@lagging_as_503
def search_customers(args: dict[str, Any], headers: dict[str, Any]) -> Any:
    """Search customers by branch, tier, segment, status, kind or relationship manager,
    and by exact phone, e-mail or ID number (matched through keyed blind indexes)."""
    return _serve(["customers"], args, headers, lambda m, **f: m.customers.search(**f))


@blp.route("/customers/<uuid:customer_id>")
@blp.arguments(Query, location="query")
@blp.arguments(Headers, location="headers")
@blp.response(200, Customer360Schema)
@roles_allowed(*FRONT)
@lagging_as_503
def customer_360(args: dict[str, Any], headers: dict[str, Any], customer_id: UUID) -> Any:
    """The customer 360: masked profile, tier, risk rating, re-verification, live
    consents, open cases, last interactions, value (masked) and churn risk. An erased
    customer is a 410 problem `subject_erased`; one unknown to the views, 404."""
    return _serve(
        CUSTOMER_VIEWS, args, headers, lambda m: m.customers.customer_360(str(customer_id))
    )


@blp.route("/distribution")
@blp.arguments(DistributionQuery, location="query")
@blp.arguments(Headers, location="headers")
@blp.response(200, ListSchema)
@roles_allowed(*ANALYSTS)
@lagging_as_503
def distribution(args: dict[str, Any], headers: dict[str, Any]) -> Any:
    """Customer counts by tier and segment (live customers unless `status` is given)."""
    return _serve(["customers"], args, headers, lambda m, **f: m.customers.distribution(**f))


@blp.route("/churn-watch")
@blp.arguments(ChurnQuery, location="query")
@blp.arguments(Headers, location="headers")
@blp.response(200, PageSchema)
@roles_allowed(*FRONT)
@lagging_as_503
def churn_watch(args: dict[str, Any], headers: dict[str, Any]) -> Any:
    """Customers at risk of churning with the signals that fired; top tiers first."""
    return _serve(["customers"], args, headers, lambda m, **f: m.customers.churn_watch(**f))


@blp.route("/reverification-due")
@blp.arguments(ReverificationQuery, location="query")
@blp.arguments(Headers, location="headers")
@blp.response(200, PageSchema)
@roles_allowed(*FRONT)
@lagging_as_503
def reverification_due(args: dict[str, Any], headers: dict[str, Any]) -> Any:
    """Re-verification due within `within_days`, overdue or in review; most overdue first."""
    return _serve(["customers"], args, headers, lambda m, **f: m.customers.reverification_due(**f))


@blp.route("/special-care")
@blp.arguments(CareQuery, location="query")
@blp.arguments(Headers, location="headers")
@blp.response(200, PageSchema)
@roles_allowed(*FRONT)
@lagging_as_503
def special_care(args: dict[str, Any], headers: dict[str, Any]) -> Any:
    """Customers under special care (elderly, disabled); follow-up most due first."""
    return _serve(["customers"], args, headers, lambda m, **f: m.customers.special_care(**f))


@blp.route("/complaints")
@blp.arguments(ComplaintQuery, location="query")
@blp.arguments(Headers, location="headers")
@blp.response(200, PageSchema)
@roles_allowed(*FRONT)
@lagging_as_503
def complaint_queue(args: dict[str, Any], headers: dict[str, Any]) -> Any:
    """Every open case with due time, time left, escalation level and owner; overdue first."""
    return _serve(["cases"], args, headers, lambda m, **f: m.cases.complaint_queue(**f))


@blp.route("/consents")
@blp.arguments(ConsentQuery, location="query")
@blp.arguments(Headers, location="headers")
@blp.response(200, PageSchema)
@roles_allowed(*FRONT)
@lagging_as_503
def consent_register(args: dict[str, Any], headers: dict[str, Any]) -> Any:
    """The consent register: per customer and purpose, the current state and evidence
    reference (the event holding the evidence)."""
    if "customer_id" in args:
        args["customer_id"] = str(args["customer_id"])
    return _serve(["consents"], args, headers, lambda m, **f: m.cases.consent_register(**f))


@blp.route("/kpis")
@blp.arguments(KpiQuery, location="query")
@blp.arguments(Headers, location="headers")
@blp.response(200, ListSchema)
@roles_allowed(*ANALYSTS)
@lagging_as_503
def kpi_table(args: dict[str, Any], headers: dict[str, Any]) -> Any:
    """KPIs per month from `from` to `to`, overall or by branch or staff member."""
    return _serve(["kpis"], args, headers, lambda m, **f: m.kpis.kpi_table(**f))


@blp.route("/kpis/evaluations")
@blp.arguments(EvaluationQuery, location="query")
@blp.arguments(Headers, location="headers")
@blp.response(200, ListSchema)
@roles_allowed(*ANALYSTS)
@lagging_as_503
def evaluations(args: dict[str, Any], headers: dict[str, Any]) -> Any:
    """The KPI evaluations the performance job recorded, per period and scope."""
    return _serve(["kpis"], args, headers, lambda m, **f: m.kpis.evaluations(**f))


@blp.route("/status")
@blp.response(200, StatusSchema)
@roles_allowed(*OPERATORS)
def status() -> Response | tuple[dict[str, Any], int]:
    """Position, lag (events and seconds) and errors per view; 503 when not ready."""
    result = models_for_request().readiness()
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
