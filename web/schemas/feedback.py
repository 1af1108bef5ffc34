"""Feedback cases: intake, the named transitions of the state machine, the case view."""

from __future__ import annotations

from typing import Any

import marshmallow as ma

from domain import feedback as feedback_model
from domain.rules.complaints import COMPLEXITIES, RULE_SETS
from domain.services.feedback import ACK_METHODS, FOLLOW_UP_METHODS
from web.schemas.common import Amount, DisclosedView, Moment, Text, one_of

# Each transition with the fields it requires and those it accepts besides.
TRANSITIONS: dict[str, tuple[frozenset[str], frozenset[str]]] = {
    "acknowledge": (frozenset(), frozenset({"method", "progress"})),
    "start_investigation": (frozenset(), frozenset({"owner"})),
    "extend_deadline": (frozenset({"complexity"}), frozenset({"approver", "customer_notified"})),
    "escalate": (frozenset(), frozenset()),
    "resolve": (frozenset({"outcome", "root_cause"}), frozenset({"first_contact"})),
    "pay_redress": (frozenset({"amount"}), frozenset({"currency"})),
    "complete_follow_up": (frozenset({"method"}), frozenset({"notes"})),
    "close": (frozenset(), frozenset()),
    "reopen": (frozenset(), frozenset()),
    "withdraw": (frozenset(), frozenset()),
}
METHODS = {"acknowledge": ACK_METHODS, "complete_follow_up": FOLLOW_UP_METHODS}


class NewFeedbackSchema(ma.Schema):
    """Feedback as received; a complaint gets its deadline under `rule_set`."""

    customer_id = ma.fields.UUID(required=True)
    kind = ma.fields.String(required=True, validate=one_of(feedback_model.KINDS))
    category = ma.fields.String(required=True, validate=one_of(feedback_model.CATEGORIES))
    narrative = Text(8000, required=True)
    rule_set = ma.fields.String(
        validate=one_of(RULE_SETS),
        metadata={"description": "default: the customer's jurisdiction (CN when none)"},
    )
    complexity = ma.fields.String(load_default="standard", validate=one_of(COMPLEXITIES[:2]))
    source = Text(50, load_default="phone")
    branch = Text(100)
    product = Text(50, metadata={"description": "the product the feedback is about"})
    received_at = Moment(metadata={"description": "default: now; never in the future"})


class TransitionSchema(ma.Schema):
    """A move of the case: `transition` names it, the other fields are its inputs.

    acknowledge [method, progress]; start_investigation [owner]; extend_deadline complexity
    [approver, customer_notified]; escalate; resolve outcome, root_cause
    [first_contact]; pay_redress amount [currency]; complete_follow_up method [notes];
    close; reopen; withdraw.
    """

    transition = ma.fields.String(required=True, validate=one_of(tuple(TRANSITIONS)))
    method = ma.fields.String(validate=one_of(tuple(sorted({*ACK_METHODS, *FOLLOW_UP_METHODS}))))
    progress = Text(
        2000,
        metadata={
            "description": "acknowledge: what the customer was told of the handling so far "
            "(recorded with the deadlines told)"
        },
    )
    owner = Text(100)
    complexity = ma.fields.String(validate=one_of(COMPLEXITIES))
    approver = Text(100)
    customer_notified = ma.fields.Boolean()
    outcome = Text(4000)
    root_cause = ma.fields.String(validate=one_of(feedback_model.ROOT_CAUSES))
    first_contact = ma.fields.Boolean()
    amount = Amount()
    currency = ma.fields.String(validate=ma.validate.Regexp(r"^[A-Z]{3}$", error="ISO 4217"))
    notes = Text(4000)

    @ma.validates_schema(pass_original=True, skip_on_field_errors=False)
    def inputs_of_transition(self, _: dict[str, Any], data: Any, **__: Any) -> None:
        if not isinstance(data, dict) or data.get("transition") not in TRANSITIONS:
            return
        name = data["transition"]
        required, optional = TRANSITIONS[name]
        errors: dict[str, list[str]] = {}
        for field in required - set(data):
            errors[field] = [f"required for {name}"]
        for field in set(data) - required - optional - {"transition"}:
            if field in self.fields:
                errors[field] = [f"not an input of {name}"]
        method = data.get("method")
        if name in METHODS and method is not None and method not in METHODS[name]:
            errors["method"] = ["one of " + ", ".join(METHODS[name])]
        if errors:
            raise ma.ValidationError(errors)


def summary_window() -> ma.fields.String:
    """The UK summary-resolution window's end (a case field in more than one answer)."""
    return ma.fields.String(
        allow_none=True,
        metadata={
            "format": "date-time",
            "description": "UK: end of the summary-resolution window (not a deadline)",
        },
    )


class CaseStateSchema(ma.Schema):
    id = ma.fields.UUID(required=True)
    version = ma.fields.Integer(required=True)
    state = ma.fields.String(required=True)
    escalation_level = ma.fields.Integer(required=True)
    final_escalation_level = ma.fields.Integer(
        required=True, metadata={"description": "UK/US: escalation of the final response"}
    )
    due_at = ma.fields.String(allow_none=True, metadata={"format": "date-time"})
    final_due_at = ma.fields.String(allow_none=True, metadata={"format": "date-time"})
    summary_resolution_by = summary_window()
    resolved_in_time = ma.fields.Boolean(allow_none=True)
    summary_resolution = ma.fields.Boolean(
        required=True, metadata={"description": "UK: resolved within the summary window"}
    )


class CaseSchema(DisclosedView):
    customer_id = ma.fields.UUID(required=True)
    kind = ma.fields.String(required=True)
    category = ma.fields.String(required=True)
    narrative = ma.fields.String(allow_none=True)
    source = ma.fields.String(required=True)
    branch = ma.fields.String(allow_none=True)
    product = ma.fields.String(allow_none=True)
    survey_id = ma.fields.UUID(allow_none=True)
    rule_set = ma.fields.String(required=True)
    complexity = ma.fields.String(required=True)
    received_at = ma.fields.String(required=True, metadata={"format": "date-time"})
    due_at = ma.fields.String(allow_none=True, metadata={"format": "date-time"})
    final_due_at = ma.fields.String(allow_none=True, metadata={"format": "date-time"})
    summary_resolution_by = summary_window()
    rule_version = ma.fields.String(allow_none=True)
    state = ma.fields.String(required=True)
    owner = ma.fields.String(allow_none=True)
    approver = ma.fields.String(allow_none=True)
    escalation_level = ma.fields.Integer(required=True)
    final_escalation_level = ma.fields.Integer(required=True)
    acknowledged_due_at = ma.fields.String(
        allow_none=True,
        metadata={"format": "date-time", "description": "the due date told when acknowledged"},
    )
    outcome = ma.fields.String(allow_none=True)
    root_cause = ma.fields.String(allow_none=True)
    first_contact = ma.fields.Boolean(allow_none=True)
    resolved_in_time = ma.fields.Boolean(allow_none=True)
    summary_resolution = ma.fields.Boolean(required=True)
    resolved_at = ma.fields.String(allow_none=True, metadata={"format": "date-time"})
    redress_amount = ma.fields.String(allow_none=True)
    closed_at = ma.fields.String(allow_none=True, metadata={"format": "date-time"})
    reopened_count = ma.fields.Integer(required=True)
