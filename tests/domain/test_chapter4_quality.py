"""Chapter 4, service quality: standards, monitoring records and improvement actions."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from domain.application import LedgerApplication
from domain.errors import NotFound
from tests.domain.factories import COMPLIANCE, FRONT, SYSTEM, individual

pytestmark = pytest.mark.unit


def test_a_standard_is_monitored_breached_and_improved(app: LedgerApplication) -> None:
    app.define_service_standard(
        "ack-24h",
        "Acknowledge complaints within 24 hours",
        "ack_delay",
        Decimal(24),
        "hours",
        COMPLIANCE,
    )
    app.record_mystery_shop(
        "ack-24h", "BJ-01", 72, "Greeting slow; no queue ticket", SYSTEM, staff_id="emp-118"
    )
    app.complete_quality_audit("ack-24h", "BJ-01", 88, "Logs complete", COMPLIANCE)
    customer_id = individual(app)
    case_id = app.receive_feedback(customer_id, "complaint", "service", "Nobody called", FRONT)
    app.record_standard_breach(
        "ack-24h", "BJ-01", Decimal(49), "Acknowledged after 49 hours", COMPLIANCE, case_id=case_id
    )
    app.record_improvement_action(
        "ack-24h",
        "Auto-acknowledge by SMS on intake",
        "ops-lead",
        COMPLIANCE,
        due_on=date(2026, 4, 30),
        branch="BJ-01",
    )
    view = app.get_service_standard("ack-24h")
    assert (view.mystery_shops, view.audits, view.breaches, view.improvement_actions) == (
        1,
        1,
        1,
        1,
    )
    assert view.target == Decimal(24)
    # Quality records name no customer: they stay readable after any erasure.
    assert all(e.subject_id is None for e in app.events_of(view.id))


def test_redefining_a_standard_records_the_new_target_once(app: LedgerApplication) -> None:
    first = app.define_service_standard(
        "queue", "Queue wait", "wait", Decimal(15), "minutes", COMPLIANCE
    )
    again = app.define_service_standard(
        "queue", "Queue wait", "wait", Decimal(10), "minutes", COMPLIANCE
    )
    app.define_service_standard("queue", "Queue wait", "wait", Decimal(10), "minutes", COMPLIANCE)
    assert first == again
    assert len(app.events_of(first)) == 2
    assert app.get_service_standard("queue").target == Decimal(10)


def test_monitoring_an_undefined_standard_is_not_found(app: LedgerApplication) -> None:
    with pytest.raises(NotFound):
        app.record_mystery_shop("nope", "BJ-01", 50, "n/a", SYSTEM)
