"""What each view answers: watch-lists, the consent register, KPIs, on both stores."""

from __future__ import annotations

import pytest

from domain.evaluation import KpiInputs
from projections.runtime import ReadModels
from security.bootstrap import Ledger
from tests.domain.factories import FRONT, RM, SYSTEM, Clock
from tests.projections.world import populate

pytestmark = pytest.mark.integration


def test_the_reverification_list_holds_pending_ratings_and_reviews_by_due_date(
    ledger: Ledger, clock: Clock, models: ReadModels
) -> None:
    world = populate(ledger.app, clock)
    models.catch_up()
    soon = models.customers.reverification_due(within_days=30).items
    assert {c["customer_id"] for c in soon} == {str(world.plain), str(world.corporate)}
    assert {(c["review_state"], c["due_on"], c["days_left"]) for c in soon} == {
        ("pending_rating", "2026-03-16", 14)
    }
    within_a_year = models.customers.reverification_due(within_days=365).items
    assert within_a_year[-1]["customer_id"] == str(world.elder)
    assert within_a_year[-1]["due_on"] == "2026-09-02"  # high risk: every 6 months
    assert models.customers.reverification_due(risk_level="high", within_days=365).total == 1


def test_the_churn_watch_list_shows_the_signals_and_what_was_done(
    ledger: Ledger, clock: Clock, models: ReadModels
) -> None:
    app = ledger.app
    world = populate(app, clock)
    assert app.scan_churn(world.plain, SYSTEM, latest_nps=2) == ["nps_detractor"]
    app.take_retention_action(world.plain, "call", "called back", RM)
    models.catch_up()
    (watched,) = models.customers.churn_watch().items
    assert watched["customer_id"] == str(world.plain)
    assert (watched["signals"], watched["retention_actions"]) == (["nps_detractor"], 1)
    assert watched["status"] == "at_risk"
    assert models.customers.churn_watch(signal="nps_detractor").total == 1
    assert models.customers.churn_watch(signal="inactive_180d").total == 0
    assert models.customers.customer_360(str(world.plain))["churn"]["state"] == "at_risk"


def test_the_special_care_list_puts_the_follow_up_most_due_first(
    ledger: Ledger, clock: Clock, models: ReadModels
) -> None:
    app = ledger.app
    world = populate(app, clock)
    models.catch_up()
    (never_visited,) = models.customers.special_care(due_only=True).items
    assert (never_visited["customer_id"], never_visited["next_due_on"]) == (str(world.elder), None)
    app.record_care_visit(world.elder, "home_visit", "tea and paperwork", RM)
    models.catch_up()
    assert models.customers.special_care(due_only=True).total == 0
    (visited,) = models.customers.special_care(reason="elderly").items
    assert (visited["last_visit_on"], visited["days_left"]) == ("2026-03-02", 90)
    assert models.customers.special_care(reason="disabled").total == 0
    assert models.customers.customer_360(str(world.elder))["last_interactions"][0]["kind"] == (
        "care_visit"
    )


def test_the_consent_register_keeps_the_current_record_and_its_evidence_reference(
    ledger: Ledger, clock: Clock, models: ReadModels
) -> None:
    app = ledger.app
    world = populate(app, clock)
    clock.advance(hours=1)
    app.withdraw_consent(world.elder, "greetings", FRONT, method="recorded_call")
    models.catch_up()
    live = models.cases.consent_register(customer_id=str(world.elder), live=True).items
    assert [c["purpose"] for c in live] == ["marketing"]
    (withdrawn,) = models.cases.consent_register(state="withdrawn").items
    assert (withdrawn["purpose"], withdrawn["live"], withdrawn["method"]) == (
        "greetings",
        False,
        "written",
    )
    assert withdrawn["evidence_ref"].endswith("@v2")  # the withdrawal event
    assert withdrawn["withdrawn_at"] is not None
    assert models.cases.consent_register(purpose="marketing").total == 1


def test_kpi_tables_count_per_period_branch_and_staff_member(
    ledger: Ledger, clock: Clock, models: ReadModels
) -> None:
    app = ledger.app
    world = populate(app, clock)
    clock.advance(days=2)
    app.resolve_case(world.complaint, "refunded", "process", RM, first_contact=True)
    app.evaluate_performance(
        "2026-03", "overall", KpiInputs(cases=1, resolved=1, resolved_in_time=1), SYSTEM
    )
    models.catch_up()
    (overall,) = models.kpis.kpi_table("2026-03", "2026-03")
    assert (overall["new_customers"], overall["cases_received"]) == (3, 2)
    assert (overall["complaints_resolved"], overall["complaint_sla"]) == (1, "1.0000")
    assert overall["first_contact_resolution"] == "1.0000"
    assert overall["csat"] == "1.0000" and overall["nps"] is None
    staff = {r["staff"]: r for r in models.kpis.kpi_table("2026-03", "2026-03", by="staff")}
    assert staff["rm-007"]["complaints_resolved"] == 1
    by_branch = models.kpis.kpi_table("2026-02", "2026-04", by="branch", branch="SH-02")
    assert [(r["period"], r["customers_at_end"]) for r in by_branch] == [
        ("2026-02", 0),
        ("2026-03", 2),
        ("2026-04", 2),
    ]
    assert by_branch[2]["retention_rate"] == "1.0000"
    inputs = models.kpis.kpi_inputs("2026-03")
    assert (inputs.customers_at_end, inputs.resolved, inputs.csat_scores) == (3, 1, (5,))
    (recorded,) = models.kpis.evaluations(period="2026-03")
    assert recorded["scope"] == "overall" and recorded["metrics"]["complaint_sla"] == "1.0000"
