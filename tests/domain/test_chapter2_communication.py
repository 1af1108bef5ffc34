"""Chapter 2, communication and interaction: channels, campaigns, feedback with deadlines."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from domain.application import LedgerApplication
from domain.errors import ConsentRequired, IllegalTransition, ValidationFailed
from domain.interaction import CHANNELS
from tests.domain.factories import (
    COMPLIANCE,
    FRONT,
    RM,
    SYSTEM,
    Clock,
    grant_marketing,
    individual,
    recorded,
)

pytestmark = pytest.mark.unit


def test_interactions_are_logged_on_every_channel(app: LedgerApplication) -> None:
    customer_id = individual(app)
    for channel in CHANNELS:
        app.log_interaction(customer_id, channel, "inbound", "service", "balance", "asked", FRONT)
    summary = app.get_interactions(customer_id)
    assert summary.interactions == len(CHANNELS)
    assert summary.last_channel == "letter"


def test_a_marketing_contact_needs_a_live_consent(app: LedgerApplication, clock: Clock) -> None:
    customer_id = individual(app)
    before = recorded(app)
    with pytest.raises(ConsentRequired):
        app.log_interaction(customer_id, "phone", "outbound", "marketing", "fund", "pitch", RM)
    assert recorded(app) == before
    record_id = grant_marketing(app, customer_id)
    clock.advance(hours=1)
    app.log_interaction(customer_id, "phone", "outbound", "marketing", "fund", "pitch", RM)
    (logged,) = [
        e
        for e in app.events_of(app.get_interactions(customer_id).id)
        if type(e).__name__ == "InteractionLogged"
    ]
    assert logged.consent_record_id == record_id  # type: ignore[attr-defined]
    app.withdraw_consent(customer_id, "marketing", FRONT, method="electronic")
    with pytest.raises(ConsentRequired):
        app.log_interaction(customer_id, "sms", "outbound", "marketing", "fund", "pitch", RM)


def test_campaign_invitations_need_consent_and_record_attendance(
    app: LedgerApplication, clock: Clock
) -> None:
    customer_id = individual(app)
    other = individual(app, phone="13700000000")
    campaign_id = app.plan_campaign(
        "lecture",
        "Retirement planning evening",
        date(2026, 3, 20),
        date(2026, 3, 20),
        RM,
        target_segment="individual/45_59",
        branch="BJ-01",
    )
    grant_marketing(app, customer_id)
    app.invite_to_campaign(campaign_id, customer_id, RM)
    with pytest.raises(ConsentRequired):
        app.invite_to_campaign(campaign_id, other, RM)
    with pytest.raises(IllegalTransition):
        app.invite_to_campaign(campaign_id, customer_id, RM)
    clock.set(datetime(2026, 3, 20, 20, tzinfo=UTC))
    app.record_attendance(campaign_id, customer_id, True, RM)
    assert app.get_invitation(campaign_id, customer_id).attendance == "attended"
    assert app.get_campaign(campaign_id).title == "Retirement planning evening"
    # The campaign itself is about no customer; the invitation is about the invitee.
    assert app.events_of(campaign_id)[0].subject_id is None
    invitation = app.get_invitation(campaign_id, customer_id).id
    assert all(e.subject_id == customer_id for e in app.events_of(invitation))


def test_a_complaint_walks_its_whole_life_and_escalates_at_80_percent_and_breach(
    app: LedgerApplication, clock: Clock
) -> None:
    customer_id = individual(app)
    case_id = app.receive_feedback(
        customer_id, "complaint", "fees", "Annual fee charged twice", FRONT, source="phone"
    )
    case = app.get_case(case_id)
    assert case.due_at == clock.now + timedelta(days=15)  # CN standard
    app.acknowledge_case(case_id, FRONT, method="sms")
    app.start_investigation(case_id, RM)
    clock.advance(days=11)
    assert app.check_case_escalation(case_id, SYSTEM) == 0
    clock.advance(days=1)  # 12 of 15 days = 80 %
    assert app.check_case_escalation(case_id, SYSTEM) == 1
    before = recorded(app)
    assert app.check_case_escalation(case_id, SYSTEM) == 1
    assert recorded(app) == before  # each level is recorded once
    clock.advance(days=3)
    assert app.check_case_escalation(case_id, SYSTEM) == 2
    in_time = app.resolve_case(case_id, "Fee refunded", "system", RM)
    assert in_time is False
    app.complete_follow_up(case_id, RM, method="phone", notes="Customer satisfied")
    app.close_case(case_id, RM)
    closed = app.get_case(case_id)
    assert (closed.state, closed.escalation_level, closed.root_cause) == ("closed", 2, "system")


def test_a_closed_case_can_be_reopened_and_investigated_again(app: LedgerApplication) -> None:
    customer_id = individual(app)
    case_id = app.receive_feedback(customer_id, "enquiry", "product", "How do funds work?", FRONT)
    assert app.get_case(case_id).final_due_at is None  # an enquiry has one deadline only
    app.acknowledge_case(case_id, FRONT)
    app.start_investigation(case_id, FRONT)
    app.resolve_case(case_id, "Explained", "none", FRONT, first_contact=True)
    app.complete_follow_up(case_id, FRONT, method="email")
    app.close_case(case_id, FRONT)
    app.reopen_case(case_id, FRONT)
    app.start_investigation(case_id, RM)
    case = app.get_case(case_id)
    assert (case.state, case.reopened_count, case.owner) == ("investigating", 1, "rm-007")


def test_an_illegal_case_transition_is_refused_and_records_nothing(app: LedgerApplication) -> None:
    customer_id = individual(app)
    case_id = app.receive_feedback(customer_id, "complaint", "service", "Long queue", FRONT)
    before = recorded(app)
    with pytest.raises(IllegalTransition) as refused:
        app.resolve_case(case_id, "done", "process", FRONT)
    assert refused.value.code == "illegal_transition"
    assert recorded(app) == before


def test_uk_complaints_may_be_summarily_resolved_by_the_third_business_day_else_8_weeks(
    app: LedgerApplication, clock: Clock
) -> None:
    customer_id = individual(app)
    clock.set(datetime(2026, 4, 2, 15, tzinfo=UTC))  # Thursday before Good Friday
    case_id = app.receive_feedback(
        customer_id, "complaint", "service", "Card blocked abroad", FRONT, rule_set="UK"
    )
    case = app.get_case(case_id)
    # Good Friday and Easter Monday are UK holidays: Tue 7, Wed 8, Thu 9 April.
    assert case.summary_resolution_by == datetime(2026, 4, 9, 23, tzinfo=UTC)  # midnight BST
    assert case.due_at == datetime(2026, 5, 28, 15, tzinfo=UTC)  # the final response
    assert (case.final_due_at, case.rule_version) == (None, "complaint_deadline/2")


def test_an_especially_complex_complaint_needs_an_approver_and_a_notice(
    app: LedgerApplication,
) -> None:
    customer_id = individual(app)
    case_id = app.receive_feedback(
        customer_id, "complaint", "product", "Structured note losses", FRONT, complexity="complex"
    )
    assert app.get_case(case_id).due_at == app.now() + timedelta(days=30)
    before = recorded(app)
    with pytest.raises(ValidationFailed) as refused:
        app.extend_case_deadline(case_id, "especially_complex", RM)
    assert set(refused.value.errors) == {"approver", "customer_notified"}
    with pytest.raises(ValidationFailed):
        app.extend_case_deadline(
            case_id, "especially_complex", RM, approver="rm-007", customer_notified=True
        )
    assert recorded(app) == before
    due = app.extend_case_deadline(
        case_id, "especially_complex", RM, approver=COMPLIANCE.actor_id, customer_notified=True
    )
    assert due == app.now() + timedelta(days=60)
    assert app.get_case(case_id).approver == "co-003"


def test_any_open_case_can_be_withdrawn_but_not_a_closed_one(app: LedgerApplication) -> None:
    customer_id = individual(app)
    case_id = app.receive_feedback(customer_id, "suggestion", "digital_channel", "Dark mode", FRONT)
    app.withdraw_case(case_id, FRONT)
    assert app.get_case(case_id).state == "withdrawn"
    with pytest.raises(IllegalTransition):
        app.reopen_case(case_id, FRONT)
