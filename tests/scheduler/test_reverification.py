"""Daily re-verification: due soon and overdue by risk; ID documents expiring and expired."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import pytest

from scheduler.runner import JobRunner
from tests.domain.factories import COMPLIANCE, FRONT, Clock, individual
from tests.scheduler.conftest import events

pytestmark = pytest.mark.integration


def test_files_go_due_soon_then_overdue_by_risk_and_expired_ids_suspend_business(
    sqlite_runner: JobRunner, app: Any, clock: Clock
) -> None:
    high = individual(app)
    low = individual(app)
    app.assign_risk_rating(high, "high", COMPLIANCE)  # due 2026-09-02
    app.assign_risk_rating(low, "low", COMPLIANCE)  # due 2028-03-02
    app.record_identity_document(
        high, "resident_id", "110101199001011234", date(2026, 10, 31), FRONT
    )
    app.record_identity_document(low, "passport", "E12345678", date(2030, 1, 1), FRONT)
    individual(app, status="prospect")  # no KYC file yet: not checked
    clock.set(datetime(2026, 8, 10, 1, tzinfo=UTC))

    first = sqlite_runner.run("reverification")
    assert first.summary["marked_due_soon"] == 1
    assert first.summary["id_expiring"] == 1  # 82 days before expiry
    assert app.get_kyc(high).review_state == "due_soon"
    assert app.get_kyc(low).review_state == "current"

    clock.set(datetime(2026, 9, 3, 1, tzinfo=UTC))
    assert sqlite_runner.run("reverification").summary["marked_overdue"] == 1

    clock.set(datetime(2026, 11, 1, 1, tzinfo=UTC))
    expired = sqlite_runner.run("reverification")
    assert (expired.summary["id_expired"], expired.summary["business_suspended"]) == (1, 1)
    kyc = app.get_kyc(high)
    assert (kyc.doc_status, kyc.business_suspended, kyc.review_state) == (
        "expired",
        True,
        "in_review",
    )
    assert kyc.review_trigger == "id_expiry"


def test_a_second_run_of_the_day_and_the_next_day_record_nothing_new(
    sqlite_runner: JobRunner, app: Any, clock: Clock
) -> None:
    customer = individual(app)
    app.assign_risk_rating(customer, "high", COMPLIANCE)
    clock.set(datetime(2026, 9, 3, 1, tzinfo=UTC))
    sqlite_runner.run("reverification")
    before = events(sqlite_runner)
    assert sqlite_runner.run("reverification").state == "skipped"
    assert events(sqlite_runner) == before
    clock.set(datetime(2026, 9, 4, 1, tzinfo=UTC))
    outcome = sqlite_runner.run("reverification")
    assert outcome.summary["review_overdue"] == 1 and "marked_overdue" not in outcome.summary
    assert events(sqlite_runner) == before + 2  # only the JobRun's started and completed


def test_a_rating_still_missing_after_its_deadline_is_counted(
    sqlite_runner: JobRunner, app: Any, clock: Clock
) -> None:
    individual(app)  # registered 2026-03-02: rating due within 10 working days
    clock.set(datetime(2026, 3, 20, 1, tzinfo=UTC))
    assert sqlite_runner.run("reverification").summary["risk_rating_overdue"] == 1
