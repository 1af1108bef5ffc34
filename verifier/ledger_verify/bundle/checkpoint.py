"""The bundle's log key and checkpoint (step 2 of `verify_bundle`): `log.pub` and
`log.vkey` are the same Ed25519 key (and the trusted one, if given), `checkpoint`
is a C2SP note signed by it, and manifest.json's `log` member states the same."""

from __future__ import annotations

import base64
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import load_pem_public_key

from ledger_verify.bundle.layout import open_regular
from ledger_verify.bundle.report import BundleReport
from ledger_verify.checkpoints import (
    Checkpoint,
    CheckpointError,
    parse_checkpoint,
    parse_verifier_key,
)
from ledger_verify.checkpoints import verify_checkpoint as verify_note_checkpoint

TrustedKey = tuple[str, bytes, Ed25519PublicKey]


@dataclass(frozen=True)
class BundleCheckpoint:
    """The bundle's checkpoint as read: parsed (None if it cannot be), its note text
    and its exact bytes, which every inclusion proof of the bundle ends with."""

    checkpoint: Checkpoint | None = None
    note: str = ""
    note_bytes: bytes = b""
    key: Ed25519PublicKey | None = None
    key_name: str = ""
    key_id: bytes = b""


def _read(root: Path, report: BundleReport, name: str) -> bytes | None:
    fh = open_regular(root / name)
    if fh is None:
        report.fail(name, None, "cannot be read as a regular file")
        return None
    with fh:
        return fh.read()


def check_checkpoint(
    root: Path, report: BundleReport, trusted: TrustedKey | None
) -> BundleCheckpoint:
    """Check log.pub, log.vkey and checkpoint; records the key, origin and size and
    each failure in `report`, and returns the checkpoint the proofs must reach
    (read before manifest.json, so that every seq the manifest states is bounded by
    its size; `check_log_member` then compares the manifest's `log`)."""
    pub: Ed25519PublicKey | None = None
    pem = _read(root, report, "log.pub")
    if pem is not None:
        try:
            loaded = load_pem_public_key(pem)
        except (ValueError, TypeError) as exc:
            report.fail("log.pub", None, f"not a PEM public key: {exc}")
        else:
            if isinstance(loaded, Ed25519PublicKey):
                pub = loaded
            else:
                report.fail("log.pub", None, "not an Ed25519 public key")
    name, kid = "", b""
    vkey = _read(root, report, "log.vkey")
    if vkey is not None:
        try:
            name, kid, vpub = parse_verifier_key(vkey.decode("utf-8"))
        except (CheckpointError, UnicodeDecodeError) as exc:
            report.fail("log.vkey", None, str(exc))
        else:
            if pub is not None and pub.public_bytes_raw() != vpub.public_bytes_raw():
                report.fail("log.vkey", None, "is not the same key as log.pub")
            pub = pub or vpub
    if trusted is not None:
        t_name, t_kid, t_pub = trusted
        if (name, kid) != (t_name, t_kid):
            report.fail("log.vkey", None, f"is not the trusted key {t_name}+{t_kid.hex()}")
        name, kid, pub = t_name, t_kid, t_pub
    report.key = f"{name}+{kid.hex()}" if name else ""
    raw = _read(root, report, "checkpoint")
    if raw is None:
        return BundleCheckpoint(key=pub, key_name=name, key_id=kid)
    note = raw.decode("utf-8", errors="replace")
    try:
        if pub is None or not name:
            raise CheckpointError("no usable public key in log.pub / log.vkey to check it")
        cp = verify_note_checkpoint(raw, pub, name)
    except CheckpointError as exc:
        report.fail("checkpoint", None, str(exc))
        try:
            cp = parse_checkpoint(raw)
        except CheckpointError:
            return BundleCheckpoint(None, note, raw, pub, name, kid)
    report.origin, report.checkpoint_size = cp.origin, cp.size
    return BundleCheckpoint(cp, note, raw, pub, name, kid)


def check_log_member(
    report: BundleReport, header: dict[str, Any], anchor: BundleCheckpoint
) -> None:
    """manifest.json's `log` member states the checkpoint and key of the bundle."""
    cp, name = anchor.checkpoint, anchor.key_name
    if cp is None:
        return  # the checkpoint check has failed already
    kid = anchor.key_id
    log = header.get("log")
    stated = {
        "origin": cp.origin,
        "checkpoint_size": cp.size,
        "checkpoint_root": base64.b64encode(cp.root).decode("ascii"),
        "key_name": name,
        "key_id": kid.hex(),
    }
    if not isinstance(log, dict) or any(log.get(k) != v for k, v in stated.items()):
        report.fail("manifest.json", None, "its 'log' member does not match the checkpoint")
