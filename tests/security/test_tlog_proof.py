"""Tests of the C2SP tlog-proof@v1 format (ledger_verify.tlog_proof)."""

from __future__ import annotations

import base64

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from ledger_verify.checkpoints import parse_checkpoint, sign_checkpoint
from ledger_verify.merkle import MerkleTree, leaf_hash
from ledger_verify.tlog_proof import (
    HEADER,
    TlogProof,
    TlogProofError,
    format_tlog_proof,
    parse_tlog_proof,
    verify_tlog_proof,
)

pytestmark = pytest.mark.unit

ORIGIN = "ledger.example.com/crm"
KEY = Ed25519PrivateKey.from_private_bytes(b"\x07" * 32)
PUB = KEY.public_key()
LEAVES = [b"event %d" % i for i in range(13)]
TREE = MerkleTree(leaf_hash(x) for x in LEAVES)
NOTE = sign_checkpoint(ORIGIN, TREE.size, TREE.root(), KEY)
INDEX = 5
PROOF = TREE.inclusion_proof(INDEX)


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def test_layout_matches_the_c2sp_spec() -> None:
    text = format_tlog_proof(INDEX, PROOF, NOTE)
    expected = "\n".join([HEADER, f"index {INDEX}", *map(_b64, PROOF)]) + "\n\n" + NOTE
    assert text == expected
    assert text.startswith("c2sp.org/tlog-proof@v1\nindex 5\n")

    with_extra = format_tlog_proof(INDEX, PROOF, NOTE, extra=b"opaque context")
    assert with_extra.split("\n")[:3] == [HEADER, "extra " + _b64(b"opaque context"), "index 5"]


@pytest.mark.parametrize("extra", [None, b"", b"\x00\xffsome extra bytes"])
def test_round_trip(extra: bytes | None) -> None:
    text = format_tlog_proof(INDEX, PROOF, NOTE, extra)
    proof = parse_tlog_proof(text)
    assert isinstance(proof, TlogProof)
    assert proof.index == INDEX
    assert proof.hashes == tuple(PROOF)
    assert proof.extra == extra
    assert proof.checkpoint == parse_checkpoint(NOTE)
    assert proof.checkpoint.note == NOTE
    assert proof.format() == text
    assert parse_tlog_proof(text.encode("utf-8")) == proof


def test_single_leaf_tree_has_no_hash_lines() -> None:
    tree = MerkleTree([leaf_hash(b"only")])
    note = sign_checkpoint(ORIGIN, 1, tree.root(), KEY)
    text = format_tlog_proof(0, [], note)
    assert text == f"{HEADER}\nindex 0\n\n{note}"
    proof = verify_tlog_proof(text, leaf_hash(b"only"), PUB, ORIGIN)
    assert proof.hashes == () and proof.checkpoint.size == 1


def test_format_accepts_a_parsed_checkpoint() -> None:
    assert format_tlog_proof(INDEX, PROOF, parse_checkpoint(NOTE)) == format_tlog_proof(
        INDEX, PROOF, NOTE
    )


def test_every_leaf_verifies() -> None:
    for index, data in enumerate(LEAVES):
        text = format_tlog_proof(index, TREE.inclusion_proof(index), NOTE)
        proof = verify_tlog_proof(text, leaf_hash(data), PUB, ORIGIN, origin=ORIGIN)
        assert proof.index == index
        assert proof.checkpoint.root == TREE.root()


def test_verification_failures() -> None:
    text = format_tlog_proof(INDEX, PROOF, NOTE)
    with pytest.raises(TlogProofError, match="inclusion proof does not verify"):
        verify_tlog_proof(text, leaf_hash(LEAVES[INDEX + 1]), PUB, ORIGIN)
    other = Ed25519PrivateKey.from_private_bytes(b"\x08" * 32).public_key()
    with pytest.raises(TlogProofError, match="checkpoint does not verify"):
        verify_tlog_proof(text, leaf_hash(LEAVES[INDEX]), other, ORIGIN)
    with pytest.raises(TlogProofError, match="checkpoint does not verify"):
        verify_tlog_proof(text, leaf_hash(LEAVES[INDEX]), PUB, ORIGIN, origin="x.example/log")
    wrong_index = format_tlog_proof(INDEX + 2, PROOF, NOTE)
    with pytest.raises(TlogProofError, match="inclusion proof does not verify"):
        verify_tlog_proof(wrong_index, leaf_hash(LEAVES[INDEX]), PUB, ORIGIN)
    changed = [*PROOF[:-1], leaf_hash(b"forged")]
    with pytest.raises(TlogProofError, match="inclusion proof does not verify"):
        verify_tlog_proof(
            format_tlog_proof(INDEX, changed, NOTE), leaf_hash(LEAVES[INDEX]), PUB, ORIGIN
        )
    beyond = format_tlog_proof(TREE.size, PROOF, NOTE)
    with pytest.raises(TlogProofError, match="not below tree size"):
        verify_tlog_proof(beyond, leaf_hash(LEAVES[INDEX]), PUB, ORIGIN)


GOOD = format_tlog_proof(INDEX, PROOF, NOTE)
LINES = GOOD.split("\n")
H0 = LINES[2]


@pytest.mark.parametrize(
    "text",
    [
        pytest.param("", id="empty"),
        pytest.param(GOOD.replace(HEADER, "c2sp.org/tlog-proof@v2"), id="wrong-version"),
        pytest.param(GOOD.replace(HEADER + "\n", ""), id="no-header"),
        pytest.param(" " + GOOD, id="leading-space"),
        pytest.param(GOOD.replace("\n", "\r\n"), id="crlf"),
        pytest.param(GOOD.replace("index 5\n", ""), id="no-index"),
        pytest.param(GOOD.replace("index 5", "index 05"), id="index-leading-zero"),
        pytest.param(GOOD.replace("index 5", "index -5"), id="index-negative"),
        pytest.param(GOOD.replace("index 5", "index  5"), id="index-double-space"),
        pytest.param(GOOD.replace("index 5", "index 5 "), id="index-trailing-space"),
        pytest.param(GOOD.replace("index 5", "index"), id="index-no-number"),
        pytest.param(GOOD.replace("index 5", f"index {2**64}"), id="index-overflow"),
        pytest.param(GOOD.replace("index 5", "Index 5"), id="index-capital"),
        pytest.param(GOOD.replace("index 5\n", "index 5\nextra AAAA\n"), id="extra-after-index"),
        pytest.param(GOOD.replace(HEADER + "\n", HEADER + "\nextra !!\n"), id="extra-not-b64"),
        pytest.param(GOOD.replace(HEADER + "\n", HEADER + "\nextra YQ\n"), id="extra-no-pad"),
        pytest.param(GOOD.replace(H0, H0[:-4]), id="hash-short"),
        pytest.param(GOOD.replace(H0, H0 + "AAAA"), id="hash-long"),
        pytest.param(GOOD.replace(H0, H0[:-2] + "B="), id="hash-noncanonical"),
        pytest.param(GOOD.replace(H0, bytes.fromhex("00" * 32).hex()), id="hash-hex"),
        pytest.param(GOOD.replace(H0, H0 + " "), id="hash-trailing-space"),
        pytest.param(GOOD.replace("\n\n", "\n", 1), id="no-blank-line"),
        pytest.param(GOOD.split("\n\n", 1)[0] + "\n\n", id="no-checkpoint"),
        pytest.param("\n".join(LINES[:-1]), id="checkpoint-truncated"),
        pytest.param(GOOD.replace("\n\n", "\n\n\n", 1), id="two-blank-lines"),
        pytest.param(GOOD + "garbage\n", id="trailing-garbage"),
    ],
)
def test_malformed_proofs_are_rejected(text: str) -> None:
    with pytest.raises(TlogProofError):
        parse_tlog_proof(text)


def test_non_utf8_bytes_rejected() -> None:
    with pytest.raises(TlogProofError, match="UTF-8"):
        parse_tlog_proof(GOOD.encode() + b"\xff")


@pytest.mark.parametrize(
    ("index", "hashes", "note", "extra"),
    [
        pytest.param(-1, PROOF, NOTE, None, id="negative-index"),
        pytest.param(2**64, PROOF, NOTE, None, id="index-overflow"),
        pytest.param(True, PROOF, NOTE, None, id="bool-index"),
        pytest.param(INDEX, [*PROOF, b"short"], NOTE, None, id="short-hash"),
        pytest.param(INDEX, PROOF, NOTE.replace("\n\n", "\n"), None, id="bad-checkpoint"),
        pytest.param(INDEX, PROOF, NOTE, "text", id="extra-not-bytes"),
    ],
)
def test_format_rejects_bad_input(
    index: int, hashes: list[bytes], note: str, extra: object
) -> None:
    with pytest.raises(TlogProofError):
        format_tlog_proof(index, hashes, note, extra)  # type: ignore[arg-type]
