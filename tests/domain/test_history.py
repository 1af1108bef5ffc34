"""History: any aggregate as of any moment, and the changes between two versions."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from domain.application import LedgerApplication
from domain.errors import NotFound, ValidationFailed
from tests.domain.factories import COMPLIANCE, FRONT, RM, START, Clock, individual, recorded

pytestmark = pytest.mark.unit


def _story(app: LedgerApplication, clock: Clock) -> tuple[object, list[datetime]]:
    customer_id = individual(app)  # versions 1..1 at START
    moments = [clock.now]
    clock.advance(days=10)
    app.change_profile(customer_id, "phone", "13900001111", RM, source="customer")
    moments.append(clock.now)
    clock.advance(days=10)
    app.change_profile(
        customer_id, "address", "上海市浦东新区世纪大道100号", FRONT, source="branch"
    )
    moments.append(clock.now)
    return customer_id, moments


def test_customer_as_of_any_moment(app: LedgerApplication, clock: Clock) -> None:
    customer_id, moments = _story(app, clock)
    assert app.customer_as_of(customer_id, moments[0]).phone == "13812345678"
    assert app.customer_as_of(customer_id, moments[1] - timedelta(seconds=1)).phone == "13812345678"
    assert app.customer_as_of(customer_id, moments[1]).phone == "13900001111"
    between = app.customer_as_of(customer_id, moments[1] + timedelta(days=5))
    assert (between.phone, between.address) == ("13900001111", "北京市朝阳区建国路88号")
    assert app.customer_as_of(customer_id, moments[2] + timedelta(days=365)).address.startswith(
        "上海"
    )
    with pytest.raises(NotFound):
        app.customer_as_of(customer_id, START - timedelta(seconds=1))


def test_reading_history_records_nothing(app: LedgerApplication, clock: Clock) -> None:
    customer_id, moments = _story(app, clock)
    before = recorded(app)
    app.customer_as_of(customer_id, moments[1])
    app.changes(customer_id)
    app.timeline(customer_id)
    assert recorded(app) == before


def test_changes_between_two_versions_say_who_when_and_why(
    app: LedgerApplication, clock: Clock
) -> None:
    customer_id, moments = _story(app, clock)
    latest = app.get_customer(customer_id).version
    changes = app.changes(customer_id, latest - 2, latest)
    assert [(c.field, c.version) for c in changes] == [("phone", latest - 1), ("address", latest)]
    phone, address = changes
    assert (phone.old, phone.new, phone.actor_id, phone.role) == (
        "13812345678",
        "13900001111",
        "rm-007",
        "relationship_manager",
    )
    assert (phone.at, phone.source, phone.channel) == (moments[1], "customer", "phone")
    assert (address.actor_id, address.source, address.event) == (
        "fo-001",
        "branch",
        "ProfileFieldChanged",
    )


def test_the_first_version_lists_what_registration_set(app: LedgerApplication) -> None:
    customer_id = individual(app)
    created = app.changes(customer_id, 0, 1)
    fields = {c.field for c in created}
    assert {"kind", "status", "name", "phone", "branch"} <= fields
    assert "legal_holds" not in fields  # unchanged defaults are not changes
    assert all(c.old is None for c in created if c.field == "name")


def test_a_reason_given_by_the_actor_is_kept(app: LedgerApplication) -> None:
    customer_id = individual(app)
    app.place_legal_hold(customer_id, "hold-1", "CBIRC inquiry", COMPLIANCE)
    (hold,) = app.changes(customer_id, 1, app.get_customer(customer_id).version)
    assert (hold.field, hold.new, hold.reason) == (
        "legal_holds",
        ["hold-1"],
        "audit request 2026-17",
    )


def test_bad_version_ranges_and_unknown_ids_are_refused(app: LedgerApplication) -> None:
    customer_id = individual(app)
    with pytest.raises(ValidationFailed):
        app.changes(customer_id, 0, 99)
    with pytest.raises(ValidationFailed):
        app.changes(customer_id, 1, 0)
    with pytest.raises(NotFound):
        app.changes(app.new_id())


def test_the_timeline_lists_every_event_of_any_aggregate(
    app: LedgerApplication, clock: Clock
) -> None:
    customer_id = individual(app)
    case_id = app.receive_feedback(customer_id, "complaint", "fees", "Charged twice", FRONT)
    clock.advance(hours=2)
    app.acknowledge_case(case_id, RM, method="phone")
    timeline = app.timeline(case_id)
    assert [(t.version, t.event, t.actor_id) for t in timeline] == [
        (1, "FeedbackReceived", "fo-001"),
        (2, "Acknowledged", "rm-007"),
    ]
    as_of = app.state_as_of(case_id, clock.now - timedelta(hours=1))
    assert (as_of["type"], as_of["version"], as_of["state"]) == ("FeedbackCase", 1, "received")
    assert app.state_as_of(case_id, datetime(2030, 1, 1, tzinfo=UTC))["state"] == "acknowledged"
