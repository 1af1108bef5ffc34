"""A lawful erasure (the retention job's crypto-shredding) verifies once its erasure event
is sealed; an erasure recorded but not carried out does not."""

from __future__ import annotations

from uuid import UUID

import pytest

from scheduler.runner import JobRunner
from tests.domain.factories import Clock
from tests.scheduler.test_retention import a_decade_of_customers
from tests.support.store import run_sql, select

pytestmark = pytest.mark.integration


def test_a_lawful_erasure_verifies_once_sealed(runner: JobRunner, clock: Clock) -> None:
    ledger = runner.ledger
    people = a_decade_of_customers(ledger.app, clock)
    assert runner.run("retention").summary["customers_erased_now"] == 1
    assert ledger.keystore.is_shredded(people["gone"])

    unsealed = ledger.verify_all()
    assert unsealed.failed_parts == ["key store"]
    assert [p.message for p in unsealed.problems] == [
        f"key store: subject {people['gone']}: data key "
        f"{unsealed.problems[0].message.split('data key ')[1].split()[0]} was destroyed but "
        "its erasure event is not sealed yet (run `ledger checkpoint`)"
    ]

    ledger.seal()
    ledger.access_sealed.seal()
    report = ledger.verify_all()
    assert report.ok, report.problems
    assert report.key_store.erased_subjects == 1
    assert "1 subjects lawfully erased" in report.summary()


def test_an_erasure_recorded_but_not_shredded_fails(
    runner: JobRunner, clock: Clock, monkeypatch: pytest.MonkeyPatch
) -> None:
    ledger = runner.ledger
    people = a_decade_of_customers(ledger.app, clock)

    def crash(subject_id: UUID) -> None:
        raise OSError("key store went away")

    monkeypatch.setattr(ledger.keystore, "shred", crash)
    assert runner.run("retention").state == "failed"
    ledger.seal()
    report = ledger.verify_all()
    assert report.failed_parts == ["key store"]
    assert len(report.problems) == 1
    assert f"subject {people['gone']}: its erasure is recorded" in report.problems[0].message
    assert "still live" in report.problems[0].message


def test_an_erasure_after_the_verified_state_verifies_incrementally(
    runner: JobRunner, clock: Clock
) -> None:
    """The erasure event is in the part an incremental run reads; then in the kept key
    facts, so the next incremental run still finds it lawful."""
    ledger = runner.ledger
    people = a_decade_of_customers(ledger.app, clock)
    ledger.seal()
    first = ledger.verify_all()
    assert first.ok, first.problems
    size = first.event_log.size

    assert runner.run("retention").summary["customers_erased_now"] == 1
    ledger.seal()
    ledger.access_sealed.seal()
    report = ledger.verify_all()
    assert report.ok, report.problems
    assert report.key_store.describe() == f"incremental from size {size}"
    assert report.key_store.erased_subjects == 1

    again = ledger.verify_all()
    assert again.ok, again.problems
    assert again.key_store.mode == "incremental" and again.key_store.base > size
    assert again.key_store.erased_subjects == 1
    assert ledger.keystore.is_shredded(people["gone"])


def test_a_shredded_key_restored_after_the_verified_state_is_caught_incrementally(
    runner: JobRunner, clock: Clock
) -> None:
    """The erasure below the verified size comes from the kept key facts: a key put back
    after it (an insider restoring a backup row) is still named."""
    ledger = runner.ledger
    people = a_decade_of_customers(ledger.app, clock)
    gone = str(people["gone"])
    table = ledger.keystore.table
    saved = select(
        ledger, f"SELECT dek_id, kek_id, wrapped FROM {table} WHERE subject_id=?", (gone,)
    )
    assert runner.run("retention").summary["customers_erased_now"] == 1
    ledger.seal()
    ledger.access_sealed.seal()
    assert ledger.verify_all().ok

    run_sql(
        ledger,
        f"UPDATE {table} SET kek_id=?, wrapped=?, shredded_at=NULL WHERE subject_id=? AND dek_id=?",
        (saved[0]["kek_id"], bytes(saved[0]["wrapped"]), gone, saved[0]["dek_id"]),
    )
    report = ledger.verify_all()
    assert report.key_store.mode == "incremental"
    assert report.failed_parts == ["key store"]
    assert [p.message.split(" but ")[0] for p in report.problems] == [
        f"key store: subject {gone}: its erasure is recorded (notification "
        f"{report.problems[0].message.split('notification ')[1].split(')')[0]})"
    ]


def test_a_key_nulled_without_erasure_beside_a_lawful_one_fails_incrementally(
    runner: JobRunner, clock: Clock
) -> None:
    ledger = runner.ledger
    people = a_decade_of_customers(ledger.app, clock)
    assert runner.run("retention").summary["customers_erased_now"] == 1
    ledger.seal()
    ledger.access_sealed.seal()
    assert ledger.verify_all().ok

    run_sql(
        ledger,
        f"UPDATE {ledger.keystore.table} SET wrapped=NULL WHERE subject_id=?",
        (str(people["quiet"]),),
    )
    report = ledger.verify_all()
    assert report.key_store.mode == "incremental"
    assert report.failed_parts == ["key store"]
    assert len(report.problems) == 1
    assert report.problems[0].message.startswith(f"key store: subject {people['quiet']}: ")
    assert "no erasure event of this subject is in the event log" in report.problems[0].message
    assert report.key_store.erased_subjects == 1
