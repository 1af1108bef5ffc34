"""The inclusion proofs of a bundle (`proofs/<seq>.tlog-proof`): each leaf of
leaves.jsonl reaches the bundle's checkpoint root (RFC 9162, tlog-proof@v1)."""

from __future__ import annotations

import base64
import re
from pathlib import Path

from ledger_verify.bundle.checkpoint import BundleCheckpoint
from ledger_verify.bundle.layout import open_regular, proof_path
from ledger_verify.bundle.report import BundleReport
from ledger_verify.checkpoints import Checkpoint, same_log_checkpoint
from ledger_verify.merkle import ProofError, leaf_hash, verify_inclusion
from ledger_verify.tlog_proof import HEADER as TLOG_HEADER
from ledger_verify.tlog_proof import TlogProofError, parse_tlog_proof


def parse_proof_head(head: str) -> tuple[int, tuple[bytes, ...]]:
    """Index and hashes of a tlog-proof whose checkpoint part was already matched:
    the same strict rules as `parse_tlog_proof`, without re-parsing the note."""
    lines = head.split("\n")
    if lines[0] != TLOG_HEADER or len(lines) < 2:
        raise TlogProofError("malformed tlog-proof: bad header")
    if lines[1].startswith("extra "):
        base64.b64decode(lines.pop(1)[6:], validate=True)
    if len(lines) < 2:
        raise TlogProofError("malformed tlog-proof: missing 'index <n>' line")
    index_text = lines[1].removeprefix("index ")
    if index_text == lines[1] or not re.fullmatch(r"0|[1-9][0-9]{0,19}", index_text):
        raise TlogProofError("malformed tlog-proof: missing or bad 'index <n>' line")
    hashes = []
    for line in lines[2:]:
        raw = base64.b64decode(line, validate=True)
        if len(raw) != 32 or base64.b64encode(raw).decode("ascii") != line:
            raise TlogProofError("malformed tlog-proof: a proof hash is not canonical 32 bytes")
        hashes.append(raw)
    return int(index_text), tuple(hashes)


def _same_checkpoint(anchor: BundleCheckpoint, other: Checkpoint) -> bool:
    """Whether a proof's checkpoint note is the bundle's checkpoint: the same signed
    body and log signature; cosignature lines and lines of unknown keys may differ
    (a checkpoint that gained witness cosignatures after the proof was written)."""
    if other.note == anchor.note:
        return True
    cp = anchor.checkpoint
    if cp is None or anchor.key is None or not anchor.key_name:
        return False
    return same_log_checkpoint(cp, other, anchor.key_name, anchor.key)


def check_proof(
    root: Path, report: BundleReport, anchor: BundleCheckpoint, seq: int, raw: bytes
) -> None:
    """Check that `proofs/<seq>.tlog-proof` proves the leaf line `raw` at index `seq`
    of the bundle's checkpoint; records each failure in `report`."""
    name = proof_path(seq)
    fh = open_regular(root / name)
    if fh is None:
        report.fail(name, seq, "missing: no inclusion proof for this leaf")
        return
    with fh:
        data = fh.read()
    cp, tail = anchor.checkpoint, b"\n\n" + anchor.note_bytes
    try:
        if cp is not None and data.endswith(tail):
            # the usual case: the bundle's own checkpoint, parsed and checked once
            index, hashes = parse_proof_head(data[: -len(tail)].decode("ascii"))
        else:
            proof = parse_tlog_proof(data)
            if cp is not None and not _same_checkpoint(anchor, proof.checkpoint):
                report.fail(name, seq, "is against another checkpoint than the bundle's")
                return
            index, hashes = proof.index, proof.hashes
    except (TlogProofError, ValueError) as exc:
        report.fail(name, seq, str(exc) or "malformed tlog-proof")
        return
    if index != seq:
        report.fail(name, seq, f"proves index {index}, not this leaf's seq")
    elif cp is None:
        return
    elif seq >= cp.size:
        report.fail("leaves.jsonl", seq, f"is beyond the checkpoint's size {cp.size}")
    else:
        try:
            verify_inclusion(leaf_hash(raw), seq, cp.size, hashes, cp.root)
        except ProofError:
            report.fail(
                name,
                seq,
                "the inclusion proof does not reach the checkpoint root: this proof "
                "or the leaf in leaves.jsonl was altered",
            )
