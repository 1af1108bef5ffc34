"""Complaint SLA every 15 minutes: escalation at 80 % of the deadline and at breach, once each."""

from __future__ import annotations

from typing import Any

import pytest

from domain.feedback import Escalated
from scheduler.runner import JobRunner
from tests.domain.factories import FRONT, RM, Clock, individual

pytestmark = pytest.mark.integration


def escalations(app: Any, case_id: Any) -> list[int]:
    return [e.level for e in app.events_of(case_id) if isinstance(e, Escalated)]


def test_complaints_escalate_at_80_percent_and_at_breach_once_each(
    sqlite_runner: JobRunner, app: Any, clock: Clock
) -> None:
    customer = individual(app)
    late = app.receive_feedback(customer, "complaint", "service", "Long queue", FRONT)
    resolved = app.receive_feedback(customer, "complaint", "fees", "Wrong fee", FRONT)
    app.acknowledge_case(resolved, RM)
    app.start_investigation(resolved, RM)
    app.resolve_case(resolved, "Refunded", "system", RM)
    app.receive_feedback(customer, "suggestion", "digital_channel", "Dark mode", FRONT)

    clock.advance(days=11, hours=23, minutes=50)  # just under 80 % of 15 days
    assert sqlite_runner.run("complaint_sla").summary.get("cases_escalated_80pct") is None
    clock.advance(minutes=15)
    outcome = sqlite_runner.run("complaint_sla")
    assert outcome.summary["cases_escalated_80pct"] == 1
    clock.advance(minutes=15)
    assert "cases_escalated_80pct" not in sqlite_runner.run("complaint_sla").summary
    clock.advance(days=3)
    assert sqlite_runner.run("complaint_sla").summary["cases_escalated_breach"] == 1
    clock.advance(minutes=15)
    sqlite_runner.run("complaint_sla")
    assert escalations(app, late) == [1, 2]
    assert escalations(app, resolved) == []


def test_a_complaint_found_already_past_its_deadline_escalates_straight_to_breach(
    sqlite_runner: JobRunner, app: Any, clock: Clock
) -> None:
    case_id = app.receive_feedback(individual(app), "complaint", "service", "Rude", FRONT)
    clock.advance(days=16)
    sqlite_runner.run("complaint_sla")
    assert escalations(app, case_id) == [2]
    assert sqlite_runner.run("complaint_sla").state == "skipped"  # same 15 minutes
    clock.advance(minutes=15)
    sqlite_runner.run("complaint_sla")
    assert escalations(app, case_id) == [2]


def test_enquiries_uk_and_us_cases_escalate_on_their_binding_deadlines_in_the_job(
    runner: JobRunner, clock: Clock
) -> None:
    app = runner.ledger.app
    customer = individual(app)
    enquiry = app.receive_feedback(customer, "enquiry", "fees", "Fee?", FRONT)
    uk = app.receive_feedback(customer, "complaint", "product", "Mis-sold", FRONT, rule_set="UK")
    us = app.receive_feedback(customer, "complaint", "fees", "Fee", FRONT, rule_set="US")
    app.acknowledge_case(us, RM, progress="In progress")
    clock.advance(days=16)
    outcome = runner.run("complaint_sla")
    assert outcome.summary["cases_escalated_breach"] == 1  # the enquiry: 5 days allowed
    assert not any(key.startswith("complaints_") for key in outcome.summary)
    assert escalations(app, enquiry) == [2]
    assert escalations(app, uk) == []  # past the 3-business-day window: no breach
    assert escalations(app, us) == []  # answered within its 15 days
    clock.advance(days=29)  # day 45 of 56: past 80 % of the UK 8 weeks
    outcome = runner.run("complaint_sla")
    assert outcome.summary["cases_escalated_80pct"] == 1
    assert escalations(app, uk) == [1]
    clock.advance(days=3)  # day 48: 80 % of the US 60 days
    assert runner.run("complaint_sla").summary["cases_escalated_final_80pct"] == 1
    clock.advance(days=8)  # day 56
    assert runner.run("complaint_sla").summary["cases_escalated_breach"] == 1
    clock.advance(days=4)  # day 60
    assert runner.run("complaint_sla").summary["cases_escalated_final_breach"] == 1
    stages = [(e.stage, e.level) for e in app.events_of(us) if isinstance(e, Escalated)]
    assert stages == [("final", 1), ("final", 2)]
    assert [(e.stage, e.level) for e in app.events_of(uk) if isinstance(e, Escalated)] == [
        ("response", 1),
        ("response", 2),
    ]
