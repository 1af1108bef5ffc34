"""Hourly security checks: verify then sign; a tampered event is an alert and never signed."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from domain.alerts import SecurityAlertRaised
from ledger_verify.checkpoints import verify_checkpoint
from ledger_verify.merkle import verify_consistency
from scheduler.population import stream_ids
from scheduler.runner import JobRunner
from security.bootstrap import Ledger, Settings
from security.integrity.verification import VerifyReport
from tests.domain.factories import Clock, individual
from tests.scheduler.conftest import open_test_runner
from tests.support.store import run_sql

pytestmark = pytest.mark.integration


def alerts(runner: JobRunner) -> list[SecurityAlertRaised]:
    app = runner.ledger.app
    return [app.events_of(i)[0] for i in stream_ids(app, SecurityAlertRaised)]


def flip_a_byte_of_a_sealed_event(ledger: Ledger, seq: int) -> None:
    """Change one byte of a stored event's state, as an attacker with SQL access could."""
    if ledger.config.store_kind == "sqlite":
        table, nid_column = "stored_events", "rowid"
    else:
        table, nid_column = f'"{ledger.datastore.schema}".ledger_events', "notification_id"
    nid = next(ledger.sealed_log.leaf_rows(seq, seq + 1)).notification_id
    with ledger.datastore.transaction(commit=False) as cursor:
        ledger.keystore.dialect.execute(
            cursor, f"SELECT state FROM {table} WHERE {nid_column}=?", (nid,)
        )
        state = bytearray(bytes(cursor.fetchone()["state"]))
    state[-3] ^= 0x20
    run_sql(ledger, f"UPDATE {table} SET state=? WHERE {nid_column}=?", (bytes(state), nid))


def test_a_clean_log_is_verified_and_signed_consistent_with_the_last_checkpoint(
    runner: JobRunner, clock: Clock
) -> None:
    ledger = runner.ledger
    for _ in range(3):
        individual(ledger.app)
    previous = ledger.seal()
    assert previous is not None
    individual(ledger.app)
    clock.advance(minutes=5)
    outcome = runner.run("security_checks")
    assert (outcome.state, outcome.period) == ("completed", "2026-03-02T09")
    assert outcome.summary["ledger_checkpoints_signed"] == 1
    latest = ledger.sealed_log.latest_checkpoint()
    assert latest is not None and latest.size > previous.size
    verify_checkpoint(latest.note, ledger.sealed_log.public_key, ledger.config.log_origin)
    tree = ledger.sealed_log.tree(latest.size)
    proof = tree.consistency_proof(previous.size, latest.size)
    verify_consistency(previous.size, latest.size, proof, previous.root, latest.root)
    assert ledger.verify().ok
    assert alerts(runner) == []


def test_a_tampered_event_is_an_alert_and_no_checkpoint_is_signed_over_it(
    runner: JobRunner, clock: Clock, caplog: pytest.LogCaptureFixture
) -> None:
    ledger = runner.ledger
    for _ in range(4):
        individual(ledger.app)
    sealed = ledger.seal()
    assert sealed is not None
    checkpoints_before = ledger.sealed_log.checkpoints()
    flip_a_byte_of_a_sealed_event(ledger, 2)
    individual(ledger.app)  # written after the tampering: must not get sealed either

    with caplog.at_level(logging.ERROR, logger="scheduler"):
        outcome = runner.run("security_checks")
    assert outcome.summary["ledger_checkpoint"] == "not signed: verification failed"
    (alert,) = alerts(runner)
    assert (alert.kind, alert.severity) == ("integrity_failure", "critical")
    assert "first bad seq 2" in alert.detail
    assert ledger.sealed_log.checkpoints() == checkpoints_before
    assert any("integrity_failure" in r.getMessage() for r in caplog.records)

    clock.advance(hours=1)  # the next hour's check alerts again and still signs nothing
    runner.run("security_checks")
    assert [a.kind for a in alerts(runner)] == ["integrity_failure"] * 2
    assert ledger.sealed_log.checkpoints() == checkpoints_before


def test_a_re_run_of_the_same_hour_raises_no_second_alert(
    runner: JobRunner, monkeypatch: pytest.MonkeyPatch
) -> None:
    ledger = runner.ledger
    individual(ledger.app)
    ledger.seal()
    flip_a_byte_of_a_sealed_event(ledger, 0)
    real = ledger.keystore.unwrap_failures

    def broken() -> Any:
        raise RuntimeError("key store unreachable")

    monkeypatch.setattr(ledger.keystore, "unwrap_failures", broken)
    first = runner.run("security_checks")
    assert first.state == "failed"  # a check raised: alerted, and the hour can be re-run
    kinds = sorted(a.kind for a in alerts(runner))
    assert kinds == ["integrity_failure", "job_failure", "job_failure"]
    monkeypatch.setattr(ledger.keystore, "unwrap_failures", real)
    again = runner.run("security_checks")
    assert (again.state, again.attempt) == ("completed", 2)
    assert sorted(a.kind for a in alerts(runner)) == kinds


def test_an_old_kek_and_an_unfinished_rotation_are_alerted_once_a_day(
    runner: JobRunner, clock: Clock
) -> None:
    ledger = runner.ledger
    individual(ledger.app)
    old = ledger.keyring.active_kek_id()
    ledger.keyring.add_kek()  # rotated, but the data keys were not re-wrapped
    created = ledger.keyring.kek(ledger.keyring.active_kek_id()).created_at
    # 91 days later, at 06:00 UTC (14:00 in Shanghai): both runs on one day whatever the
    # time of day the test runs (from 23:00 UTC the hour after was the next day: 4 alerts)
    start = (created + timedelta(days=91)).replace(hour=6, minute=0, second=0, microsecond=0)
    if start < created + timedelta(days=91):
        start += timedelta(days=1)
    clock.set(start)
    runner.run("security_checks")
    clock.advance(hours=1)
    runner.run("security_checks")
    found = alerts(runner)
    assert [a.kind for a in found] == ["kek_rotation_due"] * 2
    assert {old in a.detail for a in found} == {True, False}
    assert all("91 days old" in a.detail for a in found if old not in a.detail)


def test_a_data_key_that_fails_to_unwrap_is_alerted(runner: JobRunner) -> None:
    ledger = runner.ledger
    individual(ledger.app)
    run_sql(
        ledger,
        f"UPDATE {ledger.keystore.table} SET wrapped=? WHERE subject_id<>?",
        (bytes(60), "system"),
    )
    outcome = runner.run("security_checks")
    assert outcome.summary["dek_unwrap_failures"] >= 1
    found = {a.kind: a for a in alerts(runner)}
    assert sorted(found) == ["dek_unwrap_failure", "integrity_failure"]
    assert found["dek_unwrap_failure"].severity == "critical"
    assert "key store" in found["integrity_failure"].detail  # and so nothing was signed
    assert ledger.sealed_log.checkpoints() == []


def test_an_actor_reading_more_subjects_an_hour_than_allowed_is_alerted(
    ledger_config: Settings, clock: Clock
) -> None:
    checker = open_test_runner(ledger_config, clock, LEDGER_SCHEDULER_UNUSUAL_READS_PER_HOUR="3")
    try:
        log = checker.ledger.access_log
        for i in range(5):
            at = clock.now - timedelta(minutes=50 - i)
            log.record(
                actor_id="fo-001",
                role="front_office",
                purpose="customer_service",
                subject_id=f"subject-{i}",
                what="profile",
                at=at,
            )
            log.record(
                actor_id="rm-007",
                role="relationship_manager",
                purpose="relationship_care",
                subject_id="subject-0",
                what="profile",
                at=at,
            )
        log.record(
            actor_id="co-003",
            role="compliance_officer",
            purpose="compliance_audit",
            subject_id=f"subject-{i}",
            what="profile",
            at=clock.now - timedelta(hours=2),
        )
        checker.run("security_checks")
        (alert,) = alerts(checker)
        assert (alert.kind, alert.severity) == ("unusual_reads", "warning")
        assert "actor fo-001 read 5 distinct subjects" in alert.detail
        assert checker.ledger.access_sealed.latest_checkpoint() is not None
    finally:
        checker.close()


def test_the_checks_run_at_the_time_of_their_period_when_backfilled(
    runner: JobRunner,
) -> None:
    individual(runner.ledger.app)
    outcome = runner.run_by_hand("security_checks", datetime(2026, 3, 1, 23, 5, tzinfo=UTC))
    assert (outcome.state, outcome.period) == ("completed", "2026-03-01T23")


def test_after_a_truncation_nothing_is_signed_and_integrity_failure_is_raised(
    runner: JobRunner, clock: Clock
) -> None:
    ledger = runner.ledger
    for _ in range(3):
        individual(ledger.app)
    sealed = ledger.seal()
    assert sealed is not None
    run_sql(ledger, f"DELETE FROM {ledger.sealed_log.leaves_table}")
    run_sql(ledger, f"DELETE FROM {ledger.sealed_log.checkpoints_table}")
    individual(ledger.app)
    outcome = runner.run("security_checks")
    assert outcome.summary["ledger_checkpoint"] == "not signed: verification failed"
    (alert,) = alerts(runner)
    assert (alert.kind, alert.severity) == ("integrity_failure", "critical")
    assert f"no longer reaches the anchored size {sealed.size}" in alert.detail
    assert ledger.sealed_log.checkpoints() == []
    assert [c.size for c in ledger.anchors.checkpoints()] == [sealed.size]


def test_a_seal_that_refuses_is_an_integrity_failure(
    runner: JobRunner, monkeypatch: pytest.MonkeyPatch
) -> None:
    ledger = runner.ledger
    individual(ledger.app)
    ledger.seal()
    events = (
        "stored_events"
        if ledger.config.store_kind == "sqlite"
        else f'"{ledger.datastore.schema}".ledger_events'
    )
    for table in (ledger.sealed_log.leaves_table, ledger.sealed_log.checkpoints_table, events):
        run_sql(ledger, f"DELETE FROM {table}")
    # a verification that passed just before the log was truncated (a race)
    monkeypatch.setattr(ledger, "verify", lambda *trusted, **mode: VerifyReport())
    outcome = runner.run("security_checks")
    assert outcome.state == "completed"
    assert "not signed" in outcome.summary["ledger_checkpoint"]
    (alert,) = alerts(runner)
    assert alert.kind == "integrity_failure" and "nothing was signed" in alert.detail
    assert ledger.sealed_log.checkpoints() == []


def _written_and_sealed(runner: JobRunner, clock: Clock) -> tuple[Any, Any]:
    """Two customers and a read of each, both logs sealed; the logs' checkpoints."""
    ledger = runner.ledger
    for _ in range(2):
        customer = individual(ledger.app)
        ledger.access_log.record(
            actor_id="co-003",
            role="compliance_officer",
            purpose="compliance_audit",
            subject_id=str(customer),
            what="profile",
            at=clock.now - timedelta(minutes=10),
        )
    ledger.seal()
    ledger.access_sealed.seal()
    individual(ledger.app)  # written after the tampering below: must not be signed
    return ledger.sealed_log.checkpoints(), ledger.access_sealed.checkpoints()


def test_a_nulled_data_key_without_an_erasure_event_signs_nothing(
    runner: JobRunner, clock: Clock
) -> None:
    ledger = runner.ledger
    events_before, access_before = _written_and_sealed(runner, clock)
    subject = str(individual(ledger.app))
    run_sql(
        ledger, f"UPDATE {ledger.keystore.table} SET wrapped=NULL WHERE subject_id=?", (subject,)
    )

    outcome = runner.run("security_checks")
    assert outcome.state == "completed"
    assert outcome.summary["ledger_checkpoint"] == "not signed: verification failed"
    assert outcome.summary["access_log_checkpoint"] == "not signed: verification failed"
    (alert,) = [a for a in alerts(runner) if a.kind == "integrity_failure"]
    assert alert.severity == "critical"
    assert "verification failed: key store;" in alert.detail
    assert "no checkpoint was signed" in alert.detail
    assert "erasure" in alert.detail
    assert ledger.sealed_log.checkpoints() == events_before
    assert ledger.access_sealed.checkpoints() == access_before


def test_an_edited_access_log_entry_signs_nothing(runner: JobRunner, clock: Clock) -> None:
    ledger = runner.ledger
    events_before, access_before = _written_and_sealed(runner, clock)
    run_sql(ledger, f"UPDATE {ledger.access_log.table} SET purpose='kyc_review' WHERE id=2")

    outcome = runner.run("security_checks")
    assert outcome.summary["ledger_checkpoint"] == "not signed: verification failed"
    assert outcome.summary["access_log_checkpoint"] == "not signed: verification failed"
    (alert,) = alerts(runner)
    assert (alert.kind, alert.severity) == ("integrity_failure", "critical")
    assert "verification failed: access log (first bad seq 1);" in alert.detail
    assert "event log" not in alert.detail.split(";")[0]
    assert ledger.sealed_log.checkpoints() == events_before
    assert ledger.access_sealed.checkpoints() == access_before

    clock.advance(hours=1)  # still failing the next hour: alerted again, still unsigned
    runner.run("security_checks")
    assert [a.kind for a in alerts(runner)] == ["integrity_failure"] * 2
    assert ledger.access_sealed.checkpoints() == access_before


def test_every_break_glass_access_of_the_hour_is_an_alert_once(
    runner: JobRunner, clock: Clock
) -> None:
    log = runner.ledger.access_log
    for minutes, purpose in ((30, "emergency_access"), (20, "customer_service")):
        log.record(
            actor_id="rm-007",
            role="relationship_manager",
            purpose=purpose,
            subject_id="0b9f6c7e-3f0a-4f53-8d6c-2a4c1f9b7e21",
            what="emergency_access:customers.read_customer:INC-42",
            at=clock.now - timedelta(minutes=minutes),
        )
    log.record(  # before the hour the run looks at: a run of an earlier hour raised it
        actor_id="fo-001",
        role="front_office",
        purpose="emergency_access",
        subject_id="subject-old",
        what="emergency_access:customers.read_customer:INC-1",
        at=clock.now - timedelta(hours=3),
    )
    outcome = runner.run("security_checks")
    assert outcome.summary["emergency_accesses"] == 1
    (alert,) = alerts(runner)
    assert (alert.kind, alert.severity) == ("emergency_access", "warning")
    assert "rm-007 (relationship_manager) used emergency access on customer" in alert.detail
    assert "INC-42" in alert.detail
    runner.run_by_hand("security_checks", clock.now)  # the same hour again: no second alert
    assert len(alerts(runner)) == 1
