"""Erasure cannot be forced early, can be withdrawn, and erases a bare prospect at once;
it releases the customer's identity numbers."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

import pytest

from domain.application import LedgerApplication
from domain.calendars import table_calendar
from domain.errors import (
    IllegalTransition,
    NotPermitted,
    ProcessingRestricted,
    RetentionRunning,
    ValidationFailed,
)
from domain.kyc import IdentityDocument
from tests.domain.factories import (
    COMPLIANCE,
    FRONT,
    RM,
    Clock,
    RecordingKeys,
    corporate,
    individual,
    recorded,
)

pytestmark = pytest.mark.unit

DOCUMENT = IdentityDocument("resident_id", "11010519491231002X", date(2036, 1, 1))


def test_a_relationship_end_before_the_registration_is_refused(
    app: LedgerApplication, keys: RecordingKeys
) -> None:
    # the attack: back-date the end to 1990 for a customer registered minutes before
    customer_id = individual(app)
    app.request_erasure(customer_id, FRONT)
    before = recorded(app)
    with pytest.raises(ValidationFailed) as caught:
        app.end_relationship(customer_id, COMPLIANCE, ended_on=date(1990, 1, 1))
    assert "ended_on" in caught.value.errors
    assert recorded(app) == before
    with pytest.raises(RetentionRunning):
        app.erase_customer(customer_id, COMPLIANCE)
    assert keys.shredded == []


def test_a_relationship_end_after_today_is_refused(app: LedgerApplication, clock: Clock) -> None:
    customer_id = individual(app)
    with pytest.raises(ValidationFailed):
        app.end_relationship(customer_id, RM, ended_on=clock.now.date() + timedelta(days=1))
    assert app.end_relationship(customer_id, RM, ended_on=clock.now.date()) == date(2036, 3, 2)


def test_changing_the_relationship_end_needs_a_reason_keeps_the_bounds_and_is_recorded(
    app: LedgerApplication, clock: Clock
) -> None:
    customer_id = individual(app)
    clock.advance(days=30)
    app.end_relationship(customer_id, RM)
    with pytest.raises(ValidationFailed):
        app.change_relationship_end(customer_id, date(2026, 3, 10), "", COMPLIANCE)
    with pytest.raises(ValidationFailed):
        app.change_relationship_end(customer_id, date(1990, 1, 1), "typo", COMPLIANCE)
    with pytest.raises(NotPermitted):
        app.change_relationship_end(customer_id, date(2026, 3, 10), "typo", FRONT)
    until = app.change_relationship_end(
        customer_id, date(2026, 3, 10), "closing letter dated 10 March", COMPLIANCE
    )
    assert until == date(2036, 3, 10)
    view = app.get_customer(customer_id)
    assert view.relationship_ended_on == date(2026, 3, 10)
    changed = app.events_of(customer_id)[-1]
    assert type(changed).__name__ == "RelationshipEndChanged"
    assert changed.reason == "closing letter dated 10 March"
    assert changed.previous_ended_on == date(2026, 4, 1)


def test_only_an_ended_relationship_can_have_its_end_changed(app: LedgerApplication) -> None:
    customer_id = individual(app)
    with pytest.raises(IllegalTransition):
        app.change_relationship_end(customer_id, date(2026, 3, 2), "why", COMPLIANCE)


def test_compliance_can_withdraw_an_erasure_request_with_a_reason(
    app: LedgerApplication,
) -> None:
    customer_id = individual(app)
    app.request_erasure(customer_id, FRONT)
    with pytest.raises(ProcessingRestricted):
        app.classify_customer(customer_id, RM)
    with pytest.raises(NotPermitted):
        app.withdraw_erasure_request(customer_id, "customer changed mind", FRONT)
    with pytest.raises(ValidationFailed):
        app.withdraw_erasure_request(customer_id, " ", COMPLIANCE)
    app.withdraw_erasure_request(customer_id, "filed by mistake (ticket 88)", COMPLIANCE)
    view = app.get_customer(customer_id)
    assert not view.processing_restricted and view.erasure_requested_on is None
    app.classify_customer(customer_id, RM)  # processing is back
    withdrawn = [e for e in app.events_of(customer_id) if "Withdrawn" in type(e).__name__]
    assert withdrawn[0].reason == "filed by mistake (ticket 88)"
    with pytest.raises(IllegalTransition):
        app.withdraw_erasure_request(customer_id, "again", COMPLIANCE)
    assert app.request_erasure(customer_id, FRONT) == "restrict"  # may be asked again


def test_a_prospect_never_onboarded_is_erased_on_request_at_once(
    app: LedgerApplication, keys: RecordingKeys
) -> None:
    prospect = individual(app, status="prospect", account_number=None)
    assert app.request_erasure(prospect, FRONT) == "erased"
    assert keys.shredded == [prospect]
    assert type(app.events_of(prospect)[-1]).__name__ == "CustomerErased"


def test_a_prospect_with_an_account_or_an_onboarded_customer_is_only_restricted(
    app: LedgerApplication, keys: RecordingKeys
) -> None:
    with_account = individual(app, status="prospect", account_number="6222020200112233")
    assert app.request_erasure(with_account, FRONT) == "restrict"
    onboarded = individual(app, status="prospect")
    app.activate_customer(onboarded, RM)
    assert app.request_erasure(onboarded, FRONT) == "restrict"
    held = individual(app, status="prospect")
    app.place_legal_hold(held, "court-1", "court", COMPLIANCE)
    assert app.request_erasure(held, FRONT) == "blocked_by_hold"
    assert keys.shredded == []


def test_erasure_releases_the_identity_numbers_for_a_new_registration(
    app: LedgerApplication, clock: Clock, keys: RecordingKeys
) -> None:
    fields = {"name": "王芳", "branch": "BJ-01"}
    first = app.register_customer("individual", fields, FRONT, id_document=DOCUMENT)
    company = corporate(app)
    for customer_id in (first, company):
        app.request_erasure(customer_id, FRONT)
        app.end_relationship(customer_id, RM)
    clock.set(datetime(2036, 3, 2, 9, tzinfo=UTC))
    # registering in 2036 counts CN working days of 2036: a calendar that covers it
    app.calendars = replace(app.calendars, cn=table_calendar("CN", {2036}, ()))
    app.erase_customer(first, COMPLIANCE)
    app.erase_customer(company, COMPLIANCE)
    renewed = IdentityDocument(DOCUMENT.doc_type, DOCUMENT.number, date(2046, 1, 1))
    again = app.register_customer("individual", fields, FRONT, id_document=renewed)
    assert again != first
    assert corporate(app) != company
