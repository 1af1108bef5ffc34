"""The completeness proof of a customer bundle (docs/export-format.md,
"completeness.jsonl"): for each customer in scope, the customer's entry in the
subject map signed by the checkpoint, and the chain of every event of the customer
up to the checkpoint, each of which the bundle must hold.

A line of completeness.jsonl (RFC 8785 JSON, one per customer, in the scope's order):
`{"subject", "siblings": [base64...], "terminal": null | {"key", "value"},
"chain": [[seq, base64 leaf hash], ...]}`. The verifier recomputes the map key of
the subject from the salt the checkpoint signs, folds the proof up to the signed
map root (`ledger_verify.smt`), recomputes the chain head from `chain` and compares
it with the entry's (count, latest seq, head); then every seq of the chain must be a
line of leaves.jsonl whose leaf hash is the chain's. An event left out, the newest
included, an erased one (a leaf without a key is still a leaf) or a chain cut short
is named by its seq or fails the head.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from ledger_verify.bundle.checkpoint import BundleCheckpoint
from ledger_verify.bundle.layout import open_regular
from ledger_verify.bundle.map_lines import (
    COMPLETENESS,
    canonical_line,
    chain_json,
    proof_json,
    proof_of,
    steps_of,
)
from ledger_verify.bundle.report import BundleReport
from ledger_verify.bundle.window import Window, window_of
from ledger_verify.bundle.window_chains import window_chains
from ledger_verify.merkle import leaf_hash
from ledger_verify.smt import (
    EMPTY,
    Entry,
    MapProof,
    MapProofError,
    chain_head,
    map_key,
    signed_map,
    verify_proof,
)

__all__ = [
    "COMPLETENESS",
    "check_completeness",
    "customers_in_scope",
    "line_of",
    "match_leaves",
    "parse_line",
]


def parse_line(raw: bytes) -> tuple[str, MapProof, list[tuple[int, bytes]]]:
    """(subject, map proof, chain) of one completeness.jsonl line; ValueError if it
    is not the format's."""
    obj = canonical_line(raw, {"subject", "siblings", "terminal", "chain"})
    return obj["subject"], proof_of(obj["siblings"], obj["terminal"]), steps_of(obj["chain"])


def line_of(subject: str, proof: MapProof, chain: list[tuple[int, bytes]]) -> bytes:
    """The completeness.jsonl line (without newline) of a subject: what the exporter
    writes and `parse_line` reads."""
    obj = {"subject": subject, **proof_json(proof), "chain": chain_json(chain)}
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def customers_in_scope(header: dict[str, Any]) -> list[str] | None:
    """The customers whose completeness the bundle must prove: those of a customer
    scope, with or without a time window; None for other scopes."""
    scope = header.get("scope")
    if not isinstance(scope, dict) or scope.get("all") is True:
        return None
    customers = scope.get("customers")
    if not isinstance(customers, list) or not customers:
        return None
    return [c for c in customers if isinstance(c, str)]


def check_completeness(
    root: Path,
    report: BundleReport,
    header: dict[str, Any],
    anchor: BundleCheckpoint,
    window: Window | None = None,
) -> None:
    """Check that the bundle holds every event of each customer in scope up to its
    checkpoint, or, for a window bundle (`window`: its verified log range), every
    event of each customer in that range (see the module docstring); failures name
    the missing seq."""
    customers = customers_in_scope(header)
    present = (root / COMPLETENESS).exists()
    if customers is None:
        if present:
            report.fail(COMPLETENESS, None, "this scope proves no completeness: remove it")
        return
    checkpoint = anchor.checkpoint
    if checkpoint is None:
        return  # the checkpoint check has failed already
    try:
        windowed = window_of(header) is not None
    except ValueError:
        return  # the window check has named it
    if windowed:
        if window is None:
            return  # the window check has failed already
        if not present:
            report.fail(COMPLETENESS, None, "missing: the customers' completeness is not proven")
            return
        match_leaves(root, report, window_chains(root, report, customers, window))
        return
    try:
        signed = signed_map(checkpoint.extensions)
    except ValueError as exc:
        report.fail("checkpoint", None, str(exc))
        return
    if signed is None:
        report.fail(
            "checkpoint",
            None,
            "signs no subject map: that the bundle holds every event of the customers "
            "cannot be proven",
        )
        return
    if not present:
        report.fail(COMPLETENESS, None, "missing: the customers' completeness is not proven")
        return
    expected = _read_chains(root, report, customers, signed, checkpoint.size)
    match_leaves(root, report, expected)


def _read_chains(
    root: Path,
    report: BundleReport,
    customers: list[str],
    signed: tuple[bytes, bytes],
    size: int,
) -> dict[int, tuple[bytes, int]]:
    """seq → (leaf hash, line number) of every chain step of a proven entry."""
    salt, map_root = signed
    expected: dict[int, tuple[bytes, int]] = {}
    seen: set[str] = set()
    fh = open_regular(root / COMPLETENESS)
    if fh is None:
        report.fail(COMPLETENESS, None, "cannot be read as a regular file")
        return expected
    with fh:
        for number, line in enumerate(fh, start=1):
            where = f"line {number}"
            try:
                subject, proof, chain = parse_line(line.removesuffix(b"\n"))
            except (ValueError, UnicodeDecodeError) as exc:
                report.fail(COMPLETENESS, None, f"{where}: {exc}")
                continue
            if subject not in customers or subject in seen:
                report.fail(COMPLETENESS, None, f"{where}: is not one line per customer in scope")
                continue
            seen.add(subject)
            try:
                entry = verify_proof(map_root, map_key(salt, subject), proof)
            except MapProofError as exc:
                report.fail(COMPLETENESS, None, f"{where}: the customer's map proof fails: {exc}")
                continue
            if not _chain_matches(report, where, entry, chain, size):
                continue
            for seq, digest in chain:
                expected[seq] = (digest, number)
    for customer in customers:
        if customer not in seen:
            report.fail(COMPLETENESS, None, f"holds no proof for customer {customer}")
    return expected


def _chain_matches(
    report: BundleReport,
    where: str,
    entry: Entry | None,
    chain: list[tuple[int, bytes]],
    size: int,
) -> bool:
    if entry is None:
        if chain:
            report.fail(COMPLETENESS, None, f"{where}: a chain for a subject the map lacks")
            return False
        return True
    try:
        found = Entry(*chain_head(chain)) if chain else Entry(0, 0, EMPTY)
    except MapProofError as exc:
        report.fail(COMPLETENESS, None, f"{where}: {exc}")
        return False
    if found != entry:
        report.fail(
            COMPLETENESS,
            None,
            f"{where}: the chain ({found.count} events, newest seq {found.latest}) does not "
            f"reach the signed head ({entry.count} events, newest seq {entry.latest}): "
            "events of the customer are missing",
        )
        return False
    if entry.latest >= size:
        report.fail(COMPLETENESS, entry.latest, f"{where}: the chain goes past the checkpoint")
        return False
    return True


def match_leaves(root: Path, report: BundleReport, expected: dict[int, tuple[bytes, int]]) -> None:
    """Every chain step must be a line of leaves.jsonl with the chain's leaf hash."""
    held: set[int] = set()
    fh = open_regular(root / "leaves.jsonl")
    if fh is not None:
        with fh:
            for line in fh:
                raw = line.removesuffix(b"\n")
                try:
                    seq = json.loads(raw).get("seq")
                except (ValueError, AttributeError):
                    continue  # the leaf check names it
                step = expected.get(seq) if isinstance(seq, int) else None
                if step is None:
                    continue
                held.add(seq)
                if leaf_hash(raw) != step[0]:
                    report.fail(
                        "leaves.jsonl",
                        seq,
                        f"is not the leaf the customer's chain ({COMPLETENESS} line "
                        f"{step[1]}) commits to",
                    )
    for seq in sorted(set(expected) - held):
        report.fail(
            "leaves.jsonl",
            seq,
            f"missing: the customer's chain ({COMPLETENESS} line {expected[seq][1]}) names "
            "this event of the customer, which the bundle does not hold",
        )
