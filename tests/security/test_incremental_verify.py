"""`Ledger.verify_all()`: incremental from the last verified state (kept outside the
database), `full=True` recomputing everything; what each mode catches, on both stores."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from ledger_verify.checkpoints import sign_checkpoint
from security.bootstrap import Ledger, Settings, build_ledger
from security.integrity.verification import TrustedCheckpoint
from tests.support.sample import SampleApp
from tests.support.store import events_table, run_sql

pytestmark = pytest.mark.integration


@pytest.fixture
def ledger(ledger_config: Settings) -> Iterator[Ledger]:
    built = build_ledger(ledger_config, app_class=SampleApp)
    yield built
    built.close()


def write(ledger: Ledger, people: int) -> None:
    """People and a read of each, both logs sealed."""
    for i in range(people):
        person = ledger.app.register(f"Person {i}", f"1390000{i:04d}", f"ID{i}")
        ledger.access_log.record(
            actor_id="alice",
            role="compliance_officer",
            purpose="compliance_audit",
            subject_id=str(person),
            what="customer.profile",
        )
    ledger.seal()
    ledger.access_sealed.seal()


def verified(ledger: Ledger, people: int = 4) -> int:
    """Write, verify (ok, state kept); the verified size of the event log."""
    write(ledger, people)
    report = ledger.verify_all()
    assert report.ok, report.problems
    return report.event_log.size


def change_event(ledger: Ledger, seq: int) -> None:
    """Swap the stored state of the event at `seq` for another's (a DBA's edit)."""
    table, nid = events_table(ledger)
    target = next(ledger.sealed_log.leaf_rows(seq, seq + 1)).notification_id
    other = next(ledger.sealed_log.leaf_rows(0, 1)).notification_id
    run_sql(
        ledger,
        f"UPDATE {table} SET state=(SELECT state FROM {table} WHERE {nid}=?) WHERE {nid}=?",
        (other, target),
    )


def state_path(ledger: Ledger) -> Path:
    assert ledger.verified_states is not None
    return ledger.verified_states.path(ledger.sealed_log.origin)


def messages(ledger: Ledger, *, full: bool = False) -> list[str]:
    report = ledger.verify_all(full=full)
    assert not report.ok
    return [p.message for p in report.problems]


def test_the_first_run_is_full_and_the_next_incremental_from_its_size(ledger: Ledger) -> None:
    write(ledger, 3)
    first = ledger.verify_all()
    assert first.ok, first.problems
    assert first.event_log.describe() == "full: no verified state yet"
    size = first.event_log.size
    write(ledger, 2)
    second = ledger.verify_all()
    assert second.ok, second.problems
    assert second.event_log.describe() == f"incremental from size {size}"
    assert second.access_log.describe() == "incremental from size 3"
    # only what was added is recomputed: 2 people, 1 new checkpoint beyond the base
    assert (second.event_log.sealed, second.event_log.checkpoints) == (2, 2)
    assert (second.access_log.sealed, second.event_log.size) == (2, size + 2)
    assert "incremental from size" in second.summary()
    assert ledger.verify_all(full=True).event_log.describe() == "full"


def test_a_run_with_nothing_new_is_incremental_and_ok(ledger: Ledger) -> None:
    size = verified(ledger)
    report = ledger.verify_all()
    assert report.ok, report.problems
    assert report.event_log.describe() == f"incremental from size {size}"
    assert report.event_log.sealed == 0


def test_an_event_changed_after_the_verified_size_is_caught_incrementally(
    ledger: Ledger,
) -> None:
    size = verified(ledger)
    write(ledger, 3)
    change_event(ledger, size + 1)
    found = messages(ledger)
    assert found[0].startswith(f"event log: seq {size + 1}: the stored event")


def test_an_event_changed_below_the_verified_size_is_caught_only_in_full(
    ledger: Ledger,
) -> None:
    """The trade-off: an incremental run trusts what it verified before; `full` does not."""
    verified(ledger)
    change_event(ledger, 2)
    incremental = ledger.verify_all()
    assert incremental.ok, incremental.problems
    found = messages(ledger, full=True)
    assert found[0].startswith("event log: seq 2: the stored event")


def test_a_failed_run_does_not_advance_the_state(ledger: Ledger) -> None:
    size = verified(ledger)
    write(ledger, 2)
    change_event(ledger, size)
    assert not ledger.verify_all().ok
    before = state_path(ledger).read_text()
    assert json.loads(before)["size"] == size
    assert not ledger.verify_all().ok  # still from the same state, still caught


@pytest.mark.parametrize("what", ["wipe", "truncate", "rollback", "events"])
def test_truncation_rollback_or_wipe_below_the_verified_size_fails_incrementally(
    ledger: Ledger, what: str
) -> None:
    write(ledger, 3)
    write(ledger, 2)
    size = ledger.verify_all().event_log.size
    sealed = ledger.sealed_log
    table, nid = events_table(ledger)
    last = next(sealed.leaf_rows(size - 1, size)).notification_id
    if what == "wipe":
        run_sql(ledger, f"DELETE FROM {sealed.leaves_table}")
        run_sql(ledger, f"DELETE FROM {sealed.checkpoints_table}")
    elif what == "truncate":  # the newest checkpoint with its leaves and events
        run_sql(ledger, f"DELETE FROM {sealed.checkpoints_table} WHERE size=?", (size,))
        run_sql(ledger, f"DELETE FROM {sealed.leaves_table} WHERE seq>=?", (size - 2,))
        run_sql(ledger, f"DELETE FROM {table} WHERE {nid}>=?", (last - 1,))
    elif what == "rollback":  # an older copy restored, then written to
        run_sql(ledger, f"DELETE FROM {sealed.checkpoints_table} WHERE size=?", (size,))
        run_sql(ledger, f"DELETE FROM {sealed.leaves_table} WHERE seq>=?", (size - 2,))
        run_sql(ledger, f"DELETE FROM {table} WHERE {nid}>=?", (last - 1,))
        ledger.app.register("Someone Else", "13900009999", "IDX")
    else:  # the events alone
        run_sql(ledger, f"DELETE FROM {table}")
    found = " | ".join(messages(ledger))
    assert f"last verified size {size}" in found or f"notification {last}" in found, found


def test_a_corrupt_state_file_falls_back_to_full_and_says_so(ledger: Ledger) -> None:
    verified(ledger)
    state_path(ledger).write_text("{not json")
    report = ledger.verify_all()
    assert report.ok, report.problems
    assert report.event_log.mode == "full"
    assert any("is unusable" in note and "verified in full" in note for note in report.notes)
    # the ok full run wrote a good state again
    assert ledger.verify_all().event_log.mode == "incremental"


def test_a_state_whose_frontier_does_not_fold_to_its_root_falls_back_to_full(
    ledger: Ledger,
) -> None:
    verified(ledger)
    data = json.loads(state_path(ledger).read_text())
    data["frontier"][0] = "00" * 32
    state_path(ledger).write_text(json.dumps(data))
    report = ledger.verify_all()
    assert report.ok, report.problems
    assert report.event_log.describe().startswith("full: the verified state")


def test_a_state_signed_by_another_key_is_a_failure(ledger: Ledger) -> None:
    """An attacker who can write the state file (not the log key) cannot move it."""
    size = verified(ledger)
    data = json.loads(state_path(ledger).read_text())
    tree = ledger.sealed_log.tree(size)
    data["note"] = sign_checkpoint(
        ledger.sealed_log.origin, size, tree.root(), Ed25519PrivateKey.generate()
    )
    state_path(ledger).write_text(json.dumps(data))
    found = messages(ledger)
    assert any("is forged" in message for message in found), found


def test_a_trusted_checkpoint_older_than_the_verified_state_is_checked(ledger: Ledger) -> None:
    write(ledger, 2)
    old = ledger.sealed_log.latest_checkpoint()
    assert old is not None
    write(ledger, 2)
    verified(ledger, 1)
    good = TrustedCheckpoint("a regulator's copy", old.note)
    report = ledger.verify_all([good])
    assert report.ok and report.event_log.mode == "incremental", report.problems
    forked = sign_checkpoint(
        ledger.sealed_log.origin, old.size, bytes(32), ledger.sealed_log.signing_key
    )
    bad = ledger.verify_all([TrustedCheckpoint("a forked copy", forked)])
    assert not bad.ok
    assert "not a consistent extension" in bad.problems[0].message


def test_leaf_hashes_rewritten_below_the_verified_size_fail_a_trusted_older_checkpoint(
    ledger: Ledger,
) -> None:
    write(ledger, 2)
    old = ledger.sealed_log.latest_checkpoint()
    assert old is not None
    verified(ledger, 2)
    run_sql(
        ledger, f"UPDATE {ledger.sealed_log.leaves_table} SET leaf_hash=? WHERE seq=0", (bytes(32),)
    )
    report = ledger.verify_all([TrustedCheckpoint("a regulator's copy", old.note)])
    assert not report.ok
    assert "no longer produce its root" in report.problems[0].message
