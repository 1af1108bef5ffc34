"""`Ledger.verify_all`: the access log and the key store are verified with the event log;
each attack below is made with SQL on the store and must fail, naming its place."""

from __future__ import annotations

from collections.abc import Iterator
from uuid import UUID

import pytest

from security.bootstrap import Ledger, Settings, build_ledger
from tests.support.sample import SampleApp
from tests.support.store import run_sql, select, set_wrapped, wrapped_of

pytestmark = pytest.mark.integration


@pytest.fixture
def ledger(ledger_config: Settings) -> Iterator[Ledger]:
    built = build_ledger(ledger_config, app_class=SampleApp)
    yield built
    built.close()


def written(ledger: Ledger, people: int = 4) -> list[UUID]:
    """People (each with its own data key), a note (system key), reads; all sealed."""
    ids = [ledger.app.register(f"Person {i}", f"1390000{i:04d}", f"ID{i}") for i in range(people)]
    ledger.app.note("about no one")
    for person in ids:
        ledger.access_log.record(
            actor_id="alice",
            role="compliance_officer",
            purpose="compliance_audit",
            subject_id=str(person),
            what="customer.profile",
        )
    ledger.seal()
    ledger.access_sealed.seal()
    return ids


def failures(ledger: Ledger) -> tuple[list[str], list[str]]:
    report = ledger.verify_all()
    assert not report.ok
    return report.failed_parts, [p.message for p in report.problems]


def test_an_untouched_ledger_verifies_in_all_three_parts(ledger: Ledger) -> None:
    written(ledger)
    report = ledger.verify_all()
    assert report.ok, report.problems
    assert (report.events, report.access_log.events) == (5, 4)
    assert (report.key_store.keys, report.key_store.live) == (5, 5)  # 4 people + system
    assert "key store: 5 rows, 5 live keys" in report.summary()


def test_an_edited_access_entry_fails_the_access_log(ledger: Ledger) -> None:
    written(ledger)
    run_sql(ledger, f"UPDATE {ledger.access_log.table} SET purpose='kyc_review' WHERE id=2")
    parts, messages = failures(ledger)
    assert parts == ["access log"]
    assert messages[0].startswith("access log: seq 1:")
    assert "access log (first bad seq 1)" in ledger.verify_all().failure()


def test_a_deleted_access_entry_fails_the_access_log(ledger: Ledger) -> None:
    written(ledger)
    run_sql(ledger, f"DELETE FROM {ledger.access_log.table} WHERE id=3")
    parts, messages = failures(ledger)
    assert parts == ["access log"]
    assert any("seq 2" in m and "missing" in m for m in messages)


def test_a_nulled_data_key_is_not_a_lawful_erasure(ledger: Ledger) -> None:
    people = written(ledger)
    set_wrapped(ledger, people[1], None)
    parts, messages = failures(ledger)
    assert parts == ["key store"]
    assert messages == [
        f"key store: subject {people[1]}: data key "
        + select(
            ledger,
            f"SELECT dek_id FROM {ledger.keystore.table} WHERE subject_id=?",
            (str(people[1]),),
        )[0]["dek_id"]
        + " was destroyed but no erasure event of this subject is in the event log"
    ]


def test_a_shred_imitated_by_hand_without_an_erasure_event_fails(ledger: Ledger) -> None:
    people = written(ledger)
    ledger.keystore.shred(people[2])  # the key store's own shred, with no erasure recorded
    _, messages = failures(ledger)
    assert len(messages) == 1 and f"subject {people[2]}" in messages[0]


def test_a_data_key_altered_by_one_byte_fails(ledger: Ledger) -> None:
    people = written(ledger)
    wrapped = bytearray(wrapped_of(ledger, people[0]))
    wrapped[20] ^= 0x01
    set_wrapped(ledger, people[0], bytes(wrapped))
    parts, messages = failures(ledger)
    assert parts == ["key store"]
    assert len(messages) == 1
    assert f"subject {people[0]}" in messages[0] and "does not unwrap" in messages[0]


def test_two_subjects_swapped_keys_fail_for_both(ledger: Ledger) -> None:
    people = written(ledger)
    first, second = wrapped_of(ledger, people[0]), wrapped_of(ledger, people[3])
    set_wrapped(ledger, people[0], second)
    set_wrapped(ledger, people[3], first)
    _, messages = failures(ledger)
    assert len(messages) == 2
    assert {str(people[0]), str(people[3])} == {m.split()[3].rstrip(":") for m in messages}


def test_a_key_row_moved_to_another_subject_fails(ledger: Ledger) -> None:
    people = written(ledger)
    run_sql(
        ledger,
        f"UPDATE {ledger.keystore.table} SET subject_id=? WHERE subject_id=?",
        (str(people[1]), str(people[0])),
    )
    _, messages = failures(ledger)
    assert any(f"subject {people[1]}" in m and "does not unwrap" in m for m in messages)


def test_a_subject_whose_key_rows_are_gone_fails_naming_its_events(ledger: Ledger) -> None:
    people = written(ledger)
    run_sql(ledger, f"DELETE FROM {ledger.keystore.table} WHERE subject_id=?", (str(people[2]),))
    parts, messages = failures(ledger)
    assert parts == ["key store"]
    assert len(messages) == 1
    assert messages[0].startswith("key store: seq 2: event " + str(people[2]))
    assert "no row in the key store" in messages[0]


def test_a_malformed_key_row_is_named_and_the_rest_is_checked(
    ledger: Ledger, store_kind: str
) -> None:
    people = written(ledger)
    if store_kind == "sqlite":
        run_sql(
            ledger,
            f"UPDATE {ledger.keystore.table} SET wrapped='text, not bytes' WHERE subject_id=?",
            (str(people[0]),),
        )
    else:
        set_wrapped(ledger, people[0], b"\x01\x02")  # shorter than a nonce
    set_wrapped(ledger, people[1], None)
    _, messages = failures(ledger)
    assert len(messages) == 2
    assert any(str(people[1]) in m for m in messages)
    assert all("\n" not in m for m in messages)


def test_a_malformed_event_row_is_named_by_its_seq(ledger: Ledger, store_kind: str) -> None:
    written(ledger)
    if store_kind == "sqlite":
        table, nid = "stored_events", "rowid"
        run_sql(ledger, f"UPDATE {table} SET state='a text state' WHERE {nid}=2")
        run_sql(ledger, f"UPDATE {table} SET originator_id='not-a-uuid' WHERE {nid}=3")
    else:
        table, nid = f'"{ledger.datastore.schema}".ledger_events', "notification_id"
        run_sql(ledger, f"UPDATE {table} SET state=? WHERE {nid}=2", (b"CLE1\x00\x30dek-",))
        run_sql(ledger, f"UPDATE {table} SET state=NULL WHERE {nid}=3")
    report = ledger.verify_all()
    assert report.failed_parts == ["event log"]
    assert report.first_bad_seq == 1
    messages = [p.message for p in report.event_log.problems]
    assert messages[0].startswith("seq 1: the stored event (notification 2) differs")
    assert "malformed" in messages[0]
    assert messages[1].startswith("seq 2: the stored event (notification 3) differs")


def test_every_failed_part_is_named_in_one_line(ledger: Ledger, store_kind: str) -> None:
    people = written(ledger)
    set_wrapped(ledger, people[0], None)
    run_sql(ledger, f"DELETE FROM {ledger.access_log.table} WHERE id=4")
    table = (
        "stored_events" if store_kind == "sqlite" else f'"{ledger.datastore.schema}".ledger_events'
    )
    nid = "rowid" if store_kind == "sqlite" else "notification_id"
    run_sql(ledger, f"UPDATE {table} SET topic='x:Forged' WHERE {nid}=2")
    report = ledger.verify_all()
    assert report.failed_parts == ["event log", "access log", "key store"]
    assert report.failure() == (
        "the event log (first bad seq 1), the access log (first bad seq 3) and the key store "
        f"did not verify: {len(report.problems)} problems above"
    )
    assert "\n" not in report.failure()
