"""Service quality: standards with targets and the monitoring against them."""

from __future__ import annotations

import marshmallow as ma

from domain import quality as quality_model
from domain import training as training_model
from web.schemas.common import Amount, Day, EntryView, Text, one_of

SCORE = ma.validate.Range(0, 100)


class StandardSchema(ma.Schema):
    """Define (or redefine) a service standard with its target."""

    code = Text(50, required=True)
    name = Text(200, required=True)
    measure = Text(100, required=True)
    target = Amount(required=True)
    unit = ma.fields.String(required=True, validate=one_of(quality_model.UNITS))
    step = ma.fields.String(
        required=True,
        validate=one_of(quality_model.STEPS),
        metadata={"description": "the service step the standard governs"},
    )
    duty = ma.fields.String(
        allow_none=True,
        validate=one_of(quality_model.DUTIES),
        metadata={"description": "the staff duty (job function) answerable for it"},
    )


class MeasurementSchema(ma.Schema):
    """One measurement; the ledger decides whether it breaches the target."""

    branch = Text(100, required=True)
    measured = Amount(required=True)
    staff_id = Text(100, allow_none=True)


class MeasuredSchema(ma.Schema):
    id = ma.fields.UUID(required=True)
    version = ma.fields.Integer(required=True)
    breached = ma.fields.Boolean(
        required=True, metadata={"description": "the rule standard_breached's verdict"}
    )
    rule_version = ma.fields.String(required=True)


class TrainingSchema(ma.Schema):
    """A course a staff member completed (staff named by employee id, never by name)."""

    staff_id = Text(100, required=True)
    course = Text(200, required=True)
    topic = Text(200, required=True)
    completed_on = Day(required=True)
    hours = Amount(required=True)
    provider = ma.fields.String(required=True, validate=one_of(training_model.PROVIDERS))
    standard_code = Text(
        50, allow_none=True, metadata={"description": "the standard whose finding it answers"}
    )


class TrainingViewSchema(EntryView):
    staff_id = ma.fields.String(required=True)
    courses = ma.fields.List(ma.fields.String(), required=True)
    hours = ma.fields.String(required=True)
    last_completed_on = ma.fields.String(allow_none=True, metadata={"format": "date"})


class MysteryShopSchema(ma.Schema):
    branch = Text(100, required=True)
    score = ma.fields.Integer(required=True, strict=True, validate=SCORE)
    findings = Text(4000, required=True)
    staff_id = Text(100, allow_none=True)


class AuditSchema(ma.Schema):
    branch = Text(100, required=True)
    score = ma.fields.Integer(required=True, strict=True, validate=SCORE)
    findings = Text(4000, required=True)


class BreachSchema(ma.Schema):
    branch = Text(100, required=True)
    measured = Amount(required=True)
    detail = Text(4000, required=True)
    staff_id = Text(100, allow_none=True)
    case_id = ma.fields.UUID(allow_none=True)


class ImprovementSchema(ma.Schema):
    action = Text(4000, required=True)
    owner = Text(100, required=True)
    due_on = Day(allow_none=True)
    branch = Text(100, allow_none=True)


class ReviewSchema(ma.Schema):
    """A review that keeps the standard as it is (to change it, redefine it)."""

    findings = Text(2000, load_default="", metadata={"description": "never name a customer"})


class StandardViewSchema(EntryView):
    code = ma.fields.String(required=True)
    name = ma.fields.String(required=True)
    measure = ma.fields.String(required=True)
    target = ma.fields.String(required=True)
    unit = ma.fields.String(required=True)
    step = ma.fields.String(required=True)
    duty = ma.fields.String(allow_none=True)
    measurements = ma.fields.Integer(required=True)
    mystery_shops = ma.fields.Integer(required=True)
    audits = ma.fields.Integer(required=True)
    breaches = ma.fields.Integer(required=True)
    improvement_actions = ma.fields.Integer(required=True)
    last_score = ma.fields.Integer(allow_none=True)
    reviewed_on = ma.fields.String(
        allow_none=True,
        metadata={"format": "date", "description": "last review or (re)definition"},
    )
    review_overdue_for = ma.fields.String(
        allow_none=True,
        metadata={"format": "date", "description": "the review due date found overdue"},
    )
