"""Chapter 5, satisfaction: surveys, and service recovery for a dissatisfied answer."""

from __future__ import annotations

from decimal import Decimal

import pytest

from domain.application import LedgerApplication
from domain.errors import ConsentRequired, IllegalTransition, ValidationFailed
from tests.domain.factories import FRONT, RM, SYSTEM, Clock, individual, recorded

pytestmark = pytest.mark.unit


def test_a_csat_of_2_opens_service_recovery_which_ends_with_a_visit_and_closes(
    app: LedgerApplication, clock: Clock
) -> None:
    customer_id = individual(app)
    survey_id = app.send_survey(customer_id, "CSAT", SYSTEM, context="branch_visit")
    clock.advance(days=1)
    case_id = app.answer_survey(survey_id, 2, SYSTEM, verbatim="Waited 40 minutes")
    assert case_id is not None
    survey = app.get_survey(survey_id)
    assert (survey.score, survey.dissatisfied, survey.recovery_case_id) == (2, True, case_id)
    case = app.get_case(case_id)
    assert (case.kind, case.source, case.survey_id, case.state) == (
        "complaint",
        "survey",
        survey_id,
        "received",
    )
    app.acknowledge_case(case_id, RM, method="phone")
    app.record_service_recovery(survey_id, "apology", "Branch manager apologised by phone", RM)
    app.start_investigation(case_id, RM)
    app.record_service_recovery(survey_id, "improvement", "Extra teller at lunchtime", RM)
    app.resolve_case(case_id, "Apology and queue fix", "process", RM)
    clock.advance(days=3)
    app.complete_follow_up(case_id, RM, method="visit", notes="Visited at home; content")
    app.close_case(case_id, RM)
    assert app.get_case(case_id).state == "closed"
    assert app.get_survey(survey_id).recovery_actions == ("apology", "improvement")
    visits = app.get_interactions(customer_id)
    assert visits.care_visits == 1  # the follow-up visit is on the interaction log


def test_a_satisfied_answer_opens_nothing(app: LedgerApplication) -> None:
    customer_id = individual(app)
    survey_id = app.send_survey(customer_id, "NPS", SYSTEM)
    before = recorded(app)
    assert app.answer_survey(survey_id, 9, SYSTEM) is None
    assert recorded(app) == before + 1
    with pytest.raises(IllegalTransition):
        app.record_service_recovery(survey_id, "apology", "not needed", RM)


def test_an_nps_of_6_is_dissatisfied_and_7_is_not(app: LedgerApplication) -> None:
    customer_id = individual(app)
    six = app.send_survey(customer_id, "NPS", SYSTEM)
    seven = app.send_survey(customer_id, "NPS", SYSTEM)
    assert app.answer_survey(six, 6, SYSTEM) is not None
    assert app.answer_survey(seven, 7, SYSTEM) is None


def test_scores_outside_the_scale_and_second_answers_are_refused(app: LedgerApplication) -> None:
    customer_id = individual(app)
    survey_id = app.send_survey(customer_id, "CSAT", FRONT)
    before = recorded(app)
    with pytest.raises(ValidationFailed):
        app.answer_survey(survey_id, 0, SYSTEM)
    app.answer_survey(survey_id, 5, SYSTEM)
    with pytest.raises(IllegalTransition):
        app.answer_survey(survey_id, 1, SYSTEM)
    assert recorded(app) == before + 1


def test_compensation_needs_an_amount(app: LedgerApplication) -> None:
    customer_id = individual(app)
    survey_id = app.send_survey(customer_id, "CSAT", FRONT)
    app.answer_survey(survey_id, 1, SYSTEM)
    with pytest.raises(ValidationFailed):
        app.record_service_recovery(survey_id, "compensation", "Fee waived", RM)
    app.record_service_recovery(survey_id, "compensation", "Fee waived", RM, amount=Decimal("50"))


DIMENSIONS = {
    "service_quality": 5,
    "product_quality": 4,
    "price_reasonableness": 2,
    "communication": 5,
}


def test_an_answer_scores_the_four_dimensions(app: LedgerApplication) -> None:
    survey_id = app.send_survey(individual(app), "CSAT", SYSTEM)
    assert app.answer_survey(survey_id, 4, SYSTEM, dimensions=DIMENSIONS) is None
    assert app.get_survey(survey_id).dimensions == DIMENSIONS


@pytest.mark.parametrize(
    "dimensions",
    [
        {k: v for k, v in DIMENSIONS.items() if k != "communication"},
        DIMENSIONS | {"communication": 6},
        DIMENSIONS | {"communication": 0},
        DIMENSIONS | {"speed": 3},
        DIMENSIONS | {"communication": True},
    ],
)
def test_dimensions_missing_or_off_the_scale_are_refused_and_record_nothing(
    app: LedgerApplication, dimensions: dict[str, int]
) -> None:
    survey_id = app.send_survey(individual(app), "CSAT", SYSTEM)
    before = recorded(app)
    with pytest.raises(ValidationFailed) as refused:
        app.answer_survey(survey_id, 4, SYSTEM, dimensions=dimensions)
    assert "dimensions" in refused.value.errors
    assert recorded(app) == before


def test_the_periodic_survey_needs_research_consent_and_is_sent_once_a_period(
    app: LedgerApplication,
) -> None:
    customer_id = individual(app)
    with pytest.raises(ConsentRequired):
        app.send_periodic_survey(customer_id, "2026Q2", SYSTEM)
    app.grant_consent(
        customer_id, "research", FRONT, data_categories=["contact"], notice_version="v3",
        method="written", evidence="form",
    )  # fmt: skip
    assert app.send_periodic_survey(customer_id, "2026Q2", SYSTEM) is True
    before = recorded(app)
    assert app.send_periodic_survey(customer_id, "2026Q2", SYSTEM) is False
    assert recorded(app) == before
    assert app.send_periodic_survey(customer_id, "2026Q3", SYSTEM) is True
