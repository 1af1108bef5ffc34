"""The completeness checks of a bundle: no file is there that manifest.json does not
list, no proof is there without its leaf, and the counts are the bundle's own (a
whole-log bundle discloses every seq below the checkpoint size)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from ledger_verify.bundle.layout import PROOF_NAME
from ledger_verify.bundle.manifest import ManifestListing
from ledger_verify.bundle.report import BundleReport, SeqSet
from ledger_verify.bundle.scope import Scope
from ledger_verify.bundle.signature import MANIFEST_SIG


def check_unlisted(
    root: Path, report: BundleReport, listing: ManifestListing, leaf_seqs: SeqSet
) -> None:
    """Report every file of the bundle that manifest.json does not list, or that the
    format does not allow."""
    with os.scandir(root) as entries:
        for entry in entries:
            if entry.name == "proofs" and entry.is_dir(follow_symlinks=False):
                _check_proof_dir(entry.path, report, listing, leaf_seqs)
            elif entry.is_symlink() or not entry.is_file():
                report.fail(entry.name, None, "is not a regular file or proofs/")
            elif (
                entry.name not in ("manifest.json", MANIFEST_SIG) and entry.name not in listing.top
            ):
                report.fail(entry.name, None, "is not listed in manifest.json")


def _check_proof_dir(
    path: str, report: BundleReport, listing: ManifestListing, leaf_seqs: SeqSet
) -> None:
    with os.scandir(path) as entries:
        for entry in entries:
            name = "proofs/" + entry.name
            match = PROOF_NAME.fullmatch(name)
            seq = int(match[1]) if match else None
            if seq is None or entry.is_symlink() or not entry.is_file():
                report.fail(name, None, "is not a proof file the format allows")
            elif seq not in listing.proofs:
                report.fail(name, seq, "is not listed in manifest.json")
            elif seq not in leaf_seqs:
                report.fail(name, seq, "proves a leaf that leaves.jsonl does not contain")


def check_counts(report: BundleReport, header: dict[str, Any], scope: Scope | None) -> None:
    """Check manifest.json's counts, and that a whole-log bundle holds every event."""
    size = report.checkpoint_size
    if scope is not None and scope.everything and report.events != size:
        # a whole-log bundle must disclose every seq below the checkpoint size
        report.fail(
            "leaves.jsonl",
            None,
            f"the scope is the whole log, yet it holds "
            f"{report.events} of the checkpoint's {size} events",
        )
    counts = header.get("counts")
    found = {"events": report.events, "decrypted": report.decrypted}
    found["erased"] = report.erased
    if header and (not isinstance(counts, dict) or counts != found):
        report.fail("manifest.json", None, f"its counts differ from the bundle's {found}")
