"""Feedback cases: intake, the case, and its transitions (an illegal one is a 409)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from uuid import UUID

from domain import feedback as feedback_model
from domain.actor import Actor
from domain.errors import IllegalTransition
from domain.feedback import FeedbackCase
from web.api._blueprint import Blueprint
from web.api._book import book, customer_of_case, customers_in_body
from web.api._disclosure import disclosure, personal_fields_of
from web.api._http import (
    ETAG_HEADER,
    IDEMPOTENCY_PARAM,
    IF_MATCH_OPTIONAL,
    PURPOSE_PARAM,
    actor,
    etag,
    jsonable,
)
from web.api._http import expected_version as if_match
from web.auth import roles_allowed
from web.context import get_ledger
from web.schemas.feedback import CaseSchema, CaseStateSchema, NewFeedbackSchema, TransitionSchema

blp = Blueprint(
    "feedback", __name__, url_prefix="/api/v1/feedback", description="Feedback and complaints"
)

INTAKE = ("front_office", "relationship_manager", "system")
HANDLERS = ("front_office", "relationship_manager", "compliance_officer", "system")
READERS = ("front_office", "relationship_manager", "compliance_officer")
PERSONAL = personal_fields_of(FeedbackCase)

Command = Callable[[Any, UUID, Actor, dict[str, Any], int | None], object]


def _escalate(app: Any, case_id: UUID, who: Actor, _: dict[str, Any], __: int | None) -> object:
    case = app.get_case(case_id)
    if case.state not in feedback_model.UNRESOLVED_STATES or case.due_at is None:
        raise IllegalTransition(f"a case cannot be escalated when {case.state}")
    return app.check_case_escalation(case_id, who)


COMMANDS: dict[str, Command] = {
    "acknowledge": lambda app, cid, who, a, v: app.acknowledge_case(
        cid, who, expected_version=v, **a
    ),
    "start_investigation": lambda app, cid, who, a, v: app.start_investigation(
        cid, who, expected_version=v, **a
    ),
    "extend_deadline": lambda app, cid, who, a, v: app.extend_case_deadline(
        cid, a.pop("complexity"), who, expected_version=v, **a
    ),
    "escalate": _escalate,
    "resolve": lambda app, cid, who, a, v: app.resolve_case(
        cid, a.pop("outcome"), a.pop("root_cause"), who, expected_version=v, **a
    ),
    "pay_redress": lambda app, cid, who, a, v: app.pay_redress(
        cid, a.pop("amount"), who, expected_version=v, **a
    ),
    "complete_follow_up": lambda app, cid, who, a, v: app.complete_follow_up(
        cid, who, expected_version=v, **a
    ),
    "close": lambda app, cid, who, a, v: app.close_case(cid, who, expected_version=v),
    "reopen": lambda app, cid, who, a, v: app.reopen_case(cid, who, expected_version=v),
    "withdraw": lambda app, cid, who, a, v: app.withdraw_case(cid, who, expected_version=v),
}


def _state(case_id: UUID) -> Any:
    view = get_ledger().app.get_case(case_id)
    body = {
        "id": view.id,
        "version": view.version,
        "state": view.state,
        "escalation_level": view.escalation_level,
        "final_escalation_level": view.final_escalation_level,
        "due_at": jsonable(view.due_at),
        "final_due_at": jsonable(view.final_due_at),
        "summary_resolution_by": jsonable(view.summary_resolution_by),
        "resolved_in_time": view.resolved_in_time,
        "summary_resolution": view.summary_resolution,
    }
    return body, {"ETag": etag(view.version), "Location": f"{blp.url_prefix}/{view.id}"}


@blp.route("", methods=["POST"])
@blp.arguments(NewFeedbackSchema)
@blp.response(201, CaseStateSchema, headers=ETAG_HEADER)
@blp.doc(parameters=[IDEMPOTENCY_PARAM])
@roles_allowed(*INTAKE)
@book(customers_in_body("customer_id"))
def receive_feedback(args: dict[str, Any]) -> Any:
    """Open a feedback case (complaint, suggestion, praise or enquiry).

    A complaint gets its deadline under its rule set (CN by default, UK, US); an
    enquiry or a suggestion its own deadline; praise none.
    """
    app = get_ledger().app
    customer_id = args.pop("customer_id")
    case_id = app.receive_feedback(
        customer_id,
        args.pop("kind"),
        args.pop("category"),
        args.pop("narrative"),
        actor(),
        **args,
    )
    body, headers = _state(case_id)
    return body, 201, headers


@blp.route("/<uuid:case_id>", methods=["GET"])
@blp.response(200, CaseSchema, headers=ETAG_HEADER)
@blp.doc(parameters=[PURPOSE_PARAM])
@roles_allowed(*READERS)
@book(customer_of_case)
def read_case(case_id: UUID) -> Any:
    """The case as it stands: state, deadlines, escalation, outcome (narrative,
    outcome and redress masked unless disclosed for a purpose)."""
    view = get_ledger().app.get_case(case_id)
    shown = disclosure()
    data = shown.show(vars(view), PERSONAL)
    shown.record(view.customer_id, "case.narrative")
    return data, 200, {"ETag": etag(view.version)}


@blp.route("/<uuid:case_id>/transitions", methods=["POST"])
@blp.arguments(TransitionSchema)
@blp.response(200, CaseStateSchema, headers=ETAG_HEADER)
@blp.doc(parameters=[IF_MATCH_OPTIONAL, IDEMPOTENCY_PARAM])
@roles_allowed(*HANDLERS)
@book(customer_of_case)
def transition_case(args: dict[str, Any], case_id: UUID) -> Any:
    """Move the case: received -> acknowledged -> investigating -> resolved ->
    followed_up -> closed; any open state -> withdrawn; closed -> reopened.

    Also: extend_deadline, escalate and pay_redress. An illegal transition is a 409
    problem `illegal_transition` and records nothing.
    """
    app = get_ledger().app
    name = args.pop("transition")
    COMMANDS[name](app, case_id, actor(), args, if_match(required=False))
    body, headers = _state(case_id)
    return body, 200, headers
