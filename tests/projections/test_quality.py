"""The `quality` view (standards per step, breaches, staff training) and reading a
standard defined before steps existed, on both stores."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from domain.ids import quality_check_id
from domain.quality import QualityCheck, ServiceStandardDefined
from projections.runtime import ReadModels
from security.bootstrap import Ledger
from tests.domain.factories import COMPLIANCE, SYSTEM

pytestmark = pytest.mark.integration


def test_the_view_counts_measurements_and_computed_breaches_per_step(
    ledger: Ledger, models: ReadModels
) -> None:
    app = ledger.app
    app.define_service_standard(
        "queue-15m", "Counter queue", "queue_wait", Decimal(15), "minutes", COMPLIANCE,
        step="counter", duty="teller",
    )  # fmt: skip
    app.define_service_standard(
        "call-nps", "Call NPS", "nps", Decimal(30), "score", COMPLIANCE, step="phone",
    )  # fmt: skip
    for measured in ("12", "15", "16", "40"):
        app.record_measurement("queue-15m", "BJ-01", Decimal(measured), SYSTEM)
    app.record_measurement("call-nps", "BJ-01", Decimal(31), SYSTEM)
    # a breach recorded by hand counts too
    app.record_standard_breach("call-nps", "BJ-01", Decimal(20), "Survey week", COMPLIANCE)
    models.catch_up()
    rows = models.quality.service_standards()
    assert [(r["step"], r["code"]) for r in rows] == [
        ("counter", "queue-15m"),
        ("phone", "call-nps"),
    ]
    counter, phone = rows
    assert (counter["duty"], counter["target"], counter["unit"]) == ("teller", "15", "minutes")
    assert (counter["measurements"], counter["breaches"], counter["breach_rate"]) == (
        4,
        2,
        "0.5000",
    )
    assert (phone["measurements"], phone["breaches"], phone["duty"]) == (1, 1, None)
    assert models.quality.service_standards(step="phone") == [phone]


def test_the_view_lists_each_course_staff_completed_newest_first(
    ledger: Ledger, models: ReadModels
) -> None:
    app = ledger.app
    app.define_service_standard(
        "ack-24h", "Ack", "ack_delay", Decimal(24), "hours", COMPLIANCE, step="complaint_handling"
    )
    app.record_training(
        "emp-118", "Complaint handling", "complaints", date(2026, 3, 2), Decimal("3.5"),
        "internal", COMPLIANCE, standard_code="ack-24h",
    )  # fmt: skip
    app.record_training(
        "emp-118", "AML", "compliance", date(2026, 4, 9), Decimal(2), "external", COMPLIANCE
    )
    app.record_training(
        "emp-200", "AML", "compliance", date(2026, 4, 1), Decimal(2), "external", COMPLIANCE
    )
    models.catch_up()
    everything = models.quality.staff_training()
    assert [(r["staff_id"], r["completed_on"]) for r in everything] == [
        ("emp-118", "2026-04-09"),
        ("emp-200", "2026-04-01"),
        ("emp-118", "2026-03-02"),
    ]
    (answering,) = models.quality.staff_training(standard_code="ack-24h")
    assert (answering["course"], answering["hours"], answering["provider"]) == (
        "Complaint handling",
        "3.5",
        "internal",
    )
    assert len(models.quality.staff_training(staff_id="emp-118")) == 2


def test_a_standard_stored_before_steps_reads_as_unspecified(
    ledger: Ledger, monkeypatch: pytest.MonkeyPatch
) -> None:
    app = ledger.app
    standard = QualityCheck.blank(quality_check_id("old"), app.now())
    standard.define(
        code="old", name="Old", measure="m", target=Decimal(5), unit="days",
        step="counter", duty=None, actor=COMPLIANCE, at=app.now(),
    )  # fmt: skip
    (event,) = standard.collect_events()
    del event.__dict__["step"], event.__dict__["duty"]  # as version 1 wrote it
    monkeypatch.setattr(ServiceStandardDefined, "class_version", 1)
    stored = app.mapper.to_stored_event(event)
    monkeypatch.undo()
    app.recorder.insert_events([stored])
    read = app.get_service_standard("old")
    assert (read.step, read.duty, read.target) == ("unspecified", None, Decimal(5))
