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
from ledger_verify.bundle.layout import load_json, open_regular
from ledger_verify.bundle.map_lines import (
    COMPLETENESS,
    canonical_line,
    chain_json,
    proof_json,
    proof_of,
    steps_of,
)
from ledger_verify.bundle.report import BundleReport
from ledger_verify.bundle.scope import Scope, ScopeError, parse_scope
from ledger_verify.bundle.window import Window
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
    scope, with or without a time window; None for other scopes (or a scope that is
    not the documented shape, which `ledger_verify.bundle.scope` fails)."""
    try:
        scope = parse_scope(header)
    except ScopeError:
        return None
    return list(scope.customers) or None


def check_completeness(
    root: Path,
    report: BundleReport,
    scope: Scope | None,
    anchor: BundleCheckpoint,
    window: Window | None = None,
) -> None:
    """Check that the bundle holds every event of each customer in scope up to its
    checkpoint, or, for a window bundle (`window`: its verified log range), every
    event of each customer in that range (see the module docstring), and that each
    event is labelled as the customer whose chain proves it; failures name the seq.
    `scope` None: the scope check has failed already."""
    customers = None if scope is None else list(scope.customers) or None
    present = (root / COMPLETENESS).exists()
    if customers is None:
        if present and scope is not None:
            report.fail(COMPLETENESS, None, "this scope proves no completeness: remove it")
        return
    assert scope is not None
    checkpoint = anchor.checkpoint
    if checkpoint is None:
        return  # the checkpoint check has failed already
    if scope.windowed:
        if window is None:
            return  # the window check has failed already
        if not present:
            report.fail(COMPLETENESS, None, "missing: the customers' completeness is not proven")
            return
        before = report.failure_count
        chains = window_chains(root, report, customers, window)
        proven = (window.start, window.end) if report.failure_count == before else None
        match_leaves(root, report, chains, proven)
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
    before = report.failure_count
    expected = _read_chains(root, report, customers, signed, checkpoint.size)
    proven = (0, checkpoint.size) if report.failure_count == before else None
    match_leaves(root, report, expected, proven)


def _read_chains(
    root: Path,
    report: BundleReport,
    customers: list[str],
    signed: tuple[bytes, bytes],
    size: int,
) -> dict[int, tuple[bytes, int, str]]:
    """seq → (leaf hash, line number, subject) of every chain step of a proven entry."""
    salt, map_root = signed
    expected: dict[int, tuple[bytes, int, str]] = {}
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
                expected[seq] = (digest, number, subject)
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
    beyond = [seq for seq, _ in chain if seq >= size]
    if beyond:
        report.fail(COMPLETENESS, beyond[0], f"{where}: the chain goes past the checkpoint")
        return False
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


def match_leaves(
    root: Path,
    report: BundleReport,
    expected: dict[int, tuple[bytes, int, str]],
    proven: tuple[int, int] | None,
) -> None:
    """Every chain step must be a line of leaves.jsonl with the chain's leaf hash,
    labelled in events.jsonl as the chain's subject; every other event of the bundle
    with a seq in the `proven` range [start, end) (where the chains name every event
    of the scope's customers) is on no scope customer's chain and has no place in it.
    `proven` None: a customer's line failed, so the chains do not name every event
    (that failure stands; events off the chains are not named again)."""
    held: set[int] = set()
    fh = open_regular(root / "leaves.jsonl")
    if fh is not None:
        with fh:
            for line in fh:
                raw = line.removesuffix(b"\n")
                seq = _seq_of(raw)
                step = expected.get(seq) if seq is not None else None
                if seq is None or step is None:
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
    _match_labels(root, report, expected, proven)


def _seq_of(raw: bytes) -> int | None:
    try:
        obj = load_json(raw)
    except ValueError:
        return None  # the line's own check names it
    seq = obj.get("seq") if isinstance(obj, dict) else None
    return seq if isinstance(seq, int) and not isinstance(seq, bool) else None


def _match_labels(
    root: Path,
    report: BundleReport,
    expected: dict[int, tuple[bytes, int, str]],
    proven: tuple[int, int] | None,
) -> None:
    """events.jsonl's `customer` of each chain step is the chain's subject, and no
    event in the proven range is off every chain (see `match_leaves`)."""
    fh = open_regular(root / "events.jsonl")
    if fh is None:
        return  # the manifest check has named it
    start, end = proven or (0, 0)
    with fh:
        for line in fh:
            try:
                obj = load_json(line.removesuffix(b"\n"))
            except ValueError:
                continue  # the event check names it
            seq = obj.get("seq") if isinstance(obj, dict) else None
            if not isinstance(seq, int) or isinstance(seq, bool):
                continue
            step = expected.get(seq)
            if step is not None:
                if obj.get("customer") != step[2]:
                    report.fail(
                        "events.jsonl",
                        seq,
                        f"'customer' is not the subject of the chain ({COMPLETENESS} line "
                        f"{step[1]}) that proves this event",
                    )
            elif start <= seq < end:
                report.fail(
                    "events.jsonl",
                    seq,
                    "is on no scope customer's chain: an event of another subject in a "
                    "customer bundle",
                )
