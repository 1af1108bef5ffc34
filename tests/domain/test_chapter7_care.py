"""Chapter 7, relationship maintenance: greetings within consent, special care, crises."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from domain.application import LedgerApplication
from domain.crisis import CrisisCustomerContacted
from domain.errors import ConsentRequired, IllegalTransition, ValidationFailed
from domain.ids import interaction_log_id
from domain.interaction import AdviceGiven, InteractionLogged
from domain.personal_data import EVENT_PERSONAL_FIELDS
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


def test_a_birthday_greeting_needs_consent_and_is_sent_once_a_year(
    app: LedgerApplication, clock: Clock
) -> None:
    customer_id = individual(app)
    with pytest.raises(ConsentRequired):
        app.send_greeting(customer_id, "birthday", "Happy birthday!", SYSTEM)
    grant_marketing(app, customer_id, purpose="greetings")
    clock.set(datetime(2026, 6, 15, 8, tzinfo=UTC))
    assert app.send_greeting(customer_id, "birthday", "Happy birthday!", SYSTEM)
    assert not app.send_greeting(customer_id, "birthday", "Happy birthday!", SYSTEM)
    clock.set(datetime(2027, 6, 15, 8, tzinfo=UTC))
    assert app.send_greeting(customer_id, "birthday", "Happy birthday!", SYSTEM)
    assert app.get_interactions(customer_id).greetings_sent == ("birthday:2026", "birthday:2027")


def test_an_expired_consent_stops_greetings(app: LedgerApplication, clock: Clock) -> None:
    customer_id = individual(app)
    app.grant_consent(
        customer_id,
        "greetings",
        FRONT,
        data_categories=["contact"],
        notice_version="2026.1",
        method="written",
        evidence="form-88",
        valid_to=datetime(2026, 12, 31, tzinfo=UTC),
    )
    clock.set(datetime(2027, 1, 1, tzinfo=UTC))
    with pytest.raises(ConsentRequired):
        app.send_greeting(customer_id, "new_year", "Happy new year", SYSTEM)
    assert app.expire_consent(customer_id, "greetings", SYSTEM)
    assert app.get_consent(customer_id, "greetings").state == "expired"


def test_customers_turning_60_get_special_care_and_follow_ups_every_90_days(
    app: LedgerApplication, clock: Clock
) -> None:
    customer_id = individual(app, date_of_birth=date(1966, 5, 10))
    assert app.review_special_care(customer_id, SYSTEM) == ()
    clock.set(datetime(2026, 5, 10, 9, tzinfo=UTC))
    assert app.review_special_care(customer_id, SYSTEM) == ("elderly",)
    view = app.get_customer(customer_id)
    assert "priority_channel" in view.care_measures
    assert app.care_follow_up_due(customer_id) == date(2026, 8, 8)
    next_due = app.record_care_visit(customer_id, "home_visit", "Reviewed statements", RM)
    assert next_due == date(2026, 8, 8)
    assert app.care_follow_up_due(customer_id) == date(2026, 8, 8)


def test_disabled_customers_get_the_measures_asked_for(app: LedgerApplication) -> None:
    customer_id = individual(app)
    assert app.flag_special_care(customer_id, ["disabled"], ["home_service"], RM)
    assert not app.flag_special_care(customer_id, ["disabled"], ["home_service"], RM)
    with pytest.raises(ValidationFailed):
        app.flag_special_care(customer_id, ["tired"], [], RM)
    assert app.get_customer(customer_id).special_care == ("disabled",)


def test_a_crisis_is_opened_handled_with_a_statement_and_closed(app: LedgerApplication) -> None:
    affected = [individual(app), individual(app, phone="13700000000")]
    crisis_id = app.open_crisis(
        "Card outage",
        "All debit cards, East region",
        "high",
        COMPLIANCE,
        affected_customer_ids=affected,
    )
    with pytest.raises(IllegalTransition):
        app.close_crisis(crisis_id, "premature", COMPLIANCE)
    app.update_crisis(
        crisis_id, "contact", "SMS to all affected", COMPLIANCE, customers_contacted=2
    )
    app.update_crisis(crisis_id, "statement", "We apologise for the outage ...", COMPLIANCE)
    app.update_crisis(crisis_id, "remedy", "Fees of the day refunded", COMPLIANCE)
    app.close_crisis(crisis_id, "Service restored; fees refunded", COMPLIANCE)
    view = app.get_crisis(crisis_id)
    assert (view.state, view.customers_contacted, view.statements) == ("closed", 2, 1)
    assert view.affected_customer_ids == tuple(str(c) for c in affected)
    assert all(e.subject_id is None for e in app.events_of(crisis_id))


def test_crisis_first_contacts_are_recorded_per_customer_with_their_evidence(
    app: LedgerApplication, clock: Clock
) -> None:
    affected, other, late = individual(app), individual(app), individual(app)
    opened = clock.now
    crisis_id = app.open_crisis(
        "Card outage", "cards", "high", COMPLIANCE, affected_customer_ids=[affected, late]
    )
    crisis = app.get_crisis(crisis_id)
    assert crisis.contact_due_at == opened + timedelta(hours=24)
    clock.advance(hours=3)
    assert app.record_crisis_contact(crisis_id, affected, "phone", "Explained; fee waived", RM)
    clock.advance(hours=1)
    assert app.record_crisis_contact(crisis_id, affected, "sms", "Follow-up", RM)
    before = recorded(app)
    with pytest.raises(ValidationFailed) as refused:
        app.record_crisis_contact(crisis_id, other, "phone", "Not affected", RM)
    assert "customer_id" in refused.value.errors
    assert recorded(app) == before
    clock.advance(hours=21)  # 25 hours after opening
    assert app.record_crisis_contact(crisis_id, late, "email", "Sorry for the delay", RM) is False
    crisis = app.get_crisis(crisis_id)
    assert crisis.contacted_customer_ids == (str(affected), str(late))
    assert crisis.first_contact_at == opened + timedelta(hours=3)
    contacts = [e for e in app.events_of(crisis_id) if isinstance(e, CrisisCustomerContacted)]
    assert [(e.first_contact, e.in_time) for e in contacts] == [
        (True, True),
        (False, True),
        (True, False),
    ]
    assert all(e.subject_id is None for e in app.events_of(crisis_id))
    evidence = app.events_of(interaction_log_id(affected))
    logged = {e.interaction_id for e in evidence if isinstance(e, InteractionLogged)}
    assert contacts[0].interaction_id in logged
    assert app.get_interactions(affected).interactions == 2


def test_tailored_advice_is_recorded_with_its_area_topic_and_channel(
    app: LedgerApplication,
) -> None:
    customer_id = individual(app)
    advice_id = app.record_advice(
        customer_id,
        "risk",
        "Bond fund drawdown",
        "Keep to balanced funds",
        RM,
        contact_channel="phone",
    )
    (given,) = [
        e for e in app.events_of(interaction_log_id(customer_id)) if isinstance(e, AdviceGiven)
    ]
    assert (given.advice_id, given.area, given.contact_channel) == (advice_id, "risk", "phone")
    assert given.subject_id == customer_id
    assert EVENT_PERSONAL_FIELDS["domain.interaction:AdviceGiven"] == ("topic", "advice")
    summary = app.get_interactions(customer_id)
    assert (summary.advice_given, summary.last_channel) == (1, "phone")
    before = recorded(app)
    with pytest.raises(ValidationFailed):
        app.record_advice(customer_id, "astrology", "x", "y", RM)
    assert recorded(app) == before


def test_needs_and_interests_are_recorded_as_preferences_and_replaced_as_a_whole(
    app: LedgerApplication,
) -> None:
    customer_id = individual(app)
    assert app.record_preferences(
        customer_id, ["retirement", "education_funding"], ["golf"], RM, notes="Daughter at 16"
    )
    customer = app.get_customer(customer_id)
    assert (customer.needs, customer.interests) == (("retirement", "education_funding"), ("golf",))
    assert customer.preference_notes == "Daughter at 16"
    before = recorded(app)
    assert not app.record_preferences(
        customer_id, ["retirement", "education_funding"], ["golf"], RM, notes="Daughter at 16"
    )
    assert recorded(app) == before  # unchanged: nothing recorded
    assert app.record_preferences(customer_id, ["liquidity"], [], RM)
    assert app.get_customer(customer_id).needs == ("liquidity",)
    assert EVENT_PERSONAL_FIELDS["domain.customer:PreferencesRecorded"] == ("notes",)


@pytest.mark.parametrize(
    ("needs", "interests", "field"),
    [
        (["yachts"], [], "needs"),
        (["retirement", "retirement"], [], "needs"),
        ([], ["Golf Club"], "interests"),
        ([], [f"topic_{n}" for n in range(21)], "interests"),
    ],
)
def test_preferences_outside_the_codes_are_refused_and_record_nothing(
    app: LedgerApplication, needs: list[str], interests: list[str], field: str
) -> None:
    customer_id = individual(app)
    before = recorded(app)
    with pytest.raises(ValidationFailed) as refused:
        app.record_preferences(customer_id, needs, interests, RM)
    assert field in refused.value.errors
    assert recorded(app) == before
