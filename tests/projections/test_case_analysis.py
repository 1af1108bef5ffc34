"""The complaint analysis (policy 1.2): cases by product, channel and category, and root
causes, per month; deadlines told and final-stage escalations in the queue; both stores."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from domain.errors import ValidationFailed
from projections.runtime import ReadModels
from security.bootstrap import Ledger
from tests.domain.factories import FRONT, RM, SYSTEM, Clock, individual, legacy_uk_complaint

pytestmark = pytest.mark.integration


def test_complaints_are_counted_by_product_channel_and_root_cause_per_month(
    ledger: Ledger, clock: Clock, models: ReadModels
) -> None:
    app = ledger.app
    customer = individual(app)
    card = app.receive_feedback(
        customer, "complaint", "product", "Card", FRONT, source="phone", product="credit_card"
    )
    app.receive_feedback(
        customer, "complaint", "fees", "Fee", FRONT, source="online_chat", product="credit_card"
    )
    app.receive_feedback(customer, "complaint", "service", "Queue", FRONT, source="phone")
    app.receive_feedback(customer, "enquiry", "fees", "Fee?", FRONT, source="phone")
    app.acknowledge_case(card, RM, progress="Looking into it")
    app.start_investigation(card, RM)
    clock.set(datetime(2026, 4, 2, 9, 0, tzinfo=UTC))
    app.resolve_case(card, "Reissued", "system", RM, first_contact=True)
    models.catch_up()

    march, april, may = models.cases.case_analysis("2026-03", "2026-05")
    assert (march["period"], march["received"], march["resolved"]) == ("2026-03", 3, 0)
    assert march["by_product"] == {"credit_card": 2, "none": 1}
    assert march["by_channel"] == {"phone": 2, "online_chat": 1}
    assert march["by_category"] == {"product": 1, "fees": 1, "service": 1}
    assert march["root_causes"] == {}
    assert (april["received"], april["resolved"], april["root_causes"]) == (0, 1, {"system": 1})
    assert (april["in_time"], april["first_contact"]) == (0, 1)  # due on 17 March
    assert may["received"] == may["resolved"] == 0
    (enquiries,) = models.cases.case_analysis("2026-03", "2026-03", kind="enquiry")
    assert enquiries["by_channel"] == {"phone": 1}
    (elsewhere,) = models.cases.case_analysis("2026-03", "2026-03", branch="nowhere")
    assert elsewhere["received"] == 0


def test_an_analysis_period_that_runs_backwards_is_refused(models: ReadModels) -> None:
    with pytest.raises(ValidationFailed):
        models.cases.case_analysis("2026-05", "2026-03")


def test_the_queue_shows_the_deadline_told_and_the_final_stage_escalation(
    ledger: Ledger, clock: Clock, models: ReadModels
) -> None:
    app = ledger.app
    case_id = app.receive_feedback(
        individual(app), "complaint", "product", "Mis-sold", FRONT, rule_set="US", product="fund"
    )
    app.acknowledge_case(case_id, RM, progress="Received")
    clock.advance(days=50)
    app.check_case_escalation(case_id, SYSTEM)
    models.catch_up()
    (row,) = models.cases.complaint_queue().items
    case = app.get_case(case_id)
    assert row["acknowledged_due_at"] == case.due_at.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    # Acknowledged within 15 days: the US response stage was met; day 50 of 60 is 80 %
    # of the final stage, not overdue, and the time left counts to the final response.
    assert (row["escalation_level"], row["final_escalation_level"]) == (0, 1)
    assert row["overdue"] is False
    assert row["seconds_left"] == (case.final_due_at - clock.now).total_seconds()
    assert models.cases.complaint_queue(overdue=True).total == 0
    assert row["product"] == "fund"


def test_the_queue_holds_uk_cases_to_their_final_response_not_the_summary_window(
    ledger: Ledger, clock: Clock, models: ReadModels
) -> None:
    app = ledger.app
    customer_id = individual(app)
    legacy = legacy_uk_complaint(app, customer_id, clock.now)
    current = app.receive_feedback(customer_id, "complaint", "fees", "Fee", FRONT, rule_set="UK")
    clock.advance(days=10)  # past both summary windows, unanswered
    models.catch_up()
    assert models.cases.complaint_queue(overdue=True).total == 0
    rows = {row["case_id"]: row for row in models.cases.complaint_queue().items}
    for case_id in (legacy, current):
        assert rows[str(case_id)]["overdue"] is False
    eight_weeks_left = (timedelta(weeks=8) - timedelta(days=10)).total_seconds()
    assert rows[str(legacy)]["seconds_left"] == eight_weeks_left
    clock.advance(weeks=8)
    assert models.cases.complaint_queue(overdue=True).total == 2
