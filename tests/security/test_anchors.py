"""Attacks with write access to the database and no signing key: the anchor file
outside the database and trusted checkpoints catch a log that was rolled back,
truncated, wiped or forked, and no seal signs over it."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from security.bootstrap import Ledger, Settings, build_ledger
from security.integrity.anchors import AnchorError, AnchorFile, parse_anchors
from security.integrity.sealed_log import NotAnAnchoredExtension
from security.integrity.verification import TrustedCheckpoint
from tests.conftest import make_config
from tests.support.sample import SampleApp
from tests.support.store import events_table, run_sql

pytestmark = pytest.mark.integration


@pytest.fixture
def ledger(ledger_config: Settings) -> Iterator[Ledger]:
    built = build_ledger(ledger_config, app_class=SampleApp)
    yield built
    built.close()


def write_people(ledger: Ledger, count: int, tag: str = "") -> None:
    for i in range(count):
        ledger.app.register(f"Person {tag}{i}", f"1390000{i:04d}", f"ID{tag}{i}")


def sealed_twice(ledger: Ledger) -> None:
    """6 events sealed, 3 more sealed: checkpoints at 6 and 9, both anchored."""
    write_people(ledger, 6)
    ledger.seal()
    write_people(ledger, 3, "b")
    ledger.seal()


def messages(ledger: Ledger) -> list[str]:
    return [problem.message for problem in ledger.verify().problems]


def drop_newest_checkpoint_with_its_leaves_and_events(ledger: Ledger) -> None:
    log = ledger.sealed_log
    last_kept = next(log.leaf_rows(5, 6)).notification_id
    table, nid = events_table(ledger)
    run_sql(ledger, f"DELETE FROM {log.checkpoints_table} WHERE size=9")
    run_sql(ledger, f"DELETE FROM {log.leaves_table} WHERE seq>=6")
    run_sql(ledger, f"DELETE FROM {table} WHERE {nid}>?", (last_kept,))


def empty_the_merkle_tables(ledger: Ledger) -> None:
    run_sql(ledger, f"DELETE FROM {ledger.sealed_log.leaves_table}")
    run_sql(ledger, f"DELETE FROM {ledger.sealed_log.checkpoints_table}")


def test_an_honest_log_verifies_against_its_anchors(ledger: Ledger) -> None:
    sealed_twice(ledger)
    ledger.access_log.record(
        actor_id="a-1", role="regulator", purpose="compliance_audit", subject_id="s", what="x"
    )
    ledger.access_sealed.seal()
    anchored = ledger.anchors.checkpoints()
    origin = ledger.config.log_origin
    assert [(c.origin, c.size) for c in anchored] == [
        (origin, 6),
        (origin, 9),
        (origin + "/access", 1),
    ]
    assert ledger.verify().ok, ledger.verify().problems
    assert ledger.verify_access_log().ok
    assert ledger.seal() is not None  # nothing new: not anchored twice
    assert len(ledger.anchors.checkpoints()) == 3


def test_the_newest_checkpoint_deleted_with_its_leaves_and_events_fails(ledger: Ledger) -> None:
    sealed_twice(ledger)
    drop_newest_checkpoint_with_its_leaves_and_events(ledger)
    found = messages(ledger)
    assert any("no longer reaches the anchored size 9" in m for m in found), found
    assert ledger.verify().first_bad_seq == 6


def test_emptied_merkle_tables_fail(ledger: Ledger) -> None:
    sealed_twice(ledger)
    empty_the_merkle_tables(ledger)
    found = messages(ledger)
    assert any("ends at size 0 and no longer reaches the anchored size 9" in m for m in found)


def test_the_access_log_is_checked_against_its_own_anchor(ledger: Ledger) -> None:
    for subject in ("s1", "s2"):
        ledger.access_log.record(
            actor_id="a-1",
            role="regulator",
            purpose="compliance_audit",
            subject_id=subject,
            what="x",
        )
    ledger.access_sealed.seal()
    run_sql(ledger, f"DELETE FROM {ledger.access_sealed.leaves_table}")
    run_sql(ledger, f"DELETE FROM {ledger.access_sealed.checkpoints_table}")
    problems = [p.message for p in ledger.verify_access_log().problems]
    assert any("no longer reaches the anchored size 2" in m for m in problems), problems


def test_sealing_refuses_a_log_that_does_not_extend_the_anchor(ledger: Ledger) -> None:
    sealed_twice(ledger)
    drop_newest_checkpoint_with_its_leaves_and_events(ledger)
    with pytest.raises(NotAnAnchoredExtension, match="at size 9 but the stored log holds 6"):
        ledger.seal()
    write_people(ledger, 5, "c")  # more events than were dropped: a longer, forked log
    with pytest.raises(NotAnAnchoredExtension, match="another root at that size"):
        ledger.seal()
    assert [c.size for c in ledger.sealed_log.checkpoints()] == [6]
    assert [c.size for c in ledger.anchors.checkpoints()] == [6, 9]
    found = messages(ledger)
    assert any("no longer reaches the anchored size 9" in m for m in found), found


def test_the_same_events_sealed_again_after_a_wipe_extend_the_anchor(ledger: Ledger) -> None:
    sealed_twice(ledger)
    empty_the_merkle_tables(ledger)
    assert not ledger.verify().ok
    resealed = ledger.seal()  # the events are intact: the same tree, the same root at 9
    assert resealed is not None and resealed.size == 9
    assert ledger.verify().ok


def test_a_trusted_checkpoint_of_a_fork_fails_and_one_of_this_log_passes(
    ledger: Ledger, tmp_path: Path
) -> None:
    write_people(ledger, 6)
    older = ledger.seal()
    write_people(ledger, 2, "b")
    ledger.seal()
    assert older is not None
    # the same key in another data dir signs a different log of the same origin
    fork_dir = tmp_path / "fork"
    fork_dir.mkdir()
    shutil.copy(ledger.config.data_dir / "keyring.json", fork_dir / "keyring.json")
    fork = build_ledger(make_config("sqlite", fork_dir), app_class=SampleApp)
    try:
        write_people(fork, 7, "f")
        forked = fork.seal()
    finally:
        fork.close()
    assert forked is not None
    report = ledger.verify([TrustedCheckpoint("witness", forked.note)])
    assert any(
        "the checkpoint at size 7 of witness" in p.message
        and "not a consistent extension" in p.message
        for p in report.problems
    ), report.problems
    assert ledger.verify([TrustedCheckpoint("regulator", older.note)]).ok
    other = TrustedCheckpoint(
        "stranger", older.note.replace(ledger.config.log_origin, "x.example/log")
    )
    assert any("does not verify" in p.message for p in ledger.verify([other]).problems)


def test_a_garbage_anchor_file_is_one_problem_not_a_crash(ledger: Ledger) -> None:
    sealed_twice(ledger)
    with open(ledger.config.anchor_file, "a", encoding="utf-8") as handle:
        handle.write("garbage\n\n")
    (problem,) = ledger.verify().problems
    assert problem.message.startswith(f"anchor file {ledger.config.anchor_file}: the entry at line")
    assert "\n" not in problem.message
    with pytest.raises(AnchorError):
        ledger.seal()
    ledger.config.anchor_file.write_bytes(b"\xff\xfe")
    (problem,) = ledger.verify().problems
    assert "is not UTF-8" in problem.message


def test_the_anchor_framing_keeps_notes_apart(tmp_path: Path) -> None:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    from ledger_verify.checkpoints import sign_checkpoint

    key = Ed25519PrivateKey.generate()
    anchors = AnchorFile(tmp_path / "a" / "checkpoints.log")
    assert anchors.newest("o/x") is None
    for size in (1, 2, 3):
        anchors.append(sign_checkpoint("o/x", size, bytes([size]) * 32, key))
    anchors.append(sign_checkpoint("o/x/access", 5, bytes(32), key))
    assert [c.size for c in anchors.checkpoints()] == [1, 2, 3, 5]
    newest = anchors.newest("o/x")
    assert newest is not None and newest.size == 3
    text = anchors.path.read_text(encoding="utf-8")
    assert text.count("\n\n") == 8 and text.endswith("\n\n")
    with pytest.raises(AnchorError, match="incomplete"):
        parse_anchors(text[:-1], "f")
    anchors.path.write_text(text[:10], encoding="utf-8")
    with pytest.raises(AnchorError, match="shrank"):
        anchors.newest("o/x")


def test_an_older_copy_of_the_sqlite_file_restored_fails(tmp_path: Path) -> None:
    config = make_config("sqlite", tmp_path)
    ledger = build_ledger(config, app_class=SampleApp)
    write_people(ledger, 6)
    ledger.seal()
    ledger.close()
    backup = tmp_path / "backup"
    backup.mkdir()
    files = [p for p in tmp_path.glob("ledger.sqlite3*")]
    for path in files:
        shutil.copy(path, backup / path.name)
    ledger = build_ledger(config, app_class=SampleApp)
    write_people(ledger, 3, "b")
    ledger.seal()
    ledger.close()
    for path in tmp_path.glob("ledger.sqlite3*"):
        path.unlink()
    for path in files:
        shutil.copy(backup / path.name, path)
    restored = build_ledger(config, app_class=SampleApp)
    try:
        report = restored.verify()
        assert any(
            "ends at size 6 and no longer reaches the anchored size 9" in p.message
            for p in report.problems
        )
        with pytest.raises(NotAnAnchoredExtension):
            restored.seal()
    finally:
        restored.close()
