"""Chapter 8, performance evaluation; and the job-run records the scheduler relies on."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest

from domain.application import LedgerApplication
from domain.errors import IllegalTransition, NotFound, ValidationFailed
from domain.evaluation import ImprovementPlanOpened, KpiInputs, RecognitionRecorded
from domain.ids import job_run_id
from domain.settings import RuleSettings, SettingsError
from tests.domain.factories import COMPLIANCE, SYSTEM, Clock, new_app, recorded

pytestmark = pytest.mark.unit

INPUTS = KpiInputs(
    customers_at_start=200,
    customers_at_end=210,
    new_customers=20,
    lost_customers=10,
    loyal_customers=105,
    values_start={"a": Decimal(100), "b": Decimal(300), "gone": Decimal(50)},
    values_end={"a": Decimal(150), "b": Decimal(350), "new": Decimal(10)},
    csat_scores=[5, 4, 4, 2, 3],
    nps_scores=[10, 9, 8, 6, 0],
    cases=40,
    resolved=30,
    resolved_in_time=27,
    resolved_first_contact=12,
)


def test_every_kpi_is_recorded_with_its_formula_version_and_inputs(
    app: LedgerApplication,
) -> None:
    view = app.evaluate_performance("2026-03", "branch:BJ-01", INPUTS, SYSTEM)
    assert view.metrics == {
        "csat": Decimal("0.6000"),  # 3 of 5 answers are 4 or 5
        "nps": Decimal("0.00"),  # 40 % promoters minus 40 % detractors
        "loyalty": Decimal("0.5000"),
        "churn_rate": Decimal("0.0500"),
        "retention_rate": Decimal("0.9500"),
        "value_uplift": Decimal("0.2500"),  # (500 - 400) / 400 over customers in both
        "complaint_sla": Decimal("0.9000"),
        "first_contact_resolution": Decimal("0.3000"),
    }
    assert view.formula_version.startswith("kpis/2")
    assert view.inputs["value_customers_in_both"] == 2
    assert view.inputs["nps_distribution"] == {"0": 1, "6": 1, "8": 1, "9": 1, "10": 1}
    (event,) = app.events_of(view.id)
    assert event.subject_id is None


def test_evaluating_the_same_period_again_records_nothing_new(app: LedgerApplication) -> None:
    app.evaluate_performance("2026Q1", "overall", INPUTS, SYSTEM)
    before = recorded(app)
    app.evaluate_performance("2026Q1", "overall", INPUTS, SYSTEM)
    assert recorded(app) == before


def test_a_job_period_runs_once(app: LedgerApplication) -> None:
    assert app.start_job_run("performance", "2026-03", SYSTEM)
    assert not app.start_job_run("performance", "2026-03", SYSTEM)  # still running
    app.complete_job_run("performance", "2026-03", SYSTEM, summary={"scopes": 12})
    assert not app.start_job_run("performance", "2026-03", SYSTEM)
    run = app.get_job_run("performance", "2026-03")
    assert run is not None
    assert (run.state, run.attempt, run.summary) == ("completed", 1, {"scopes": 12})
    assert run.id == job_run_id("performance", "2026-03")
    assert app.get_job_run("performance", "2026-04") is None


def test_a_failed_or_abandoned_run_can_start_again(app: LedgerApplication, clock: Clock) -> None:
    assert app.start_job_run("retention", "2026-03-02", SYSTEM)
    app.fail_job_run("retention", "2026-03-02", "store unavailable", SYSTEM)
    assert app.start_job_run("retention", "2026-03-02", SYSTEM, lease=timedelta(minutes=10))
    clock.advance(minutes=11)  # the process died: the lease ran out
    assert app.start_job_run("retention", "2026-03-02", SYSTEM)
    run = app.get_job_run("retention", "2026-03-02")
    assert run is not None and (run.state, run.attempt) == ("started", 3)
    app.complete_job_run("retention", "2026-03-02", SYSTEM)
    with pytest.raises(IllegalTransition):
        app.complete_job_run("retention", "2026-03-02", SYSTEM)


def test_security_alerts_are_recorded_without_a_subject(app: LedgerApplication) -> None:
    alert_id = app.raise_security_alert(
        "unusual_reads", "warning", "actor fo-001 read 420 subjects in one hour", SYSTEM
    )
    alert = app.get_alert(alert_id)
    assert (alert.kind, alert.severity) == ("unusual_reads", "warning")
    assert app.events_of(alert_id)[0].subject_id is None
    with pytest.raises(ValidationFailed):
        app.raise_security_alert("weather", "warning", "rain", SYSTEM)


def test_the_nps_kpi_follows_configured_promoter_and_detractor_bands() -> None:
    from dataclasses import replace

    from domain.evaluation import KpiInputs, evaluate_kpis
    from domain.settings import RuleSettings

    inputs = KpiInputs(nps_scores=(8, 8, 10, 3))
    default, _ = evaluate_kpis(inputs, RuleSettings())
    wider = replace(RuleSettings(), nps_promoter_min=8, nps_detractor_max=5)
    configured, _ = evaluate_kpis(inputs, wider)
    assert default["nps"] == 0  # one promoter, one detractor of four
    assert configured["nps"] == 50  # three promoters, one detractor


def test_an_improvement_plan_answers_the_kpis_below_target_and_links_the_evaluation(
    app: LedgerApplication,
) -> None:
    evaluated = app.evaluate_performance("2026-03", "branch:BJ-01", INPUTS, SYSTEM)
    actions = ["Call-back within a day", "Coach tellers on first-contact resolution"]
    view = app.open_improvement_plan(
        "2026-03", "branch:BJ-01", "mgr-bj-01", actions, date(2026, 6, 30), COMPLIANCE
    )
    assert (view.improvement_plans, view.recognitions) == (1, 0)
    plan = app.events_of(view.id)[-1]
    assert isinstance(plan, ImprovementPlanOpened)
    assert sorted(plan.shortfalls) == ["complaint_sla", "csat", "first_contact_resolution", "nps"]
    assert plan.shortfalls["csat"] == {"value": Decimal("0.6000"), "target": Decimal("0.80")}
    assert plan.evaluated_version == evaluated.version == 1
    assert (plan.actions, plan.due_on, plan.rule_version) == (
        actions,
        date(2026, 6, 30),
        "kpi_targets/1",
    )
    assert plan.subject_id is None


def test_a_recognition_names_the_kpis_on_target_churn_counting_lower_as_better(
    app: LedgerApplication,
) -> None:
    app.evaluate_performance("2026-03", "overall", INPUTS, SYSTEM)
    view = app.recognise_performance(
        "2026-03", "overall", "branch:BJ-01", "Retention above target", COMPLIANCE
    )
    recognition = app.events_of(view.id)[-1]
    assert isinstance(recognition, RecognitionRecorded)
    # churn 5 % is exactly on its 5 % ceiling: met
    assert sorted(recognition.achievements) == [
        "churn_rate",
        "loyalty",
        "retention_rate",
        "value_uplift",
    ]
    assert view.recognitions == 1


def test_a_plan_with_every_kpi_on_target_is_refused_and_records_nothing(clock: Clock) -> None:
    easy = new_app(clock, settings=RuleSettings(
        kpi_target_csat=Decimal("0.5"), kpi_target_nps=Decimal(-10),
        kpi_target_complaint_sla=Decimal("0.9"), kpi_target_first_contact_resolution=Decimal("0.3"),
    ))  # fmt: skip
    try:
        easy.evaluate_performance("2026-03", "overall", INPUTS, SYSTEM)
        before = recorded(easy)
        with pytest.raises(IllegalTransition, match="below target"):
            easy.open_improvement_plan(
                "2026-03", "overall", "mgr", ["x"], date(2026, 6, 1), COMPLIANCE
            )
        assert recorded(easy) == before
    finally:
        easy.close()


def test_a_plan_needs_an_evaluation_an_owner_and_actions(app: LedgerApplication) -> None:
    with pytest.raises(NotFound):
        app.open_improvement_plan("2026-03", "overall", "mgr", ["x"], date(2026, 6, 1), COMPLIANCE)
    app.evaluate_performance("2026-03", "overall", INPUTS, SYSTEM)
    with pytest.raises(ValidationFailed) as refused:
        app.open_improvement_plan("2026-03", "overall", " ", [], date(2026, 6, 1), COMPLIANCE)
    assert set(refused.value.errors) == {"owner", "actions"}


def test_a_kpi_target_out_of_range_is_refused() -> None:
    with pytest.raises(SettingsError, match="kpi_target_csat"):
        RuleSettings(kpi_target_csat=Decimal("80"))
    with pytest.raises(SettingsError, match="kpi_target_nps"):
        RuleSettings(kpi_target_nps=Decimal("101"))
