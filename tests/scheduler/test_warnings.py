"""Warnings are events, and they show: recorded once by the jobs, alerted, on the
watch-lists; on both stores."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime
from typing import Any
from uuid import UUID

import pytest

from domain.alerts import SecurityAlertRaised
from domain.consent import ConsentExpired
from domain.ids import consent_id, interaction_log_id, kyc_file_id
from domain.interaction import CareFollowUpOverdue
from domain.kyc import IdentityDocumentExpiring, RiskRatingOverdue
from projections.runtime import ReadModels, close_read_models, read_models
from scheduler.runner import JobRunner
from tests.domain.factories import COMPLIANCE, FRONT, RM, Clock, individual
from tests.scheduler.conftest import events

pytestmark = pytest.mark.integration


@pytest.fixture
def models(runner: JobRunner) -> Iterator[ReadModels]:
    built = read_models(runner.ledger)
    yield built
    close_read_models(runner.ledger)


def count(app: Any, stream: UUID, event_type: type) -> int:
    return sum(isinstance(e, event_type) for e in app.events_of(stream))


def alerts(runner: JobRunner, kind: str) -> list[str]:
    """The details of every alert of `kind` in the log (read in notification order)."""
    app = runner.ledger.app
    found = []
    for notification in app.recorder.select_notifications(1, 100_000):
        if notification.topic.endswith("SecurityAlertRaised"):
            (event,) = app.events_of(notification.originator_id)
            assert isinstance(event, SecurityAlertRaised)
            if event.kind == kind:
                found.append(event.detail)
    return found


def test_an_id_document_entering_its_window_and_a_late_rating_are_recorded_once(
    runner: JobRunner, clock: Clock, models: ReadModels
) -> None:
    app = runner.ledger.app
    expiring = individual(app)  # registered 2026-03-02: rating due 2026-03-16
    app.assign_risk_rating(expiring, "low", COMPLIANCE)
    app.record_identity_document(expiring, "passport", "E12345678", date(2026, 6, 19), FRONT)
    unrated = individual(app)
    clock.set(datetime(2026, 3, 20, 1, tzinfo=UTC))  # 91 days before 19 June

    first = runner.run("reverification")
    assert "id_expiring_recorded" not in first.summary  # 91 days out: not yet
    assert first.summary["risk_rating_overdue_recorded"] == 1
    clock.set(datetime(2026, 3, 21, 1, tzinfo=UTC))
    second = runner.run("reverification")
    assert second.summary["id_expiring_recorded"] == 1
    assert "risk_rating_overdue_recorded" not in second.summary  # already recorded
    before = events(runner)
    assert runner.run("reverification").state == "skipped"
    clock.set(datetime(2026, 3, 22, 1, tzinfo=UTC))
    third = runner.run("reverification")
    assert third.summary["id_expiring"] == 1 and "id_expiring_recorded" not in third.summary
    assert events(runner) == before + 2  # only the JobRun's started and completed

    assert count(app, kyc_file_id(expiring), IdentityDocumentExpiring) == 1
    assert count(app, kyc_file_id(unrated), RiskRatingOverdue) == 1
    (noted,) = [
        e for e in app.events_of(kyc_file_id(expiring)) if isinstance(e, IdentityDocumentExpiring)
    ]
    assert (noted.expires_on, noted.as_of, noted.window_days) == (
        date(2026, 6, 19),
        date(2026, 3, 21),
        90,
    )
    assert len(alerts(runner, "risk_rating_overdue")) == 1
    (detail,) = alerts(runner, "id_document_expiring")
    assert detail.startswith("1 ID document(s) expiring") and str(expiring) not in detail

    models.catch_up()
    listed = {c["customer_id"]: c for c in models.customers.reverification_due(within_days=0).items}
    assert listed[str(expiring)]["doc_status"] == "expiring"
    assert listed[str(unrated)]["rating_overdue"] is True
    assert listed[str(expiring)]["rating_overdue"] is False
    app.assign_risk_rating(unrated, "low", COMPLIANCE)  # late, but rated: off the list
    models.catch_up()
    still = {c["customer_id"] for c in models.customers.reverification_due(within_days=0).items}
    assert str(unrated) not in still and str(expiring) in still

    # a renewed document with a new expiry date is warned about again, when its turn comes
    app.record_identity_document(expiring, "passport", "E12345679", date(2026, 6, 20), FRONT)
    clock.set(datetime(2026, 3, 23, 1, tzinfo=UTC))
    assert runner.run("reverification").summary["id_expiring_recorded"] == 1
    assert count(app, kyc_file_id(expiring), IdentityDocumentExpiring) == 2


def test_an_overdue_care_follow_up_is_recorded_once_per_due_date_and_shows(
    runner: JobRunner, clock: Clock, models: ReadModels
) -> None:
    app = runner.ledger.app
    clock.set(datetime(2026, 3, 2, 8, tzinfo=UTC))
    elder = individual(app, date_of_birth=date(1950, 1, 20))
    runner.run("relationship_care")  # flagged elderly on 2026-03-02: due 2026-05-31
    assert app.care_follow_up_due(elder) == date(2026, 5, 31)
    clock.set(datetime(2026, 5, 31, 8, tzinfo=UTC))
    assert "follow_ups_overdue_recorded" not in runner.run("relationship_care").summary
    clock.set(datetime(2026, 6, 1, 8, tzinfo=UTC))
    late = runner.run("relationship_care")
    assert late.summary["follow_ups_overdue_recorded"] == 1
    clock.set(datetime(2026, 6, 2, 8, tzinfo=UTC))
    assert "follow_ups_overdue_recorded" not in runner.run("relationship_care").summary
    assert count(app, interaction_log_id(elder), CareFollowUpOverdue) == 1
    assert len(alerts(runner, "care_follow_up_overdue")) == 1

    models.catch_up()
    (listed,) = models.customers.special_care(due_only=True).items
    assert (listed["next_due_on"], listed["overdue"]) == ("2026-05-31", True)

    app.record_care_visit(elder, "home_visit", "Tea and statements", RM)  # due 2026-08-31
    models.catch_up()
    (visited,) = models.customers.special_care().items
    assert (visited["next_due_on"], visited["overdue"]) == ("2026-08-31", False)
    clock.set(datetime(2026, 9, 1, 8, tzinfo=UTC))
    assert runner.run("relationship_care").summary["follow_ups_overdue_recorded"] == 1
    assert count(app, interaction_log_id(elder), CareFollowUpOverdue) == 2


def test_a_consent_past_its_end_is_expired_once_and_then_authorises_nothing(
    runner: JobRunner, clock: Clock, models: ReadModels
) -> None:
    app = runner.ledger.app
    customer = individual(app)
    app.grant_consent(
        customer,
        "greetings",
        FRONT,
        data_categories=["contact"],
        notice_version="2026.1",
        method="electronic",
        evidence="app-consent-1",
        valid_to=datetime(2026, 4, 1, tzinfo=UTC),
    )
    clock.set(datetime(2026, 3, 31, 8, tzinfo=UTC))
    assert app.live_consent(customer, "greetings") is not None
    assert "consents_expired_recorded" not in runner.run("relationship_care").summary
    clock.set(datetime(2026, 4, 1, 8, tzinfo=UTC))
    assert runner.run("relationship_care").summary["consents_expired_recorded"] == 1
    clock.set(datetime(2026, 4, 2, 8, tzinfo=UTC))
    assert "consents_expired_recorded" not in runner.run("relationship_care").summary

    assert count(app, consent_id(customer, "greetings"), ConsentExpired) == 1
    assert app.get_consent(customer, "greetings").state == "expired"
    assert app.live_consent(customer, "greetings") is None
    assert len(alerts(runner, "consent_expired")) == 1
    models.catch_up()
    register = models.cases.consent_register(state="expired").items
    assert [c["customer_id"] for c in register] == [str(customer)]


def test_a_profile_change_does_not_move_the_care_due_date(runner: JobRunner, clock: Clock) -> None:
    app = runner.ledger.app
    clock.set(datetime(2026, 3, 2, 8, tzinfo=UTC))
    elder = individual(app, date_of_birth=date(1950, 1, 20))
    runner.run("relationship_care")
    assert app.care_follow_up_due(elder) == date(2026, 5, 31)
    clock.set(datetime(2026, 5, 20, 8, tzinfo=UTC))
    version = app.get_customer(elder).version
    assert app.change_profile(elder, "email", "elder@example.cn", RM) > version
    assert app.care_follow_up_due(elder) == date(2026, 5, 31)


def test_a_retry_after_a_failure_midway_records_no_warning_or_alert_twice(
    runner: JobRunner, clock: Clock, monkeypatch: pytest.MonkeyPatch
) -> None:
    app = runner.ledger.app
    clock.set(datetime(2026, 3, 2, 8, tzinfo=UTC))
    elders = [individual(app, date_of_birth=date(1950, 1, 20)) for _ in range(2)]
    other = individual(app)
    real = app.expire_consent

    def failing(customer_id: UUID, *args: Any, **kwargs: Any) -> Any:
        if customer_id == other:
            raise TimeoutError("store slow")
        return real(customer_id, *args, **kwargs)

    clock.set(datetime(2026, 6, 1, 8, tzinfo=UTC))
    monkeypatch.setattr(app, "expire_consent", failing)
    first = runner.run("relationship_care")
    assert first.state == "failed"
    monkeypatch.setattr(app, "expire_consent", real)
    retry = runner.run_by_hand("relationship_care")  # the same period, again
    assert retry.state == "completed" and retry.period == first.period
    assert "follow_ups_overdue_recorded" not in retry.summary
    assert [count(app, interaction_log_id(e), CareFollowUpOverdue) for e in elders] == [1, 1]
    (detail,) = alerts(runner, "care_follow_up_overdue")
    assert detail.startswith("2 care follow-up(s) overdue")
