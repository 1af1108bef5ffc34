"""The anchor file's own robustness: a torn last entry (a process killed in the middle
of an append) is left out and repaired by the next append; a torn entry with entries
after it stays an error; every anchor is checked with the log key and in order."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from ledger_verify.checkpoints import sign_checkpoint
from security.integrity.anchors import AnchorError, AnchorFile, parse_anchors

pytestmark = pytest.mark.unit

ORIGIN = "example.test/log"
KEY = Ed25519PrivateKey.generate()


def note(size: int, key: Ed25519PrivateKey = KEY, origin: str = ORIGIN) -> str:
    return sign_checkpoint(origin, size, bytes([size % 256]) * 32, key)


def anchor_file(tmp_path: Path, sizes: tuple[int, ...] = (1, 2)) -> AnchorFile:
    anchors = AnchorFile(tmp_path / "anchors" / "checkpoints.log")
    anchors.trust(ORIGIN, KEY.public_key())
    for size in sizes:
        anchors.append(note(size))
    return anchors


def entry(size: int) -> bytes:
    return (note(size) + "\n").encode("utf-8")


CUTS = {
    "in the origin line": 5,
    "after the body": len(note(3).split("\n\n")[0]) + 1,
    "after the blank line": len(note(3).split("\n\n")[0]) + 2,
    "inside the em dash": len(note(3).split("\n\n")[0].encode()) + 3,
    "in the signature": len(entry(3)) - 20,
    "before the final blank line": len(entry(3)) - 1,
}


@pytest.mark.parametrize("cut", list(CUTS))
def test_a_torn_last_entry_is_left_out_and_repaired_by_the_next_append(
    tmp_path: Path, cut: str, caplog: pytest.LogCaptureFixture
) -> None:
    anchors = anchor_file(tmp_path)
    intact = anchors.path.read_bytes()
    with anchors.path.open("ab") as handle:  # a process killed mid-append
        handle.write(entry(3)[: CUTS[cut]])
    for reader in (anchors, AnchorFile(anchors.path)):
        newest = reader.newest(ORIGIN, fresh=True)
        assert newest is not None and newest.size == 2
        assert [c.size for c in reader.checkpoints()] == [1, 2]
    with caplog.at_level(logging.WARNING, logger="security.anchors"):
        anchors.append(note(4))
    assert any("torn" in r.getMessage() for r in caplog.records)
    assert anchors.path.read_bytes() == intact + entry(4)
    assert [c.size for c in parse_anchors(anchors.path.read_text("utf-8"), "f")] == [1, 2, 4]
    newest = anchors.newest(ORIGIN)
    assert newest is not None and newest.size == 4


def test_a_torn_entry_in_the_middle_is_an_error_naming_its_line(tmp_path: Path) -> None:
    anchors = anchor_file(tmp_path)
    with anchors.path.open("ab") as handle:
        handle.write(entry(3)[:-30] + entry(4))
    with pytest.raises(AnchorError, match=r"the entry at line 13 \(entry 3\)"):
        AnchorFile(anchors.path).newest(ORIGIN)
    with pytest.raises(AnchorError):
        anchors.append(note(5))  # nothing is appended after a damaged middle


def test_garbage_at_the_end_is_not_mistaken_for_a_torn_entry(tmp_path: Path) -> None:
    anchors = anchor_file(tmp_path)
    with anchors.path.open("ab") as handle:
        handle.write(b"garbage\n\n")
    with pytest.raises(AnchorError, match="line 13 is incomplete"):
        anchors.newest(ORIGIN, fresh=True)


@pytest.mark.parametrize("tail", [b"not a checkpoint\n", b"other.test/log\n3\n", b"exam"])
def test_a_tail_that_names_no_known_origin_is_not_a_torn_entry(tmp_path: Path, tail: bytes) -> None:
    anchors = anchor_file(tmp_path)
    with anchors.path.open("ab") as handle:
        handle.write(tail)
    if tail == b"exam":  # a prefix of the log's origin: a write cut in its first line
        newest = anchors.newest(ORIGIN, fresh=True)
        assert newest is not None and newest.size == 2
        return
    with pytest.raises(AnchorError, match="line 13 is incomplete"):
        anchors.newest(ORIGIN, fresh=True)


def test_every_anchor_is_checked_with_the_log_key_not_only_the_newest(tmp_path: Path) -> None:
    anchors = AnchorFile(tmp_path / "checkpoints.log")
    anchors.append(note(1, key=Ed25519PrivateKey.generate()))  # a forger's, first
    for size in (2, 3):
        anchors.append(note(size))
    assert AnchorFile(anchors.path).newest(ORIGIN) is not None  # no key: not checked
    checked = AnchorFile(anchors.path)
    checked.trust(ORIGIN, KEY.public_key())
    with pytest.raises(AnchorError, match=r"entry 1 \(line 1\).*does not verify with the log key"):
        checked.newest(ORIGIN, fresh=True)
    with pytest.raises(AnchorError, match=r"entry 1 \(line 1\)"):
        checked.append(note(4))


def test_anchors_of_one_origin_never_go_backwards(tmp_path: Path) -> None:
    anchors = anchor_file(tmp_path, sizes=(1, 3))
    anchors.append(note(5, origin=ORIGIN + "/access"))  # another log: its own order
    with anchors.path.open("ab") as handle:  # appended by hand: append() would skip it
        handle.write(entry(2))
    with pytest.raises(AnchorError, match=r"entry 4 \(line 19\).*size 2, follows one at size 3"):
        AnchorFile(anchors.path).newest(ORIGIN)


def test_a_fresh_read_notices_a_rewritten_older_entry(tmp_path: Path) -> None:
    anchors = anchor_file(tmp_path, sizes=(1, 2, 3))
    assert anchors.newest(ORIGIN) is not None
    text = anchors.path.read_text("utf-8")
    forged = note(1, key=Ed25519PrivateKey.generate())
    first_end = text.index("\n\n", text.index("\n\n") + 2) + 2
    anchors.path.write_text(forged + "\n" + text[first_end:], "utf-8")
    with pytest.raises(AnchorError, match=r"entry 1 \(line 1\)"):
        anchors.newest(ORIGIN, fresh=True)


def test_a_seal_that_lost_the_race_to_a_larger_anchor_appends_nothing(tmp_path: Path) -> None:
    anchors = anchor_file(tmp_path, sizes=(1, 3))
    before = anchors.path.read_bytes()
    AnchorFile(anchors.path).append(note(2))  # another process, its checkpoint older
    AnchorFile(anchors.path).append(note(3))  # the same checkpoint, anchored already
    assert anchors.path.read_bytes() == before
    with pytest.raises(AnchorError, match="a fork"):
        anchors.append(sign_checkpoint(ORIGIN, 3, bytes([9]) * 32, KEY))
    assert anchors.path.read_bytes() == before
