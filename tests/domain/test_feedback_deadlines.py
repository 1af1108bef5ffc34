"""Feedback deadlines beyond the CN complaint: enquiries and suggestions answered by their
own deadlines, the UK summary-resolution window (no breach) and 8-week final response,
the US response and final stages, and what an acknowledgement told."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from domain.application import LedgerApplication
from domain.errors import ValidationFailed
from domain.feedback import Acknowledged, Escalated, FeedbackReceived, Resolved
from domain.personal_data import EVENT_PERSONAL_FIELDS
from domain.settings import RuleSettings
from tests.domain.factories import (
    FRONT,
    RM,
    SYSTEM,
    Clock,
    individual,
    legacy_uk_complaint,
    new_app,
    recorded,
)

pytestmark = pytest.mark.unit


def escalations(app: LedgerApplication, case_id: Any) -> list[tuple[str, int]]:
    return [(e.stage, e.level) for e in app.events_of(case_id) if isinstance(e, Escalated)]


@pytest.mark.parametrize(("kind", "days"), [("enquiry", 5), ("suggestion", 30)])
def test_enquiries_and_suggestions_get_their_own_deadline_and_escalate(
    app: LedgerApplication, clock: Clock, kind: str, days: int
) -> None:
    case_id = app.receive_feedback(individual(app), kind, "service", "When do you open?", FRONT)
    case = app.get_case(case_id)
    assert case.due_at == clock.now + timedelta(days=days)
    assert case.final_due_at is None
    received = next(e for e in app.events_of(case_id) if isinstance(e, FeedbackReceived))
    assert received.rule_version == "feedback_deadline/1"
    clock.advance(days=days * 0.8)
    assert app.check_case_escalation(case_id, SYSTEM) == 1
    clock.advance(days=days * 0.2)
    assert app.check_case_escalation(case_id, SYSTEM) == 2
    assert escalations(app, case_id) == [("response", 1), ("response", 2)]


def test_praise_has_no_deadline(app: LedgerApplication) -> None:
    case_id = app.receive_feedback(individual(app), "praise", "staff_conduct", "Kind", FRONT)
    assert app.get_case(case_id).due_at is None
    assert app.check_case_escalation(case_id, SYSTEM) == 0
    assert escalations(app, case_id) == []


def test_enquiry_and_suggestion_deadlines_are_configurable(clock: Clock) -> None:
    settings = RuleSettings(enquiry_response_days=2, suggestion_response_days=10)
    ledger = new_app(clock, settings=settings)
    try:
        customer_id = individual(ledger)
        enquiry = ledger.receive_feedback(customer_id, "enquiry", "fees", "Fee?", FRONT)
        suggestion = ledger.receive_feedback(customer_id, "suggestion", "other", "Idea", FRONT)
        assert ledger.get_case(enquiry).due_at == clock.now + timedelta(days=2)
        assert ledger.get_case(suggestion).due_at == clock.now + timedelta(days=10)
    finally:
        ledger.close()


def test_a_uk_complaint_past_its_summary_window_is_no_breach_the_8_weeks_are(
    app: LedgerApplication, clock: Clock
) -> None:
    case_id = app.receive_feedback(
        individual(app), "complaint", "product", "Mis-sold", FRONT, rule_set="UK"
    )
    received = clock.now
    case = app.get_case(case_id)
    assert case.summary_resolution_by is not None and case.final_due_at is None
    assert case.due_at == received + timedelta(weeks=8)
    clock.set(case.summary_resolution_by + timedelta(days=1))
    assert app.check_case_escalation(case_id, SYSTEM) == 0
    assert escalations(app, case_id) == []  # moved to the 8-week track, no breach
    clock.set(received + timedelta(weeks=8) * 0.8 - timedelta(minutes=1))
    assert app.check_case_escalation(case_id, SYSTEM) == 0
    clock.set(received + timedelta(weeks=8) * 0.8)
    assert app.check_case_escalation(case_id, SYSTEM) == 1
    before = recorded(app)
    app.check_case_escalation(case_id, SYSTEM)
    assert recorded(app) == before  # each level once
    clock.set(received + timedelta(weeks=8))
    assert app.check_case_escalation(case_id, SYSTEM) == 2
    assert escalations(app, case_id) == [("response", 1), ("response", 2)]
    dues = {e.due_at for e in app.events_of(case_id) if isinstance(e, Escalated)}
    assert dues == {received + timedelta(weeks=8)}


def resolve(app: LedgerApplication, case_id: Any) -> Any:
    app.acknowledge_case(case_id, RM)
    app.start_investigation(case_id, RM)
    app.resolve_case(case_id, "Explained", "communication", RM)
    return app.get_case(case_id)


def test_a_uk_complaint_resolved_in_its_window_is_a_summary_resolution(
    app: LedgerApplication, clock: Clock
) -> None:
    customer_id = individual(app)
    quick = app.receive_feedback(customer_id, "complaint", "fees", "Fee", FRONT, rule_set="UK")
    later = app.receive_feedback(customer_id, "complaint", "fees", "Fee", FRONT, rule_set="UK")
    clock.advance(days=1)
    assert (resolve(app, quick).summary_resolution, app.get_case(quick).resolved_in_time) == (
        True,
        True,
    )
    clock.advance(days=20)
    case = resolve(app, later)
    assert (case.summary_resolution, case.resolved_in_time) == (False, True)


def test_a_us_complaint_answered_in_15_days_is_bound_by_its_60_day_final_response(
    app: LedgerApplication, clock: Clock
) -> None:
    customer_id = individual(app)
    answered = app.receive_feedback(customer_id, "complaint", "fees", "Fee", FRONT, rule_set="US")
    silent = app.receive_feedback(customer_id, "complaint", "fees", "Fee", FRONT, rule_set="US")
    received = clock.now
    clock.advance(days=10)
    app.acknowledge_case(answered, RM, progress="In progress: refund under review")
    clock.set(received + timedelta(days=15))
    app.check_case_escalation(answered, SYSTEM)
    app.check_case_escalation(silent, SYSTEM)
    assert escalations(app, answered) == []  # the response stage was met
    assert escalations(app, silent) == [("response", 2)]  # no response in 15 days
    clock.set(received + timedelta(days=48))  # 80 % of 60 days
    app.check_case_escalation(answered, SYSTEM)
    clock.set(received + timedelta(days=60))
    app.check_case_escalation(answered, SYSTEM)
    assert escalations(app, answered) == [("final", 1), ("final", 2)]
    finals = [e for e in app.events_of(answered) if isinstance(e, Escalated)]
    assert {e.due_at for e in finals} == {received + timedelta(days=60)}


def test_a_us_complaint_resolved_after_15_days_but_within_60_is_in_time(
    app: LedgerApplication, clock: Clock
) -> None:
    case_id = app.receive_feedback(
        individual(app), "complaint", "fees", "Fee", FRONT, rule_set="US"
    )
    clock.advance(days=30)
    assert resolve(app, case_id).resolved_in_time is True


def test_a_uk_case_recorded_under_the_first_rule_escalates_on_its_final_response_only(
    app: LedgerApplication, clock: Clock
) -> None:
    received = clock.now
    eight_weeks = received + timedelta(weeks=8)
    case_id = legacy_uk_complaint(app, individual(app), received)
    clock.advance(days=10)
    app.check_case_escalation(case_id, SYSTEM)
    assert escalations(app, case_id) == []
    clock.set(eight_weeks)
    app.check_case_escalation(case_id, SYSTEM)
    assert escalations(app, case_id) == [("final", 2)]


def test_a_uk_case_recorded_before_v3_reads_its_window_from_the_first_rule() -> None:
    window = "2026-05-08T00:00:00+00:00"
    legacy: dict[str, object] = {
        "rule_set": "UK",
        "rule_version": "complaint_deadline/1",
        "due_at": window,
    }
    FeedbackReceived.upcast_v2_v3(legacy)
    assert legacy["summary_resolution_by"] == window
    cn: dict[str, object] = {"rule_set": "CN", "rule_version": "complaint_deadline/1"}
    FeedbackReceived.upcast_v2_v3(cn)
    assert cn["summary_resolution_by"] is None
    resolved: dict[str, object] = {}
    Resolved.upcast_v1_v2(resolved)
    assert resolved == {"summary_resolution": False}


def test_a_cn_complaint_has_no_final_stage(app: LedgerApplication, clock: Clock) -> None:
    case_id = app.receive_feedback(individual(app), "complaint", "fees", "Twice", FRONT)
    clock.advance(days=90)
    app.check_case_escalation(case_id, SYSTEM)
    assert escalations(app, case_id) == [("response", 2)]


def test_the_acknowledgement_records_the_deadlines_and_progress_told(
    app: LedgerApplication,
) -> None:
    case_id = app.receive_feedback(
        individual(app), "complaint", "fees", "Charged twice", FRONT, rule_set="US"
    )
    app.acknowledge_case(case_id, RM, method="email", progress="Received; refund under review")
    case = app.get_case(case_id)
    ack = next(e for e in app.events_of(case_id) if isinstance(e, Acknowledged))
    assert (ack.due_at, ack.final_due_at) == (case.due_at, case.final_due_at)
    assert ack.progress == "Received; refund under review"
    assert case.acknowledged_due_at == case.due_at
    assert EVENT_PERSONAL_FIELDS["domain.feedback:Acknowledged"] == ("progress",)


def test_an_overlong_progress_is_refused_and_records_nothing(app: LedgerApplication) -> None:
    case_id = app.receive_feedback(individual(app), "complaint", "fees", "Twice", FRONT)
    before = recorded(app)
    with pytest.raises(ValidationFailed) as refused:
        app.acknowledge_case(case_id, RM, progress="x" * 2001)
    assert "progress" in refused.value.errors
    assert recorded(app) == before


def test_a_case_records_the_product_it_is_about(app: LedgerApplication) -> None:
    case_id = app.receive_feedback(
        individual(app), "complaint", "product", "Card blocked", FRONT, product="credit_card"
    )
    assert app.get_case(case_id).product == "credit_card"


def test_events_recorded_before_v2_read_with_the_new_fields_defaulted() -> None:
    ack: dict[str, object] = {"method": "sms"}
    Acknowledged.upcast_v1_v2(ack)
    assert ack == {"method": "sms", "due_at": None, "final_due_at": None, "progress": ""}
    escalated: dict[str, object] = {"level": 1}
    Escalated.upcast_v1_v2(escalated)
    assert escalated["stage"] == "response"
    received: dict[str, object] = {}
    FeedbackReceived.upcast_v1_v2(received)
    assert received == {"product": None}


def test_a_case_follows_the_customers_jurisdiction_unless_given(
    app: LedgerApplication, clock: Clock
) -> None:
    customer_id = individual(app, jurisdiction="UK")
    assert app.get_customer(customer_id).jurisdiction == "UK"
    by_default = app.receive_feedback(customer_id, "complaint", "fees", "Fee", FRONT)
    assert app.get_case(by_default).rule_set == "UK"
    assert app.get_case(by_default).due_at == clock.now + timedelta(weeks=8)
    given = app.receive_feedback(customer_id, "complaint", "fees", "Fee", FRONT, rule_set="US")
    assert app.get_case(given).rule_set == "US"
    plain = app.receive_feedback(individual(app), "complaint", "fees", "Fee", FRONT)
    assert app.get_case(plain).rule_set == "CN"


def test_a_case_opened_from_a_survey_takes_the_customers_jurisdiction(
    app: LedgerApplication,
) -> None:
    customer_id = individual(app, jurisdiction="US")
    survey_id = app.send_survey(customer_id, "CSAT", FRONT)
    case_id = app.answer_survey(survey_id, 1, FRONT, verbatim="Slow")
    assert case_id is not None
    case = app.get_case(case_id)
    assert (case.rule_set, case.source, case.survey_id) == ("US", "survey", survey_id)
    assert case.final_due_at is not None


def test_an_unknown_jurisdiction_or_language_is_refused(app: LedgerApplication) -> None:
    with pytest.raises(ValidationFailed) as refused:
        individual(app, jurisdiction="FR", language="de")
    assert {"jurisdiction", "language"} <= set(refused.value.errors)
