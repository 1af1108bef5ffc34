"""The read views' query parameters and answers (see `web.api.views`)."""

from __future__ import annotations

from typing import Any

import marshmallow as ma

from domain import quality as quality_model
from domain.rules.value import STRATEGY_ACTIONS
from projections.paging import MAX_LIMIT
from web.schemas.common import one_of

# a month YYYY-MM of the years dates may take (1900-8999), month 01-12
MONTH = ma.validate.Regexp(
    r"^(19|[2-8][0-9])[0-9]{2}-(0[1-9]|1[0-2])$", error="a month YYYY-MM (1900-01 to 8999-12)"
)


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


def _personal(field: str, description: str) -> ma.fields.String:
    """A filter on a personal (C2) field: `personal` names the field in
    domain.personal_data, whose class and masking decide who may use the filter
    (web.api.views `check_personal_filters`)."""
    return _text(metadata={"description": description, "personal": field})


IDENTIFIER = (
    "exact match through a blind index; needs a role that sees it in full and "
    "X-Purpose; access-logged and rate-limited"
)


class SearchQuery(PageQuery):
    branch = _text()
    tier = _text()
    segment = _personal(
        "segment",
        "exact label, e.g. individual/60_plus/high/balanced (C2: roles that see it only)",
    )
    status = _text()
    kind = ma.fields.String(validate=one_of(("individual", "corporate")))
    relationship_manager = _text()
    name = _personal("name", IDENTIFIER + " (case, width and spacing ignored)")
    phone = _personal("phone", IDENTIFIER)
    email = _personal("email", IDENTIFIER)
    id_number = _personal("doc_number", IDENTIFIER)
    account_number = _personal("account_number", IDENTIFIER)
    sort = _text(metadata={"description": "registered_on, updated_at, tier, branch, status; -x"})


class DistributionQuery(Query):
    branch = _text()
    kind = ma.fields.String(validate=one_of(("individual", "corporate")))
    status = _text()


class ChurnQuery(PageQuery):
    branch = _text()
    signal = _text()


class ValueStrategyQuery(PageQuery):
    strategy = ma.fields.String(
        validate=one_of(tuple(STRATEGY_ACTIONS)),
        metadata={"description": "high_value, high_potential or standard"},
    )


class ReverificationQuery(PageQuery):
    within_days = ma.fields.Integer(load_default=30, validate=ma.validate.Range(min=0, max=3650))
    branch = _text()
    risk_level = _text()


class CareQuery(PageQuery):
    branch = _text()
    reason = _personal("special_care", "elderly or disabled (roles that see health data only)")
    due_only = ma.fields.Boolean(load_default=False)


class ComplaintQuery(PageQuery):
    kind = _text()
    branch = _text()
    owner = _text()
    state = _text()
    escalated = ma.fields.Boolean()
    overdue = ma.fields.Boolean()
    sort = _text(metadata={"description": "due_at, received_at, escalation; -x"})


class CaseAnalysisQuery(Query):
    first = ma.fields.String(data_key="from", required=True, validate=MONTH)
    last = ma.fields.String(data_key="to", required=True, validate=MONTH)
    kind = ma.fields.String(
        load_default="complaint", validate=one_of(("complaint", "suggestion", "praise", "enquiry"))
    )
    branch = _text()


def _counts(description: str) -> ma.fields.Dict:
    return ma.fields.Dict(
        keys=ma.fields.String(),
        values=ma.fields.Integer(),
        required=True,
        metadata={"description": description},
    )


class CaseAnalysisRowSchema(ma.Schema):
    period = ma.fields.String(required=True, metadata={"description": "YYYY-MM (UTC)"})
    received = ma.fields.Integer(required=True)
    by_product = _counts("cases received per product (`none`: not about one)")
    by_channel = _counts("cases received per channel they came through")
    by_category = _counts("cases received per category")
    resolved = ma.fields.Integer(required=True)
    in_time = ma.fields.Integer(required=True)
    first_contact = ma.fields.Integer(required=True)
    root_causes = _counts("cases resolved in the month per root cause")


class CaseAnalysisSchema(ma.Schema):
    items = ma.fields.List(ma.fields.Nested(CaseAnalysisRowSchema), required=True)
    position = ma.fields.Integer(required=True)


class CrisisRegisterQuery(PageQuery):
    state = ma.fields.String(validate=one_of(("open", "closed")))
    severity = _text()
    sort = _text(metadata={"description": "opened_at, severity, state; -x"})


class CrisisContactsQuery(PageQuery):
    contacted = ma.fields.Boolean(metadata={"description": "false: not yet contacted"})


class ConsentQuery(PageQuery):
    customer_id = ma.fields.UUID()
    purpose = _text()
    state = _text()
    live = ma.fields.Boolean()
    sort = _text(metadata={"description": "customer, purpose, updated_at; -x"})


class KpiQuery(Query):
    first = ma.fields.String(data_key="from", required=True, validate=MONTH)
    last = ma.fields.String(data_key="to", required=True, validate=MONTH)
    by = ma.fields.String(load_default="overall", validate=one_of(("overall", "branch", "staff")))
    branch = _text()
    staff = _text()


class EvaluationQuery(Query):
    period = _text()
    scope = _text()


class StandardQuery(Query):
    step = ma.fields.String(validate=one_of(quality_model.STEPS))


class EvaluationUseQuery(Query):
    period = _text()
    kind = ma.fields.String(validate=one_of(("improvement_plan", "recognition")))


class PeriodRangeQuery(Query):
    first = ma.fields.String(data_key="from", required=True, validate=MONTH)
    last = ma.fields.String(data_key="to", required=True, validate=MONTH)


class TrainingQuery(Query):
    staff_id = _text()
    standard_code = _text()


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
                "preferences",
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
