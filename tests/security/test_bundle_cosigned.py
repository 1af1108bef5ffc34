"""A bundle's checkpoint is identified by its signed body and the log's signature:
witness cosignatures (and lines of unknown keys) added to the note before or after
the inclusion proofs were written do not make it another checkpoint
(c2sp.org/signed-note: verifiers ignore signatures from unknown keys)."""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from ledger_verify.bundle.signature import sign_manifest
from ledger_verify.bundle.verify import summary, verify_bundle
from ledger_verify.checkpoints import NoteSignature, parse_checkpoint, sign_checkpoint
from ledger_verify.cosignature import append_signature_lines, cosign, cosigner_vkey
from tests.security.test_bundle_verify import pristine, rehash, resign

__all__ = ["pristine"]  # the module-scoped fixture, shared with test_bundle_verify

pytestmark = pytest.mark.unit

LOG_KEY = Ed25519PrivateKey.generate()
WITNESS = Ed25519PrivateKey.generate()
WITNESS_NAME = "witness.example/w1"
WITNESS_VKEY = cosigner_vkey(WITNESS_NAME, WITNESS.public_key())


@pytest.fixture
def bundle(pristine: Path, tmp_path: Path) -> Path:
    """The pristine bundle re-signed with a key this test holds, so it can re-sign
    the manifest after editing the checkpoint."""
    copy = tmp_path / "bundle"
    shutil.copytree(pristine, copy)
    resign(copy, LOG_KEY)
    assert verify_bundle(copy).ok
    return copy


def seal_manifest(bundle: Path) -> None:
    rehash(bundle)
    origin = parse_checkpoint((bundle / "checkpoint").read_text("utf-8")).origin
    digest = hashlib.sha256((bundle / "manifest.json").read_bytes()).hexdigest()
    sign_manifest(bundle, digest, LOG_KEY, origin)


def cosigned(note: str) -> str:
    return append_signature_lines(note, [cosign(note, WITNESS, WITNESS_NAME, 1_700_000_000)])


def unknown_line() -> str:
    return NoteSignature("someone.else/key", b"\x01\x02\x03\x04", bytes(64)).line()


def set_proof_notes(bundle: Path, note: str) -> None:
    for proof in (bundle / "proofs").iterdir():
        head = proof.read_text("utf-8").split("\n\n", 1)[0]
        proof.write_text(head + "\n\n" + note, "utf-8")


def test_a_checkpoint_that_gained_cosignatures_after_the_proofs_still_verifies(
    bundle: Path,
) -> None:
    note = (bundle / "checkpoint").read_text("utf-8")
    (bundle / "checkpoint").write_text(cosigned(note) + unknown_line(), "utf-8")
    seal_manifest(bundle)
    report = verify_bundle(bundle)
    assert report.ok, summary(report)
    report = verify_bundle(bundle, witness_vkeys=[WITNESS_VKEY], witness_quorum=1)
    assert report.ok, summary(report)
    assert report.cosigned_by == ["+".join(WITNESS_VKEY.split("+")[:2])]  # name+key id


def test_proofs_recorded_against_the_cosigned_note_reach_the_bare_checkpoint(
    bundle: Path,
) -> None:
    note = (bundle / "checkpoint").read_text("utf-8")
    set_proof_notes(bundle, cosigned(note))
    seal_manifest(bundle)
    report = verify_bundle(bundle)
    assert report.ok, summary(report)
    # the quorum is counted on the bundle's checkpoint, which carries no cosignature
    report = verify_bundle(bundle, witness_vkeys=[WITNESS_VKEY], witness_quorum=1)
    assert not report.ok
    assert "carries valid cosignatures from 0 trusted witness(es)" in summary(report)


def test_a_proof_against_the_same_body_without_the_log_signature_is_another_checkpoint(
    bundle: Path,
) -> None:
    cp = parse_checkpoint((bundle / "checkpoint").read_text("utf-8"))
    forged = sign_checkpoint(cp.origin, cp.size, cp.root, Ed25519PrivateKey.generate())
    proof = bundle / "proofs" / "2.tlog-proof"
    head = proof.read_text("utf-8").split("\n\n", 1)[0]
    proof.write_text(head + "\n\n" + cosigned(forged), "utf-8")
    seal_manifest(bundle)
    text = summary(verify_bundle(bundle))
    assert "proofs/2.tlog-proof seq 2: is against another checkpoint" in text, text


def test_a_bad_cosignature_of_a_trusted_witness_fails_the_quorum(bundle: Path) -> None:
    note = (bundle / "checkpoint").read_text("utf-8")
    line = cosign(note, Ed25519PrivateKey.generate(), WITNESS_NAME, 1_700_000_000)
    name, blob = line.rstrip("\n").rsplit(" ", 1)
    forged = f"{name} {blob}\n"
    # same name, the trusted witness's key id, another key's signature
    sig = NoteSignature(
        WITNESS_NAME,
        bytes.fromhex(WITNESS_VKEY.split("+")[1]),
        parse_checkpoint(note + forged).signatures[-1].signature,
    )
    (bundle / "checkpoint").write_text(note + sig.line(), "utf-8")
    seal_manifest(bundle)
    assert verify_bundle(bundle).ok  # without --witness-vkey the line is an unknown key's
    report = verify_bundle(bundle, witness_vkeys=[WITNESS_VKEY], witness_quorum=1)
    assert not report.ok
    assert "a trusted witness's cosignature is bad" in summary(report)
