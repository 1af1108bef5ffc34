"""Chapter 7, relationship maintenance: greetings within consent, special care, crises."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from domain.application import LedgerApplication
from domain.errors import ConsentRequired, IllegalTransition, ValidationFailed
from tests.domain.factories import COMPLIANCE, FRONT, RM, SYSTEM, Clock, grant_marketing, individual

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
