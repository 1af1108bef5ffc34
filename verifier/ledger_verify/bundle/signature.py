"""The bundle's signed manifest: `manifest.sig`, a C2SP signed note by the log key
over the SHA-256 of manifest.json.

manifest.json states the scope, the counts and the hash of every file; without a
signature anyone could drop events, rewrite the scope and recompute the hashes.
The note's text is three lines:

    crm-ledger/bundle-manifest/v1
    <origin>
    <sha256 hex of manifest.json>

signed with the log's Ed25519 key under its key name (the origin), exactly like a
checkpoint, so `openssl pkeyutl -verify -rawin` checks it the same way.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from ledger_verify.bundle.checkpoint import BundleCheckpoint
from ledger_verify.bundle.layout import HEX64, open_regular
from ledger_verify.bundle.report import BundleReport
from ledger_verify.checkpoints import CheckpointError, sign_note, verify_note

MANIFEST_SIG = "manifest.sig"
NOTE_HEADER = "crm-ledger/bundle-manifest/v1"


def manifest_note_text(origin: str, digest: str) -> str:
    """The signed text naming a manifest by its SHA-256."""
    return f"{NOTE_HEADER}\n{origin}\n{digest}\n"


def sign_manifest(bundle: Path, digest: str, private_key: Ed25519PrivateKey, origin: str) -> None:
    """Write `manifest.sig` for the manifest whose SHA-256 is `digest`."""
    note = sign_note(manifest_note_text(origin, digest), private_key, origin)
    (bundle / MANIFEST_SIG).write_text(note, encoding="utf-8")


def check_manifest_signature(root: Path, report: BundleReport, anchor: BundleCheckpoint) -> None:
    """Check that `manifest.sig` is signed by the bundle's (checked) log key and names
    this manifest.json; records each failure in `report`."""
    if anchor.key is None or not anchor.key_name:
        report.fail(MANIFEST_SIG, None, "cannot be checked: no usable log key")
        return
    fh = open_regular(root / MANIFEST_SIG)
    if fh is None:
        report.fail(MANIFEST_SIG, None, "missing: the manifest is not signed")
        return
    with fh:
        raw = fh.read()
    try:
        note = verify_note(raw, anchor.key, anchor.key_name)
    except CheckpointError as exc:
        report.fail(MANIFEST_SIG, None, f"not signed by the log key: {exc}")
        return
    lines = note.text.split("\n")
    if (
        len(lines) != 4
        or lines[0] != NOTE_HEADER
        or lines[3] != ""
        or not HEX64.fullmatch(lines[2])
    ):
        report.fail(MANIFEST_SIG, None, "its text is not a bundle-manifest note")
        return
    if lines[1] != anchor.key_name:
        report.fail(MANIFEST_SIG, None, "names another log than the checkpoint's")
    manifest = open_regular(root / "manifest.json")
    if manifest is None:
        return  # already reported by the manifest check
    with manifest:
        digest = hashlib.sha256(manifest.read()).hexdigest()
    if digest != lines[2]:
        report.fail("manifest.json", None, "differs from the one the log key signed")
