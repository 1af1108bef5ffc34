"""The access log: recorded reads, its own sealed Merkle log, tamper evidence."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from security.bootstrap import Ledger, Settings, build_ledger
from security.integrity.access_log import UnknownPurpose
from tests.support.sample import SampleApp

pytestmark = pytest.mark.integration


@pytest.fixture
def ledger(ledger_config: Settings) -> Iterator[Ledger]:
    built = build_ledger(ledger_config, app_class=SampleApp)
    yield built
    built.close()


def read(ledger: Ledger, actor: str, subject: str) -> None:
    ledger.access_log.record(
        actor_id=actor,
        role="compliance_officer",
        purpose="compliance_audit",
        subject_id=subject,
        what="customer.profile",
    )


def test_reads_are_recorded_filtered_and_sealed_separately(ledger: Ledger) -> None:
    for i in range(5):
        read(ledger, "alice", f"subject-{i % 2}")
    read(ledger, "bob", "subject-0")
    entries = ledger.access_log.entries(subject_id="subject-0")
    assert [e.actor_id for e in entries] == ["bob", "alice", "alice", "alice"]
    assert ledger.access_log.distinct_subjects_by_actor("1970-01-01") == {"alice": 2, "bob": 1}
    checkpoint = ledger.access_sealed.seal()
    assert checkpoint is not None and checkpoint.size == 6
    assert checkpoint.note.startswith(ledger.config.log_origin + "/access\n6\n")
    assert ledger.sealed_log.latest_checkpoint() is None  # the event log is a different log
    assert ledger.verify_access_log().ok


def test_a_changed_access_entry_is_named(ledger: Ledger) -> None:
    for i in range(4):
        read(ledger, "carol", f"s{i}")
    ledger.access_sealed.seal()
    with ledger.datastore.transaction(commit=True) as cursor:
        ledger.keystore.dialect.execute(
            cursor,
            f"UPDATE {ledger.access_log.table} SET actor_id='mallory' WHERE subject_id='s2'",
        )
    report = ledger.verify_access_log()
    assert report.first_bad_seq == 2


def test_an_unknown_purpose_is_refused_and_records_nothing(ledger: Ledger) -> None:
    with pytest.raises(UnknownPurpose):
        ledger.access_log.record(
            actor_id="x", role="front_office", purpose="curiosity", subject_id="s", what="w"
        )
    assert ledger.access_log.entries() == []
