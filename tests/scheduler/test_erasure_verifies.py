"""A lawful erasure (the retention job's crypto-shredding) verifies once its erasure event
is sealed; an erasure recorded but not carried out does not."""

from __future__ import annotations

from uuid import UUID

import pytest

from scheduler.runner import JobRunner
from tests.domain.factories import Clock
from tests.scheduler.test_retention import a_decade_of_customers

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
