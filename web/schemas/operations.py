"""Performance evaluations (KPI reports) and security alerts."""

from __future__ import annotations

import marshmallow as ma

from domain import alerts as alert_model
from web.schemas.common import Day, EntryView, Text, one_of


class EvaluationQuery(ma.Schema):
    period = Text(20, required=True, metadata={"description": "e.g. 2026Q1 or 2026-03"})
    scope = Text(
        100, load_default="overall", metadata={"description": "overall, branch:<id>, staff:<id>"}
    )


class EvaluationSchema(EntryView):
    period = ma.fields.String(required=True)
    scope = ma.fields.String(required=True)
    metrics = ma.fields.Dict(keys=ma.fields.String(), values=ma.fields.String(allow_none=True))
    inputs = ma.fields.Dict(keys=ma.fields.String(), values=ma.fields.Raw(allow_none=True))
    formula_version = ma.fields.String(required=True)
    evaluations = ma.fields.Integer(required=True)
    evaluated_version = ma.fields.Integer(
        required=True, metadata={"description": "the version holding the latest metrics"}
    )
    improvement_plans = ma.fields.Integer(required=True)
    open_plans = ma.fields.Dict(
        keys=ma.fields.String(),
        values=ma.fields.String(),
        metadata={"description": "open plans by number: their due date"},
    )
    closed_plans = ma.fields.Integer(required=True)
    overdue_plans = ma.fields.List(
        ma.fields.Integer(), metadata={"description": "plans found open after their due date"}
    )
    recognitions = ma.fields.Integer(required=True)


class ImprovementPlanSchema(EvaluationQuery):
    """An improvement plan against the evaluation of `scope` for `period`; the ledger
    records the KPIs below target (rule kpi_targets) with it."""

    owner = Text(100, required=True, metadata={"description": "staff id or role, no name"})
    actions = ma.fields.List(Text(1000), required=True, validate=ma.validate.Length(min=1, max=20))
    due_on = Day(required=True)


class PlanClosureSchema(EvaluationQuery):
    """The closing of an improvement plan of the evaluation of `scope` for `period`."""

    plan = ma.fields.Integer(
        required=True,
        validate=ma.validate.Range(min=1),
        metadata={"description": "the plan's number: 1, 2, ... in the order opened"},
    )
    evidence = Text(
        2000, required=True, metadata={"description": "what was done; never name a customer"}
    )


class RecognitionSchema(EvaluationQuery):
    """A recognition against the evaluation of `scope` for `period`, for the KPIs on
    or above target."""

    recipient = Text(100, required=True, metadata={"description": "a branch or staff id, no name"})
    citation = Text(1000, required=True)


class NewAlertSchema(ma.Schema):
    """A security alert; its detail must name no customer's personal data."""

    kind = ma.fields.String(required=True, validate=one_of(alert_model.KINDS))
    severity = ma.fields.String(required=True, validate=one_of(alert_model.SEVERITIES))
    detail = Text(2000, required=True)


class AlertSchema(EntryView):
    kind = ma.fields.String(required=True)
    severity = ma.fields.String(required=True)
    detail = ma.fields.String(required=True)
    job_run_id = ma.fields.UUID(allow_none=True)
    raised_at = ma.fields.String(allow_none=True, metadata={"format": "date-time"})
