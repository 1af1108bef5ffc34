"""Chapter 4, service quality: standards, monitoring records and improvement actions."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from functools import partial

import pytest

from domain.application import LedgerApplication
from domain.errors import NotFound, ValidationFailed
from domain.quality import MeasurementRecorded, ServiceStandardDefined, StandardBreachRecorded
from domain.rules.quality import STANDARD_BREACH_VERSION
from domain.settings import RuleSettings
from domain.training import TrainingCompleted
from tests.domain.factories import COMPLIANCE, FRONT, SYSTEM, Clock, individual, new_app

pytestmark = pytest.mark.unit


def test_a_standard_is_monitored_breached_and_improved(app: LedgerApplication) -> None:
    app.define_service_standard(
        "ack-24h",
        "Acknowledge complaints within 24 hours",
        "ack_delay",
        Decimal(24),
        "hours",
        COMPLIANCE,
        step="complaint_handling",
        duty="complaint_handler",
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
    define = partial(app.define_service_standard, "queue", "Queue wait", "wait")
    first = define(Decimal(15), "minutes", COMPLIANCE, step="counter")
    again = define(Decimal(10), "minutes", COMPLIANCE, step="counter")
    define(Decimal(10), "minutes", COMPLIANCE, step="counter")
    assert first == again
    assert len(app.events_of(first)) == 2
    assert app.get_service_standard("queue").target == Decimal(10)


def test_monitoring_an_undefined_standard_is_not_found(app: LedgerApplication) -> None:
    with pytest.raises(NotFound):
        app.record_mystery_shop("nope", "BJ-01", 50, "n/a", SYSTEM)


def _counter_standard(app: LedgerApplication) -> None:
    app.define_service_standard(
        "queue-15m",
        "Counter queue under 15 minutes",
        "queue_wait",
        Decimal(15),
        "minutes",
        COMPLIANCE,
        step="counter",
        duty="teller",
    )


def test_a_standard_names_its_service_step_and_responsible_duty(app: LedgerApplication) -> None:
    _counter_standard(app)
    view = app.get_service_standard("queue-15m")
    assert (view.step, view.duty) == ("counter", "teller")
    (defined,) = app.events_of(view.id)
    assert isinstance(defined, ServiceStandardDefined) and defined.step == "counter"


def test_changing_only_the_duty_is_a_new_definition(app: LedgerApplication) -> None:
    _counter_standard(app)
    define = partial(app.define_service_standard, "queue-15m", "Counter queue under 15 minutes")
    standard_id = define("queue_wait", Decimal(15), "minutes", COMPLIANCE, step="counter")
    assert app.get_service_standard("queue-15m").duty is None
    assert len(app.events_of(standard_id)) == 2


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"step": "lobby"}, "step"),
        ({"step": "counter", "duty": "cleaner"}, "duty"),
    ],
)
def test_an_unknown_step_or_duty_is_refused_and_records_nothing(
    app: LedgerApplication, fields: dict[str, str], field: str
) -> None:
    with pytest.raises(ValidationFailed) as refused:
        app.define_service_standard("x", "X", "m", Decimal(1), "minutes", COMPLIANCE, **fields)
    assert field in refused.value.errors
    with pytest.raises(NotFound):
        app.get_service_standard("x")


def test_a_measurement_past_a_time_target_records_a_breach_with_it(
    app: LedgerApplication,
) -> None:
    _counter_standard(app)
    assert app.record_measurement("queue-15m", "BJ-01", Decimal(15), SYSTEM) is False
    assert app.record_measurement("queue-15m", "BJ-01", Decimal("15.5"), SYSTEM, staff_id="t-7")
    view = app.get_service_standard("queue-15m")
    assert (view.measurements, view.breaches) == (2, 1)
    events = app.events_of(view.id)
    measured = [e for e in events if isinstance(e, MeasurementRecorded)]
    assert [(m.breached, m.target, m.rule_version) for m in measured] == [
        (False, Decimal(15), STANDARD_BREACH_VERSION),
        (True, Decimal(15), STANDARD_BREACH_VERSION),
    ]
    (breach,) = [e for e in events if isinstance(e, StandardBreachRecorded)]
    assert (breach.measured, breach.staff_id) == (Decimal("15.5"), "t-7")


def test_a_score_short_of_its_target_is_a_breach(app: LedgerApplication) -> None:
    app.define_service_standard(
        "nps-floor", "Branch NPS at least 40", "nps", Decimal(40), "score", COMPLIANCE,
        step="counter", duty="branch_manager",
    )  # fmt: skip
    assert app.record_measurement("nps-floor", "BJ-01", Decimal(39), SYSTEM) is True
    assert app.record_measurement("nps-floor", "BJ-01", Decimal(41), SYSTEM) is False


def test_the_breach_tolerance_is_configurable(clock: Clock) -> None:
    lenient = new_app(clock, settings=RuleSettings(standard_breach_tolerance=Decimal("0.1")))
    try:
        _counter_standard(lenient)
        assert lenient.record_measurement("queue-15m", "BJ-01", Decimal("16.5"), SYSTEM) is False
        assert lenient.record_measurement("queue-15m", "BJ-01", Decimal("16.6"), SYSTEM) is True
    finally:
        lenient.close()


def test_a_negative_measurement_is_refused_and_records_nothing(app: LedgerApplication) -> None:
    _counter_standard(app)
    with pytest.raises(ValidationFailed):
        app.record_measurement("queue-15m", "BJ-01", Decimal(-1), SYSTEM)
    assert app.get_service_standard("queue-15m").measurements == 0


def test_staff_training_is_recorded_against_the_finding_it_answers(
    app: LedgerApplication,
) -> None:
    _counter_standard(app)
    first = app.record_training(
        "emp-118", "Queue management", "service quality", date(2026, 3, 2), Decimal("3.5"),
        "internal", COMPLIANCE, standard_code="queue-15m",
    )  # fmt: skip
    again = app.record_training(
        "emp-118", "AML refresher", "compliance", date(2026, 3, 9), Decimal(2), "external",
        COMPLIANCE,
    )  # fmt: skip
    assert first == again
    record = app.get_training("emp-118")
    assert record.courses == ("Queue management", "AML refresher")
    assert record.hours == Decimal("5.5")
    assert record.last_completed_on == date(2026, 3, 9)
    events = app.events_of(first)
    assert all(isinstance(e, TrainingCompleted) and e.subject_id is None for e in events)


def test_training_against_an_unknown_standard_is_not_found(app: LedgerApplication) -> None:
    with pytest.raises(NotFound):
        app.record_training(
            "emp-1", "c", "t", date(2026, 1, 5), Decimal(1), "internal", COMPLIANCE,
            standard_code="nope",
        )  # fmt: skip
    with pytest.raises(NotFound):
        app.get_training("emp-1")


@pytest.mark.parametrize(
    ("hours", "provider", "field"),
    [(Decimal(0), "internal", "hours"), (Decimal(1), "a friend", "provider")],
)
def test_bad_training_is_refused(
    app: LedgerApplication, hours: Decimal, provider: str, field: str
) -> None:
    with pytest.raises(ValidationFailed) as refused:
        app.record_training("emp-1", "c", "t", date(2026, 1, 5), hours, provider, COMPLIANCE)
    assert field in refused.value.errors
