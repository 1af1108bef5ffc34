"""History: any aggregate as of any moment, and the changes between two versions."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from uuid import UUID

import pytest

from domain.application import LedgerApplication
from domain.errors import NotFound, ValidationFailed
from domain.ids import consent_id
from tests.domain.factories import (
    COMPLIANCE,
    FRONT,
    RM,
    START,
    Clock,
    grant_marketing,
    individual,
    recorded,
)

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


# --- a customer's whole timeline, across every stream about it ---------------------------


def _whole_story(app: LedgerApplication, clock: Clock) -> tuple[UUID, UUID, list[datetime]]:
    """A customer with a consent, a complaint and a profile change; another customer's
    consent recorded in between."""
    customer_id = individual(app)
    other = individual(app, name="李四", phone="13700001111")
    moments = [clock.now]
    clock.advance(days=1)
    grant_marketing(app, customer_id)
    grant_marketing(app, other)
    moments.append(clock.now)
    clock.advance(days=1)
    case_id = app.receive_feedback(customer_id, "complaint", "fees", "Charged twice", FRONT)
    moments.append(clock.now)
    clock.advance(days=1)
    app.change_profile(customer_id, "phone", "13900001111", COMPLIANCE, source="customer")
    moments.append(clock.now)
    return customer_id, case_id, moments


def test_the_customer_timeline_lists_every_stream_in_log_order(
    app: LedgerApplication, clock: Clock
) -> None:
    customer_id, case_id, _ = _whole_story(app, clock)
    timeline = app.customer_timeline(customer_id)
    entries = timeline.entries
    streams = {entry.stream for entry in entries}
    assert {"Customer", "Consent", "FeedbackCase"} <= streams
    assert case_id in {entry.stream_id for entry in entries}
    ids = [entry.notification_id for entry in entries]
    assert ids == sorted(ids) and len(set(ids)) == len(ids)
    # every event about the customer, and none about the other one
    every = [e for e in app.events_of(customer_id)]
    assert len([e for e in entries if e.stream_id == customer_id]) == len(every)
    last = entries[-1]
    assert (last.event, last.actor_id, last.role, last.channel, last.reason) == (
        "ProfileFieldChanged",
        "co-003",
        "compliance_officer",
        "console",
        "audit request 2026-17",
    )
    (phone,) = [c for c in last.changes if c.field == "phone"]
    assert (phone.before, phone.after, phone.masking) == ("13812345678", "13900001111", "phone")
    assert timeline.next_after is None


def test_the_customer_timeline_leaves_out_other_customers(
    app: LedgerApplication, clock: Clock
) -> None:
    customer_id, _, _ = _whole_story(app, clock)
    stranger = individual(app, name="赵六", phone="13600001111")
    grant_marketing(app, stranger)
    entries = app.customer_timeline(customer_id).entries
    for entry in entries:
        event = app.events_of(entry.stream_id, to_version=entry.version)[-1]
        assert event.subject_id == customer_id
    streams = {e.stream_id for e in entries}
    assert consent_id(customer_id, "marketing") in streams
    assert not {stranger, consent_id(stranger, "marketing")} & streams


def test_the_customer_timeline_as_of_a_moment_holds_only_what_happened_by_then(
    app: LedgerApplication, clock: Clock
) -> None:
    customer_id, case_id, moments = _whole_story(app, clock)
    then = app.customer_timeline(customer_id, as_of=moments[1])
    assert then.as_of == moments[1]
    assert all(entry.at <= moments[1] for entry in then.entries)
    assert "Consent" in {entry.stream for entry in then.entries}
    assert case_id not in {entry.stream_id for entry in then.entries}
    with pytest.raises(ValidationFailed):
        app.customer_timeline(customer_id, as_of=datetime(2026, 3, 3))


def test_the_customer_timeline_pages_by_cursor(app: LedgerApplication, clock: Clock) -> None:
    customer_id, _, _ = _whole_story(app, clock)
    whole = app.customer_timeline(customer_id).entries
    seen = []
    after = 0
    while True:
        page = app.customer_timeline(customer_id, after=after, limit=2)
        assert len(page.entries) <= 2
        seen.extend(page.entries)
        if page.next_after is None:
            break
        after = page.next_after
    assert seen == whole
    with pytest.raises(ValidationFailed):
        app.customer_timeline(customer_id, limit=0)


def test_the_customer_timeline_needs_a_customer(app: LedgerApplication, clock: Clock) -> None:
    _, case_id, _ = _whole_story(app, clock)
    with pytest.raises(NotFound):
        app.customer_timeline(case_id)
    with pytest.raises(NotFound):
        app.customer_timeline(app.new_id())


def test_reading_the_customer_timeline_records_nothing(
    app: LedgerApplication, clock: Clock
) -> None:
    customer_id, _, _ = _whole_story(app, clock)
    before = recorded(app)
    app.customer_timeline(customer_id)
    assert recorded(app) == before
