"""Daily retention: erasure (crypto-shredding) only once requested, retention out and no hold."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any
from uuid import UUID

import pytest

from domain.errors import SubjectErased
from scheduler.runner import JobRunner
from tests.domain.factories import COMPLIANCE, FRONT, Clock, individual
from tests.scheduler.conftest import events

pytestmark = pytest.mark.integration


def a_decade_of_customers(app: Any, clock: Clock) -> dict[str, UUID]:
    clock.set(datetime(2015, 3, 2, 9, tzinfo=UTC))
    people = {name: individual(app) for name in ("gone", "held", "recent", "quiet")}
    clock.set(datetime(2015, 6, 30, 17, tzinfo=UTC))  # an end is never after its day
    for name in ("gone", "held", "quiet"):
        app.end_relationship(people[name], FRONT, ended_on=date(2015, 6, 30))
    clock.set(datetime(2016, 1, 4, 9, tzinfo=UTC))
    for name in ("gone", "held"):
        app.request_erasure(people[name], COMPLIANCE)
    app.place_legal_hold(people["held"], "court-2016-88", "Shanghai court", COMPLIANCE)
    clock.set(datetime(2020, 5, 4, 9, tzinfo=UTC))
    app.end_relationship(people["recent"], FRONT)
    app.request_erasure(people["recent"], COMPLIANCE)
    clock.set(datetime(2026, 3, 2, 2, 30, tzinfo=UTC))
    return people


def test_only_an_allowed_erasure_is_done_and_retention_expiry_is_recorded(
    runner: JobRunner, clock: Clock
) -> None:
    app, keys = runner.ledger.app, runner.ledger.keystore
    people = a_decade_of_customers(app, clock)
    outcome = runner.run("retention")
    assert outcome.summary["customers_erased_now"] == 1
    assert outcome.summary["customers_blocked_by_hold"] == 1
    assert outcome.summary["customers_restrict"] == 1
    assert outcome.summary["retention_expired"] == 3  # gone, held and quiet ended in 2015
    assert keys.is_shredded(people["gone"])
    with pytest.raises(SubjectErased):
        app.get_customer(people["gone"])
    assert app.get_customer(people["quiet"]).status == "retention_expired"
    assert not any(keys.is_shredded(people[n]) for n in ("held", "recent", "quiet"))

    clock.advance(days=1)
    before = events(runner)
    nextday = runner.run("retention")
    assert nextday.summary["customers_erased"] == 1  # unreadable now: skipped
    assert events(runner) == before + 2  # the JobRun only


def test_an_erasure_recorded_but_not_yet_shredded_is_completed_by_the_rerun(
    runner: JobRunner, clock: Clock, monkeypatch: pytest.MonkeyPatch
) -> None:
    app, keys = runner.ledger.app, runner.ledger.keystore
    people = a_decade_of_customers(app, clock)
    real = keys.shred

    def crash(subject_id: UUID) -> None:
        raise OSError("key store went away")

    monkeypatch.setattr(keys, "shred", crash)
    assert runner.run("retention").state == "failed"
    assert app.get_customer(people["gone"]).status == "erased"  # recorded, key still there
    monkeypatch.setattr(keys, "shred", real)
    rerun = runner.run("retention")
    assert (rerun.state, rerun.summary["customers_erasure_completed"]) == ("completed", 1)
    assert keys.is_shredded(people["gone"])


def test_the_job_erases_a_prospect_once_its_hold_is_lifted_and_keeps_a_withdrawn_request(
    runner: JobRunner, clock: Clock
) -> None:
    app, keys = runner.ledger.app, runner.ledger.keystore
    clock.set(datetime(2026, 3, 2, 9, tzinfo=UTC))
    prospect = individual(app, status="prospect")
    changed_mind = individual(app)
    app.place_legal_hold(prospect, "court-2026-1", "Beijing court", COMPLIANCE)
    assert app.request_erasure(prospect, FRONT) == "blocked_by_hold"
    app.request_erasure(changed_mind, FRONT)
    app.withdraw_erasure_request(changed_mind, "the customer withdrew the request", COMPLIANCE)
    app.lift_legal_hold(prospect, "court-2026-1", COMPLIANCE)
    clock.advance(days=1)
    outcome = runner.run("retention")
    assert outcome.summary["customers_erased_now"] == 1
    assert keys.is_shredded(prospect) and not keys.is_shredded(changed_mind)
    assert not app.get_customer(changed_mind).processing_restricted
