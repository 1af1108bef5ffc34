"""Read views for the front office: served from the projections, never by replaying.

Every list is paginated (`limit`, `offset`), filterable and sorted; personal fields
are masked. Read-your-writes: every successful write under /api/ answers
`X-Ledger-Position`; pass it back as `min_position` (or the `X-Min-Position` header)
and the view waits until it reflects that position, for at most `LEDGER_VIEWS_MAX_WAIT`
seconds (default 2), else a 503 problem `view_lagging` with `Retry-After`. Every
answer carries `X-View-Position`: the log position it reflects.

Search is not an oracle (`check_personal_filters`): a filter on a personal field (its
query field names it in `metadata["personal"]`) needs a role that sees that field in
full, else 403 `personal_filter_forbidden`; a search by an identifier (name, phone,
e-mail, ID or account number) also needs `X-Purpose` (400 `purpose_required`), is
recorded in the access log with keyed digests of the values, and counts against the
actor's limit (`LEDGER_SEARCH_LIMIT` a minute, else 429 with `Retry-After`).

The endpoints are one table, `READ_ENDPOINTS`: a path, its query schema, its answer,
the roles allowed, the views it waits for, and a named handler asking the read models.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

import marshmallow as ma
from flask import Response, current_app, request

from domain.masking import mask_care_reasons
from domain.personal_data import FIELD_KINDS, Masking
from projections.paging import Page
from projections.runtime import ReadModels, ViewLagging
from web.api._blueprint import Blueprint
from web.api._book import book, caller_book, listed, not_about_a_customer
from web.api._disclosure import FULL_VIEW_ROLES, PURPOSE_HEADER, stated_purpose
from web.auth import acting_role, current_principal, roles_allowed
from web.context import get_ledger, models_for_request
from web.problems import problem
from web.schemas.views import (
    CareQuery,
    CaseAnalysisQuery,
    CaseAnalysisSchema,
    ChurnQuery,
    ComplaintQuery,
    ConsentQuery,
    CrisisContactsQuery,
    CrisisRegisterQuery,
    Customer360Schema,
    DistributionQuery,
    EvaluationQuery,
    EvaluationUseQuery,
    Headers,
    KpiQuery,
    ListSchema,
    PageSchema,
    PeriodRangeQuery,
    Query,
    ReverificationQuery,
    SearchQuery,
    StandardQuery,
    StatusSchema,
    TrainingQuery,
    ValueStrategyQuery,
)

blp = Blueprint(
    "views", __name__, url_prefix="/api/v1/views", description="Read views (projections)"
)

FRONT = ("front_office", "relationship_manager", "compliance_officer")
ANALYSTS = ("relationship_manager", "compliance_officer", "system")
OPERATORS = ("security_officer", "compliance_officer", "system")
CUSTOMER_VIEWS = ("customers", "cases", "consents")
WRITES = frozenset({"POST", "PUT", "PATCH", "DELETE"})
# a search by one of these finds a person: purpose, access log and rate limit
IDENTIFYING = frozenset(
    {Masking.NAME, Masking.PHONE, Masking.EMAIL, Masking.ID_NUMBER, Masking.CARD}
)
SEARCH_WINDOW_SECONDS = 60.0
T = TypeVar("T", bound=Callable[..., Any])


def sees_in_full() -> bool:
    """Whether the acting role may see personal (C2) fields in full."""
    return acting_role() in FULL_VIEW_ROLES


# --- handlers: what each endpoint asks the read models --------------------------------


def search_customers(models: ReadModels, **filters: Any) -> Any:
    """Search customers by branch, tier, segment, status, kind or relationship manager,
    and by exact phone, e-mail or ID number (matched through keyed blind indexes)."""
    return models.customers.search(**filters)


def customer_360(models: ReadModels, customer_id: Any) -> Any:
    """The customer 360: masked profile, tier, risk rating, re-verification, live
    consents, open cases, last interactions, value (masked) and churn risk; the care
    reasons only to roles that see health data. An erased customer is a 410 problem
    `subject_erased`; one unknown to the views, 404."""
    seen = models.customers.customer_360(str(customer_id))
    if not sees_in_full():
        seen["care"]["reasons"] = mask_care_reasons(seen["care"]["reasons"])
    return seen


def distribution(models: ReadModels, **filters: Any) -> Any:
    """Customer counts by tier and segment (live customers unless `status` is given)."""
    return models.customers.distribution(**filters)


def churn_watch(models: ReadModels, **filters: Any) -> Any:
    """Customers at risk of churning with the signals that fired; top tiers first."""
    return models.customers.churn_watch(**filters)


def value_strategies(models: ReadModels, **filters: Any) -> Any:
    """Customers by their latest value strategy (6.2: `high_value`, `high_potential`,
    `standard`), with the assessment date, the actions planned and the rule version;
    newest first. Only the customers of the caller's book."""
    return models.value_strategies.value_strategies(**filters)


def reverification_due(models: ReadModels, **filters: Any) -> Any:
    """Re-verification due within `within_days`, overdue or in review; ID documents
    expiring or expired; risk ratings overdue; most overdue first."""
    return models.customers.reverification_due(**filters)


def special_care(models: ReadModels, **filters: Any) -> Any:
    """Customers under special care (elderly, disabled); follow-up most due first. The
    reasons, and the `reason` filter, only for roles that see health data."""
    page = models.customers.special_care(**filters)
    if sees_in_full():
        return page
    items = [{**item, "reasons": mask_care_reasons(item["reasons"])} for item in page.items]
    return Page(items, page.total, page.limit, page.offset, page.position)


def complaint_queue(models: ReadModels, **filters: Any) -> Any:
    """Every open case with due time, time left, escalation level and owner; overdue first."""
    return models.cases.complaint_queue(**filters)


def case_analysis(models: ReadModels, **filters: Any) -> Any:
    """The analysis of feedback (policy 1.2), per month from `from` to `to`: cases of
    `kind` (default complaint) received by product, channel and category, and those
    resolved by root cause, in time and at first contact."""
    return models.cases.case_analysis(**filters)


def crisis_register(models: ReadModels, **filters: Any) -> Any:
    """The crisis register (7.3): open and closed crises, newest first, with affected
    and contacted customers, the first contact, the 24-hour first-contact deadline and
    whether it is overdue, statements and remedies."""
    return models.crises.crisis_register(**filters)


def crisis_contacts(models: ReadModels, crisis_id: Any, **filters: Any) -> Any:
    """Each customer affected by a crisis (by id): first contact time and channel, in
    time or not, how many contacts, and the evidence (the contact in the customer's
    interaction log, the crisis event and its log position)."""
    return models.crises.crisis_contacts(str(crisis_id), **filters)


def consent_register(models: ReadModels, **filters: Any) -> Any:
    """The consent register: per customer and purpose, the current state and evidence
    reference (the event holding the evidence)."""
    if "customer_id" in filters:
        filters["customer_id"] = str(filters["customer_id"])
    return models.cases.consent_register(**filters)


def kpi_table(models: ReadModels, **filters: Any) -> Any:
    """KPIs per month from `from` to `to`, overall or by branch or staff member."""
    return models.kpis.kpi_table(**filters)


def evaluations(models: ReadModels, **filters: Any) -> Any:
    """The KPI evaluations the performance job recorded, per period and scope."""
    return models.kpis.evaluations(**filters)


def service_standards(models: ReadModels, **filters: Any) -> Any:
    """Service standards by step, with the duty answerable, the target and how many
    recorded measurements breached it."""
    return models.quality.service_standards(**filters)


def survey_dimensions(models: ReadModels, **filters: Any) -> Any:
    """Survey dimensions per month: answers, mean and share of 4-5 for each."""
    return models.satisfaction.survey_dimensions(**filters)


def evaluation_use(models: ReadModels, **filters: Any) -> Any:
    """Improvement plans and recognitions recorded against evaluations."""
    return models.quality.evaluation_use(**filters)


def staff_training(models: ReadModels, **filters: Any) -> Any:
    """Courses staff completed (by employee id), newest first."""
    return models.quality.staff_training(**filters)


# --- the table ------------------------------------------------------------------------


@dataclass(frozen=True)
class ReadEndpoint:
    """One read endpoint: GET `path`, its query and answer, who may ask, which views it
    waits for (read-your-writes), and the handler that asks the read models."""

    path: str
    query: type[ma.Schema]
    answer: type[ma.Schema]
    roles: tuple[str, ...]
    views: tuple[str, ...]
    handler: Callable[..., Any]


READ_ENDPOINTS = (
    ReadEndpoint("/customers", SearchQuery, PageSchema, FRONT, ("customers",), search_customers),
    ReadEndpoint(
        "/customers/<uuid:customer_id>", Query, Customer360Schema, FRONT, CUSTOMER_VIEWS,
        customer_360,
    ),
    ReadEndpoint(
        "/distribution", DistributionQuery, ListSchema, ANALYSTS, ("customers",), distribution
    ),
    ReadEndpoint("/churn-watch", ChurnQuery, PageSchema, FRONT, ("customers",), churn_watch),
    ReadEndpoint(
        "/value-strategies", ValueStrategyQuery, PageSchema, FRONT,
        ("value_strategies", "customers"), value_strategies,
    ),
    ReadEndpoint(
        "/reverification-due", ReverificationQuery, PageSchema, FRONT, ("customers",),
        reverification_due,
    ),
    ReadEndpoint("/special-care", CareQuery, PageSchema, FRONT, ("customers",), special_care),
    ReadEndpoint("/complaints", ComplaintQuery, PageSchema, FRONT, ("cases",), complaint_queue),
    ReadEndpoint(
        "/complaints/analysis", CaseAnalysisQuery, CaseAnalysisSchema, ANALYSTS, ("cases",),
        case_analysis,
    ),
    ReadEndpoint("/consents", ConsentQuery, PageSchema, FRONT, ("consents",), consent_register),
    ReadEndpoint("/crises", CrisisRegisterQuery, PageSchema, FRONT, ("crises",), crisis_register),
    ReadEndpoint(
        "/crises/<uuid:crisis_id>/contacts", CrisisContactsQuery, PageSchema, FRONT, ("crises",),
        crisis_contacts,
    ),
    ReadEndpoint("/kpis", KpiQuery, ListSchema, ANALYSTS, ("kpis",), kpi_table),
    ReadEndpoint(
        "/kpis/evaluations", EvaluationQuery, ListSchema, ANALYSTS, ("kpis",), evaluations
    ),
    ReadEndpoint(
        "/service-standards", StandardQuery, ListSchema, ANALYSTS, ("quality",),
        service_standards,
    ),
    ReadEndpoint(
        "/staff-training", TrainingQuery, ListSchema, ANALYSTS, ("quality",), staff_training
    ),
    ReadEndpoint(
        "/survey-dimensions", PeriodRangeQuery, ListSchema, ANALYSTS, ("satisfaction",),
        survey_dimensions,
    ),
    ReadEndpoint(
        "/kpis/evaluation-use", EvaluationUseQuery, ListSchema, ANALYSTS, ("quality",),
        evaluation_use,
    ),
)  # fmt: skip


# lists of customers: each shows a relationship manager or the front office only the
# customers of its book (web/api/_book.py); the KPIs are aggregates of no one customer
IN_BOOK = frozenset(
    {
        search_customers,
        distribution,
        churn_watch,
        value_strategies,
        reverification_due,
        special_care,
        complaint_queue,
        case_analysis,
        consent_register,
        crisis_contacts,
    }
)
# --- search is not an oracle ------------------------------------------------------------


class Refused(Exception):
    """A read refused before it ran: answered as a problem."""

    def __init__(
        self, status: int, code: str, detail: str, headers: dict[str, str] | None = None
    ) -> None:
        super().__init__(detail)
        self.status, self.code, self.detail, self.headers = status, code, detail, headers


def personal_filters(query: type[ma.Schema]) -> dict[str, str]:
    """Query parameter -> the personal field (domain.personal_data) it filters on."""
    return {
        field.data_key or name: field.metadata["personal"]
        for name, field in query().load_fields.items()
        if "personal" in field.metadata
    }


def check_personal_filters(endpoint: ReadEndpoint, args: dict[str, Any]) -> None:
    """Refuse a filter on a personal field to a role that does not see it in full; for
    an identifier, demand X-Purpose, record the search in the access log (the fields
    and keyed digests of the values) and hold the actor to the search limit."""
    used = {
        param: field
        for param, field in personal_filters(endpoint.query).items()
        if args.get(param) is not None
    }
    if not used:
        return
    if not sees_in_full():
        raise Refused(
            403,
            "personal_filter_forbidden",
            f"your role may not filter by {', '.join(sorted(used))}: it does not see those fields",
        )
    identifiers = sorted(p for p, f in used.items() if FIELD_KINDS[f].masking in IDENTIFYING)
    if not identifiers:
        return
    purpose = stated_purpose()
    if purpose is None:
        raise Refused(
            400,
            "purpose_required",
            f"a search by {', '.join(identifiers)} needs {PURPOSE_HEADER}: why you look",
        )
    index = models_for_request().customers.index
    what = "search:" + ",".join(
        f"{param}={index.audit_digest(param, args[param])}" for param in identifiers
    )
    ledger = get_ledger()
    limit = int(current_app.config.get("SEARCH_LIMIT", ledger.config.search_limit))
    retry = ledger.access_log.record_search(
        actor_id=current_principal().actor_id,
        role=acting_role(),
        purpose=purpose,
        what=what,
        limit=limit,
        window_seconds=SEARCH_WINDOW_SECONDS,
    )
    if retry is not None:
        raise Refused(
            429,
            "search_limit_reached",
            f"at most {limit} identifier searches a minute; retry in {retry} s",
            {"Retry-After": str(retry)},
        )


# --- serving --------------------------------------------------------------------------


def _reflecting(models: ReadModels, views: Sequence[str], args: dict[str, Any]) -> int:
    """Wait for `min_position` (query or header) on `views`; the position they reflect."""
    wanted = args.get("min_position")
    if wanted is None:
        return models.position_of(views)
    cap = get_ledger().config.views_max_wait
    timeout = float(current_app.config.get("VIEWS_MAX_WAIT", cap))
    return models.wait_for(views, wanted, timeout)


def _serve(
    endpoint: ReadEndpoint, args: dict[str, Any], headers: dict[str, Any], path: dict[str, Any]
) -> tuple[Any, int, dict[str, str]]:
    """Wait as asked (read-your-writes), run the endpoint's handler with the filters and
    path parameters, and answer with the position the views reflect (body `position`
    and header `X-View-Position`)."""
    check_personal_filters(endpoint, args)
    models = models_for_request()
    position = _reflecting(models, endpoint.views, {**headers, **args})
    filters = {name: value for name, value in args.items() if name != "min_position"}
    if endpoint.handler in IN_BOOK:
        filters["book"] = caller_book()
    result = endpoint.handler(models, **filters, **path)
    body: Any
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


def lagging_as_503(func: T) -> T:
    """A view that did not catch up in time: 503 with Retry-After, not a bare error; a
    refused search, its problem."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except ViewLagging as exc:
            return problem(503, exc.code, exc.message, headers={"Retry-After": "1"})
        except Refused as exc:
            return problem(exc.status, exc.code, exc.detail, headers=exc.headers)

    return wrapper  # type: ignore[return-value]


def register(endpoint: ReadEndpoint) -> None:
    """Route GET `endpoint.path` to its handler, documented by the handler's docstring."""

    def answer(args: dict[str, Any], headers: dict[str, Any], **path: Any) -> Any:
        return _serve(endpoint, args, headers, path)

    answer.__name__ = answer.__qualname__ = endpoint.handler.__name__
    answer.__doc__ = endpoint.handler.__doc__
    routed = lagging_as_503(answer)
    if "customer_id" not in endpoint.path:  # the 360: the path's customer is checked
        routed = book(listed if endpoint.handler in IN_BOOK else not_about_a_customer)(routed)
    routed = roles_allowed(*endpoint.roles)(routed)
    routed = blp.response(200, endpoint.answer)(routed)
    routed = blp.arguments(Headers, location="headers")(routed)
    routed = blp.arguments(endpoint.query, location="query")(routed)
    blp.route(endpoint.path)(routed)


for read_endpoint in READ_ENDPOINTS:
    register(read_endpoint)


@blp.before_app_request
def forget_the_position() -> None:
    """A request starts knowing of no write of its own (see `tell_the_position`)."""
    ledger = current_app.config.get("LEDGER")
    forget = getattr(getattr(ledger, "app", None), "forget_written_position", None)
    if forget is not None:
        forget()


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
        app = current_app.config["LEDGER"].app
        # the position this request's own save wrote, else (nothing written here, e.g. a
        # replayed idempotent answer) the head of the log
        position = getattr(app, "last_written_position", None)
        if position is None:
            position = app.recorder.max_notification_id() or 0
        response.headers.setdefault("X-Ledger-Position", str(position))
    return response


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
