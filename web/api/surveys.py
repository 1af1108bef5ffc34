"""Surveys (CSAT, NPS): send, answer (a dissatisfied answer opens service recovery),
record the recovery."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from domain.survey import Survey
from web.api._blueprint import Blueprint
from web.api._book import book, customer_of_survey, customers_in_body
from web.api._disclosure import disclosure, personal_fields_of
from web.api._http import (
    ETAG_HEADER,
    IDEMPOTENCY_PARAM,
    IF_MATCH_OPTIONAL,
    PURPOSE_PARAM,
    actor,
    etag,
)
from web.api._http import expected_version as if_match
from web.auth import roles_allowed
from web.context import get_ledger
from web.schemas.common import CreatedSchema
from web.schemas.surveys import (
    AnsweredSchema,
    AnswerSchema,
    NewSurveySchema,
    RecoverySchema,
    SurveySchema,
)

blp = Blueprint("surveys", __name__, url_prefix="/api/v1/surveys", description="Satisfaction")

WRITERS = ("front_office", "relationship_manager", "system")
READERS = ("front_office", "relationship_manager", "compliance_officer")
PERSONAL = personal_fields_of(Survey)


def _versioned(survey_id: UUID) -> tuple[int, dict[str, str]]:
    version = get_ledger().app.get_survey(survey_id).version
    return version, {"ETag": etag(version), "Location": f"{blp.url_prefix}/{survey_id}"}


@blp.route("", methods=["POST"])
@blp.arguments(NewSurveySchema)
@blp.response(201, CreatedSchema, headers=ETAG_HEADER)
@blp.doc(parameters=[IDEMPOTENCY_PARAM])
@roles_allowed(*WRITERS)
@book(customers_in_body("customer_id"))
def send_survey(args: dict[str, Any]) -> Any:
    """Send a CSAT or NPS survey to a customer."""
    app = get_ledger().app
    survey_id = app.send_survey(args.pop("customer_id"), args.pop("instrument"), actor(), **args)
    version, headers = _versioned(survey_id)
    return {"id": survey_id, "version": version}, 201, headers


@blp.route("/<uuid:survey_id>", methods=["GET"])
@blp.response(200, SurveySchema, headers=ETAG_HEADER)
@blp.doc(parameters=[PURPOSE_PARAM])
@roles_allowed(*READERS)
@book(customer_of_survey)
def read_survey(survey_id: UUID) -> Any:
    """The survey, its answer and any recovery (verbatim masked unless disclosed)."""
    view = get_ledger().app.get_survey(survey_id)
    shown = disclosure()
    data = shown.show(vars(view), PERSONAL)
    shown.record(view.customer_id, "survey.verbatim")
    return data, 200, {"ETag": etag(view.version)}


@blp.route("/<uuid:survey_id>/answers", methods=["POST"])
@blp.arguments(AnswerSchema)
@blp.response(201, AnsweredSchema, headers=ETAG_HEADER)
@blp.doc(parameters=[IF_MATCH_OPTIONAL, IDEMPOTENCY_PARAM])
@roles_allowed(*WRITERS)
@book(customer_of_survey)
def answer_survey(args: dict[str, Any], survey_id: UUID) -> Any:
    """Record the customer's answer. A dissatisfied one (CSAT 2 or below, NPS 6 or
    below) is flagged and opens a service-recovery complaint case at once; its id is
    in the answer. A survey is answered once (409 after)."""
    case_id = get_ledger().app.answer_survey(
        survey_id,
        args["score"],
        actor(),
        verbatim=args.get("verbatim"),
        dimensions=args.get("dimensions"),
        expected_version=if_match(required=False),
    )
    version, headers = _versioned(survey_id)
    body = {
        "id": survey_id,
        "version": version,
        "dissatisfied": case_id is not None,
        "recovery_case_id": case_id,
    }
    return body, 201, headers


@blp.route("/<uuid:survey_id>/recoveries", methods=["POST"])
@blp.arguments(RecoverySchema)
@blp.response(201, CreatedSchema, headers=ETAG_HEADER)
@blp.doc(parameters=[IF_MATCH_OPTIONAL, IDEMPOTENCY_PARAM])
@roles_allowed("front_office", "relationship_manager")
@book(customer_of_survey)
def record_recovery(args: dict[str, Any], survey_id: UUID) -> Any:
    """Record service recovery after a dissatisfied answer."""
    get_ledger().app.record_service_recovery(
        survey_id,
        args["action"],
        args["description"],
        actor(),
        amount=args.get("amount"),
        expected_version=if_match(required=False),
    )
    version, headers = _versioned(survey_id)
    return {"id": survey_id, "version": version}, 201, headers
