"""Every kind of change to the stored log makes `verify` fail and name the place."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from ledger_verify.checkpoints import sign_checkpoint
from ledger_verify.merkle import leaf_hash
from security.bootstrap import Ledger, Settings, build_ledger
from tests.support.sample import SampleApp
from tests.support.store import events_table, run_sql

pytestmark = pytest.mark.integration


@pytest.fixture
def ledger(ledger_config: Settings) -> Iterator[Ledger]:
    built = build_ledger(ledger_config, app_class=SampleApp)
    yield built
    built.close()


def write_people(ledger: Ledger, count: int = 6) -> None:
    for i in range(count):
        ledger.app.register(f"Person {i}", f"1390000{i:04d}", f"ID{i}")


def nid_of_seq(ledger: Ledger, seq: int) -> int:
    return next(ledger.sealed_log.leaf_rows(seq, seq + 1)).notification_id


def test_untouched_log_verifies(ledger: Ledger) -> None:
    write_people(ledger)
    ledger.seal()
    write_people(ledger, 3)
    ledger.seal()
    ledger.app.note("after the last seal")
    report = ledger.verify()
    assert report.ok, report.problems
    assert (report.events, report.sealed, report.unsealed, report.checkpoints) == (10, 9, 1, 2)


def test_a_changed_ciphertext_byte_is_named(ledger: Ledger) -> None:
    write_people(ledger)
    ledger.seal()
    table, nid = events_table(ledger)
    target = nid_of_seq(ledger, 3)
    with ledger.datastore.transaction(commit=False) as cursor:
        ledger.keystore.dialect.execute(
            cursor, f"SELECT state FROM {table} WHERE {nid}=?", (target,)
        )
        state = bytearray(bytes(cursor.fetchone()["state"]))
    state[-5] ^= 0x01
    run_sql(ledger, f"UPDATE {table} SET state=? WHERE {nid}=?", (bytes(state), target))
    report = ledger.verify()
    assert not report.ok
    assert report.first_bad_seq == 3
    assert "seq 3" in report.problems[0].message


def test_a_changed_topic_is_named(ledger: Ledger) -> None:
    write_people(ledger)
    ledger.seal()
    table, nid = events_table(ledger)
    target = nid_of_seq(ledger, 1)
    run_sql(ledger, f"UPDATE {table} SET topic=? WHERE {nid}=?", ("x:Forged", target))
    assert ledger.verify().first_bad_seq == 1


def test_a_missing_event_is_named(ledger: Ledger) -> None:
    write_people(ledger)
    ledger.seal()
    table, nid = events_table(ledger)
    run_sql(ledger, f"DELETE FROM {table} WHERE {nid}=?", (nid_of_seq(ledger, 2),))
    report = ledger.verify()
    assert report.first_bad_seq == 2
    assert "missing" in report.problems[0].message


def test_reordered_events_are_named(ledger: Ledger) -> None:
    write_people(ledger)
    ledger.seal()
    table, nid = events_table(ledger)
    a, b = nid_of_seq(ledger, 1), nid_of_seq(ledger, 4)
    run_sql(ledger, f"UPDATE {table} SET {nid}=? WHERE {nid}=?", (-1, a))
    run_sql(ledger, f"UPDATE {table} SET {nid}=? WHERE {nid}=?", (a, b))
    run_sql(ledger, f"UPDATE {table} SET {nid}=? WHERE {nid}=?", (b, -1))
    report = ledger.verify()
    assert report.first_bad_seq == 1
    assert {p.seq for p in report.problems} >= {1, 4}


def test_an_inserted_event_is_named(ledger: Ledger) -> None:
    write_people(ledger)
    table, nid = events_table(ledger)
    # spread notification ids out before sealing, so a forged row can go between them
    run_sql(ledger, f"UPDATE {table} SET {nid}={nid}*10")
    ledger.seal()
    with ledger.datastore.transaction(commit=False) as cursor:
        ledger.keystore.dialect.execute(
            cursor,
            f"SELECT originator_id, originator_version, topic, state FROM {table} WHERE {nid}=?",
            (nid_of_seq(ledger, 3),),
        )
        row = cursor.fetchone()
    forged_nid = nid_of_seq(ledger, 3) - 5
    run_sql(
        ledger,
        f"INSERT INTO {table} (originator_id, originator_version, topic, state, {nid}) "
        "VALUES (?,?,?,?,?)",
        (row["originator_id"], 99, row["topic"], bytes(row["state"]), forged_nid),
    )
    report = ledger.verify()
    assert report.first_bad_seq == 3
    assert "inserted" in report.problems[0].message


def test_a_changed_leaf_hash_row_is_named(ledger: Ledger) -> None:
    write_people(ledger)
    ledger.seal()
    leaves = ledger.sealed_log.leaves_table
    run_sql(ledger, f"UPDATE {leaves} SET leaf_hash=? WHERE seq=?", (leaf_hash(b"x"), 4))
    report = ledger.verify()
    assert report.first_bad_seq == 4


def test_a_tampered_checkpoint_signature_is_reported(ledger: Ledger) -> None:
    write_people(ledger)
    stored = ledger.seal()
    assert stored is not None
    checkpoints = ledger.sealed_log.checkpoints_table
    forged = stored.note.replace(f"\n{stored.size}\n", f"\n{stored.size - 1}\n")
    run_sql(ledger, f"UPDATE {checkpoints} SET note=? WHERE size=?", (forged, stored.size))
    report = ledger.verify()
    assert not report.ok
    assert "checkpoint at size 6" in report.problems[0].message


def test_a_validly_signed_but_inconsistent_checkpoint_is_reported(ledger: Ledger) -> None:
    """Someone with the signing key signs a fork: the log still exposes it."""
    write_people(ledger)
    first = ledger.seal()
    write_people(ledger, 2)
    second = ledger.seal()
    assert first is not None and second is not None
    fork_root = leaf_hash(b"a different history")
    forged = sign_checkpoint(
        ledger.config.log_origin, second.size, fork_root, ledger.keyring.signing_key()
    )
    checkpoints = ledger.sealed_log.checkpoints_table
    run_sql(
        ledger,
        f"UPDATE {checkpoints} SET note=?, root=? WHERE size=?",
        (forged, fork_root, second.size),
    )
    report = ledger.verify()
    messages = " | ".join(p.message for p in report.problems)
    assert "does not match the stored events" in messages
    assert "not consistent" in messages


def test_unsealed_events_are_not_errors_and_sealing_again_covers_them(ledger: Ledger) -> None:
    write_people(ledger, 2)
    ledger.seal()
    write_people(ledger, 2)
    assert ledger.verify().unsealed == 2
    stored = ledger.seal()
    assert stored is not None and stored.size == 4
    assert ledger.seal() == stored  # nothing new: the same checkpoint
    assert ledger.verify().ok


def test_a_corrupted_frontier_is_reported_and_never_signed_over(ledger: Ledger) -> None:
    from security.integrity.sealed_log import SealedLogInconsistent

    write_people(ledger, 3)
    first = ledger.seal()
    assert first is not None
    checkpoints = ledger.sealed_log.checkpoints_table
    run_sql(ledger, f"UPDATE {checkpoints} SET frontier=? WHERE size=?", (bytes(64), first.size))
    report = ledger.verify()
    assert any("frontier" in p.message for p in report.problems)
    write_people(ledger, 1)
    with pytest.raises(SealedLogInconsistent):
        ledger.seal()
    assert ledger.sealed_log.latest_checkpoint() == first


def test_a_removed_latest_checkpoint_with_its_sealed_tail_is_reported(ledger: Ledger) -> None:
    write_people(ledger, 3)
    ledger.seal()
    write_people(ledger, 2)
    second = ledger.seal()
    assert second is not None
    checkpoints = ledger.sealed_log.checkpoints_table
    run_sql(ledger, f"DELETE FROM {checkpoints} WHERE size=?", (second.size,))
    report = ledger.verify()
    assert not report.ok
    assert report.first_bad_seq == 3
    assert "leaves are sealed but the latest checkpoint covers 3" in report.problems[0].message
