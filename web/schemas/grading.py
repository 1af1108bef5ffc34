"""Grading: credit assessments, the quarterly grade and the tier held, with its
entitlements and risk-control measures."""

from __future__ import annotations

import marshmallow as ma

from web.schemas.common import Day, EntryView

_SOURCE = ma.validate.Regexp(
    r"^[a-z][a-z0-9_\-]{0,59}$",
    error="a source code: lower case letters, digits, _ or - (at most 60)",
)


class GradeRequestSchema(ma.Schema):
    """Grade a customer for a quarter from its own activity and tenure."""

    period = ma.fields.String(
        required=True, validate=ma.validate.Regexp(r"^\d{4}Q[1-4]$", error="a quarter like 2026Q2")
    )


class CreditAssessmentSchema(ma.Schema):
    """A credit assessment: who assessed (a source code such as `pboc_credit_reference`
    or `internal_scorecard`), the 0-100 score and the day it was assessed (not after
    today). Grading uses the newest assessment."""

    source = ma.fields.String(required=True, validate=_SOURCE)
    score = ma.fields.Integer(required=True, strict=True, validate=ma.validate.Range(0, 100))
    assessed_on = Day(required=True)


class CreditImportRowSchema(CreditAssessmentSchema):
    customer_id = ma.fields.UUID(required=True)


class CreditImportSchema(ma.Schema):
    """A batch of credit assessments (a bureau's file); every row is checked before any
    is recorded, and a row equal to the customer's newest assessment is skipped."""

    assessments = ma.fields.List(
        ma.fields.Nested(CreditImportRowSchema),
        required=True,
        validate=ma.validate.Length(1, 1000),
    )


class CreditImportResultSchema(ma.Schema):
    recorded = ma.fields.Integer(required=True)
    skipped = ma.fields.Integer(required=True)


class GradeSchema(EntryView):
    customer_id = ma.fields.UUID(required=True)
    tier = ma.fields.String(allow_none=True)
    computed_tier = ma.fields.String(allow_none=True)
    score = ma.fields.String(allow_none=True, metadata={"description": "a decimal, as a string"})
    quarters_below = ma.fields.Integer(required=True)
    periods = ma.fields.List(ma.fields.String())
    entitlements = ma.fields.List(ma.fields.String())
    credit_status = ma.fields.String(
        required=True,
        metadata={"description": "assessed, or unknown when no credit assessment is recorded"},
    )
    credit_source = ma.fields.String(allow_none=True)
    credit_assessed_on = ma.fields.String(allow_none=True, metadata={"format": "date"})
    risk_measures = ma.fields.List(
        ma.fields.String(), metadata={"description": "risk-control measures in force (3.3)"}
    )
    risk_measures_rule_version = ma.fields.String(allow_none=True)
