"""Offline verification of an audit-trail bundle (docs/export-format.md).

Needs no database, no private key and none of the ledger's storage code: only
`cryptography` and the pure modules `ledger_verify.merkle`, `ledger_verify.checkpoints`,
`ledger_verify.tlog_proof` and the `ledger_verify.bundle` modules, so a regulator can run
it standalone (`ledger-verify BUNDLE`, see `ledger_verify.cli`). `verify_bundle` checks:

1. `manifest.json`: lists every other file with its SHA-256, each matches, no file
   is missing or unlisted (the bundle digest is the SHA-256 of manifest.json);
2. `log.pub` and `log.vkey` are the same Ed25519 key (and the trusted one, if
   given); `checkpoint` is a C2SP note signed by it with the right key id;
3. every line of `leaves.jsonl` is canonical and is included in the checkpoint's
   tree by its `proofs/<seq>.tlog-proof` (RFC 9162);
4. each key of `keys.jsonl` decrypts its leaf's ciphertext (AES-256-GCM, the
   stated associated data), and every leaf without a key is marked erased;
5. `events.jsonl` and `events.csv` are exactly what the decrypted state renders to;
6. for a customer scope, `completeness.jsonl` proves each customer's entry in the
   subject map the checkpoint signs, and the bundle holds every event of its chain;
7. for a time window, `window.json` proves the log range [nA, nB) between two signed
   checkpoints recorded around the window, and the bundle holds every event of its
   scope in that range (each customer's, through the subject map at both ends).

Each step lives in its own module of `ledger_verify.bundle` (`manifest`, `checkpoint`,
`proofs`, `event_check`, `completeness`); this one runs them in order. The rendering
of an event (`event_record`, `csv_cells`, in `ledger_verify.bundle.events`)
is shared with the exporter, so what is written is by construction what is checked;
it stays importable from here. Failure messages name the file and seq, never a
decrypted value.
"""

from __future__ import annotations

import tarfile
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from ledger_verify.bundle.checkpoint import TrustedKey, check_checkpoint, check_log_member
from ledger_verify.bundle.completeness import check_counts, check_unlisted
from ledger_verify.bundle.cosignatures import check_quorum
from ledger_verify.bundle.event_check import check_events
from ledger_verify.bundle.events import CSV_HEADER, csv_cells, event_record, humanise, record_line
from ledger_verify.bundle.layout import FORMAT, TOP_FILES, proof_path
from ledger_verify.bundle.manifest import ManifestError, check_manifest, parse_manifest
from ledger_verify.bundle.report import BundleReport, Failure, summary
from ledger_verify.bundle.scope import Scope, ScopeError, parse_scope
from ledger_verify.bundle.signature import check_manifest_signature
from ledger_verify.bundle.subject_chains import check_completeness
from ledger_verify.bundle.tar import bundle_root, extract, is_archive
from ledger_verify.bundle.window import check_range, check_window
from ledger_verify.checkpoints import CheckpointError, parse_verifier_key
from ledger_verify.cosignature import Cosigner, parse_cosigner_vkey
from ledger_verify.leaf import LEAF_FIELDS, associated_data, decrypt_leaf

__all__ = [
    "CSV_HEADER",
    "FORMAT",
    "LEAF_FIELDS",
    "TOP_FILES",
    "BundleReport",
    "Failure",
    "ManifestError",
    "associated_data",
    "csv_cells",
    "decrypt_leaf",
    "event_record",
    "humanise",
    "parse_manifest",
    "proof_path",
    "record_line",
    "summary",
    "verify_bundle",
]


def _verify_directory(
    root: Path,
    report: BundleReport,
    trusted: TrustedKey | None,
    progress: Callable[[int, int], None] | None,
    witnesses: Sequence[Cosigner] = (),
    quorum: int = 0,
) -> None:
    anchor = check_checkpoint(root, report, trusted)
    size = None if anchor.checkpoint is None else anchor.checkpoint.size
    listing = check_manifest(root, report, size)
    check_log_member(report, listing.header, anchor)
    check_quorum(report, anchor, witnesses, quorum)
    check_manifest_signature(root, report, anchor)
    leaf_seqs = check_events(root, report, listing.header, anchor, progress)
    check_unlisted(root, report, listing, leaf_seqs)
    scope = read_scope(report, listing.header)
    check_counts(report, listing.header, scope)
    window = check_window(root, report, listing.header, scope, anchor, witnesses, quorum)
    if window is not None and scope is not None and not scope.customers:
        check_range(report, window, leaf_seqs)
    check_completeness(root, report, scope, anchor, window)


def read_scope(report: BundleReport, header: dict[str, Any]) -> Scope | None:
    """manifest.json's scope, checked strictly; None (a failure recorded) if it is not
    the documented shape, so that no weaker check stands in for the right one."""
    if not header:
        return None  # the manifest check has failed already
    try:
        scope = parse_scope(header)
    except ScopeError as exc:
        report.fail("manifest.json", None, f"its scope is malformed: {exc}")
        return None
    report.scope = (
        "the whole log"
        if scope.everything
        else ""
        if not scope.customers
        else f"{len(scope.customers)} customer(s): {', '.join(scope.customers)}"
    )
    return scope


def witness_policy(vkeys: Sequence[str], quorum: int | None) -> tuple[tuple[Cosigner, ...], int]:
    """The trusted witnesses and the quorum; ValueError if a vkey is malformed, one is
    given twice, or the quorum is not in 0..number of witnesses."""
    witnesses = []
    for vkey in vkeys:
        try:
            witnesses.append(parse_cosigner_vkey(vkey))
        except CheckpointError as exc:
            raise ValueError(
                f"the witness verifier key {vkey.strip()!r} is malformed: {exc}"
            ) from None
    if len({w.public_key.public_bytes_raw() for w in witnesses}) != len(witnesses):
        raise ValueError("a witness verifier key is given twice")
    needed = len(witnesses) if quorum is None else quorum
    if not 0 <= needed <= len(witnesses):
        raise ValueError(
            f"the witness quorum {needed} needs between 0 and {len(witnesses)} (the number "
            "of --witness-vkey) trusted witnesses"
        )
    return tuple(witnesses), needed


def verify_bundle(
    path: str | Path,
    *,
    trusted_vkey: str | None = None,
    progress: Callable[[int, int], None] | None = None,
    max_failures: int = 200,
    witness_vkeys: Sequence[str] = (),
    witness_quorum: int | None = None,
) -> BundleReport:
    """Verify a bundle directory or a .tar.gz of one, offline; see the module docstring.

    The report is `ok` only if every check held; otherwise it lists each failure
    (up to `max_failures`, all counted) naming file and seq. Memory stays bounded by
    one bit per leaf index, whatever the bundle's size. Raises ValueError when
    `path` is not a directory or tar file, or `trusted_vkey` is not a verifier key.

    With `witness_vkeys` (C2SP cosigner vkeys), the checkpoint must carry valid
    cosignatures from `witness_quorum` of them (default: all of them).
    """
    witnesses, quorum = witness_policy(witness_vkeys, witness_quorum)
    trusted = None
    if trusted_vkey is not None:
        try:
            trusted = parse_verifier_key(trusted_vkey)
        except CheckpointError as exc:
            raise ValueError(f"the trusted verifier key is malformed: {exc}") from exc
    report = BundleReport(max_failures=max_failures)
    target = Path(path)
    if target.is_dir():
        _verify_directory(target, report, trusted, progress, witnesses, quorum)
        return report
    if not is_archive(target):
        raise ValueError(f"{target} is neither a bundle directory nor a .tar.gz of one")
    with tempfile.TemporaryDirectory(prefix="bundle-verify-") as tmp:
        try:
            extract(target, Path(tmp))
        except (tarfile.TarError, OSError) as exc:
            report.fail(target.name, None, f"cannot be unpacked safely: {exc}")
            return report
        _verify_directory(bundle_root(Path(tmp)), report, trusted, progress, witnesses, quorum)
    return report
