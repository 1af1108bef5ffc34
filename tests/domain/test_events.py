"""Every event names its subject, carries actor, role, channel, reason and time."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from uuid import UUID

import pytest

from domain.application import LedgerApplication
from domain.calendars import table_calendar
from domain.errors import DomainError, ValidationFailed
from domain.events import LedgerEvent
from tests.domain.factories import (
    COMPLIANCE,
    FRONT,
    RM,
    SYSTEM,
    Clock,
    grant_marketing,
    individual,
    quarter_of_trades,
)

pytestmark = pytest.mark.unit

NO_SUBJECT = {
    "IdentityClaimed",  # one record per person: readable after the holder is erased
    "IdentityReleased",
    "CampaignPlanned",
    "ServiceStandardDefined",
    "MysteryShopRecorded",
    "MeasurementRecorded",
    "StandardBreachRecorded",
    "TrainingCompleted",
    "CrisisOpened",
    "CrisisUpdated",
    "CrisisClosed",
    "PerformanceEvaluated",
    "ImprovementPlanOpened",
    "RecognitionRecorded",
    "JobRunStarted",
    "JobRunCompleted",
    "SecurityAlertRaised",
    "CustomerErased",
}


def _all_events(app: LedgerApplication) -> list[LedgerEvent]:
    events = []
    for notification in app.recorder.select_notifications(1, 10_000):
        events.append(app.mapper.to_domain_event(notification))
    return [e for e in events if isinstance(e, LedgerEvent)]


def _busy_ledger(app: LedgerApplication, clock: Clock) -> UUID:
    from domain.evaluation import KpiInputs

    customer_id = individual(app)
    grant_marketing(app, customer_id)
    app.record_identity_document(customer_id, "passport", "E12345678", date(2030, 1, 1), FRONT)
    app.assign_risk_rating(customer_id, "medium", COMPLIANCE)
    clock.advance(days=100)
    quarter_of_trades(app, customer_id, date(2026, 3, 3), 10, "5000", "q1")
    app.log_interaction(customer_id, "email", "outbound", "marketing", "fund", "offer", RM)
    campaign = app.plan_campaign("seminar", "Tax", date(2026, 7, 1), date(2026, 7, 1), RM)
    app.invite_to_campaign(campaign, customer_id, RM)
    survey = app.send_survey(customer_id, "CSAT", SYSTEM)
    app.answer_survey(survey, 1, SYSTEM, verbatim="Rude staff")
    app.grade_customer(customer_id, "2026Q2", SYSTEM)
    app.assess_values([customer_id], SYSTEM)
    app.define_service_standard(
        "q", "Queue", "wait", Decimal(10), "minutes", COMPLIANCE, step="counter"
    )
    app.record_measurement("q", "BJ-01", Decimal(12), SYSTEM, staff_id="emp-1")
    app.record_training(
        "emp-1", "Queueing", "service", date(2026, 6, 1), Decimal(2), "internal", COMPLIANCE
    )
    app.record_mystery_shop("q", "BJ-01", 80, "ok", SYSTEM)
    crisis = app.open_crisis("Outage", "app", "low", COMPLIANCE)
    app.update_crisis(crisis, "statement", "sorry", COMPLIANCE)
    app.close_crisis(crisis, "fixed", COMPLIANCE)
    app.evaluate_performance("2026-06", "overall", KpiInputs(customers_at_start=1), SYSTEM)
    app.open_improvement_plan("2026-06", "overall", "mgr-1", ["plan"], date(2026, 9, 1), SYSTEM)
    app.recognise_performance("2026-06", "overall", "branch:BJ-01", "kept them", SYSTEM)
    app.start_job_run("churn", "2026-06-10", SYSTEM)
    app.complete_job_run("churn", "2026-06-10", SYSTEM)
    app.raise_security_alert("kek_rotation_due", "info", "KEK older than 90 days", SYSTEM)
    return customer_id


def test_each_event_names_the_customer_it_is_about_or_none(
    app: LedgerApplication, clock: Clock
) -> None:
    customer_id = _busy_ledger(app, clock)
    events = _all_events(app)
    assert len(events) >= 25
    for event in events:
        name = type(event).__name__
        expected = None if name in NO_SUBJECT else customer_id
        assert event.subject_id == expected, name


def test_each_event_carries_actor_role_channel_reason_and_the_clocks_time(
    app: LedgerApplication, clock: Clock
) -> None:
    _busy_ledger(app, clock)
    for event in _all_events(app):
        assert event.actor_id and event.actor_role and event.channel
        assert event.occurred_at == event.timestamp
        assert event.occurred_at.tzinfo is not None
    (risk,) = [e for e in _all_events(app) if type(e).__name__ == "RiskRatingAssigned"]
    assert (risk.actor_id, risk.actor_role, risk.channel, risk.reason) == (
        "co-003",
        "compliance_officer",
        "console",
        "audit request 2026-17",
    )


def test_dates_decimals_and_uuids_survive_storage(app: LedgerApplication) -> None:
    customer_id = individual(app)
    stored = _all_events(app)[0]
    assert stored.date_of_birth == date(1985, 6, 15)  # type: ignore[attr-defined]
    assert stored.registered_on == date(2026, 3, 2)  # type: ignore[attr-defined]
    assert stored.originator_id == customer_id


def test_a_clock_without_a_timezone_is_refused(clock: Clock) -> None:
    from tests.domain.factories import new_app

    app = new_app(lambda: datetime(2026, 1, 1))  # type: ignore[arg-type]
    with pytest.raises(DomainError) as refused:
        individual(app)
    assert refused.value.code == "naive_time"


def test_an_actor_needs_an_id_and_a_known_role() -> None:
    from domain.actor import Actor

    with pytest.raises(ValidationFailed) as refused:
        Actor("", "janitor")
    assert set(refused.value.errors) == {"actor_id", "role"}


def test_the_clock_is_the_only_source_of_time(app: LedgerApplication, clock: Clock) -> None:
    clock.set(datetime(1999, 12, 31, 23, 59, tzinfo=UTC))
    # the risk-rating deadline counts working days of 2000: a calendar that covers it
    app.calendars = replace(app.calendars, cn=table_calendar("CN", {1999, 2000}, ()))
    customer_id = individual(app, date_of_birth=date(1970, 1, 1))
    assert app.get_customer(customer_id).registered_on == date(1999, 12, 31)
    assert app.get_customer(customer_id).created_at == clock.now
    clock.advance(days=1)
    assert app.now() - timedelta(days=1) == app.get_customer(customer_id).created_at
