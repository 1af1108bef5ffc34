"""The completeness proof of a customer bundle with a time window
(docs/export-format.md, "completeness.jsonl"): for each customer, the customer's
entry in the subject map at the window's `from` checkpoint (size nA) and at its
`to` checkpoint (size nB), and the chain steps between the two heads, which are
exactly the customer's events with a seq in [nA, nB).

A window line (RFC 8785 JSON, one per customer, in the scope's order):
`{"subject", "from": null | {"siblings", "terminal"}, "to": {"siblings", "terminal"},
"chain": [[seq, base64 leaf hash], ...]}`; `from` is null exactly when window.json's
is (the window starts at the beginning of the log: the entry before it is empty).

The check: each proof folds to the map root its checkpoint signs (both signed by the
log key, both consistent with the bundle's checkpoint: `ledger_verify.bundle.window`),
with the key recomputed from the subject; starting from the `from` entry (count,
latest seq, head), or the empty one, the steps, each with a seq in [nA, nB) and above
the previous, fold with `chain_step` to exactly the `to` entry: count(to) - count(from)
steps, the last one's seq the newest, the head the signed head. A step left out, one
added or one changed does not reach it. Every step's seq must then be a line of
leaves.jsonl with the step's leaf hash (`subject_chains.match_leaves`).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

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
from ledger_verify.bundle.window import Window
from ledger_verify.checkpoints import Checkpoint
from ledger_verify.smt import (
    EMPTY,
    Entry,
    MapProof,
    MapProofError,
    chain_step,
    map_key,
    signed_map,
    verify_proof,
)

MEMBERS = {"subject", "from", "to", "chain"}


def window_line_of(
    subject: str, first: MapProof | None, last: MapProof, chain: list[tuple[int, bytes]]
) -> bytes:
    """The window line (without newline) of a subject: what the exporter writes and
    `parse_window_line` reads."""
    obj = {
        "subject": subject,
        "from": None if first is None else proof_json(first),
        "to": proof_json(last),
        "chain": chain_json(chain),
    }
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def _proof(value: Any) -> MapProof:
    if not isinstance(value, dict) or set(value) != {"siblings", "terminal"}:
        raise ValueError("a map proof is {siblings, terminal}")
    return proof_of(value["siblings"], value["terminal"])


def parse_window_line(
    raw: bytes,
) -> tuple[str, MapProof | None, MapProof, list[tuple[int, bytes]]]:
    """(subject, proof at `from` or None, proof at `to`, chain) of a window line;
    ValueError if it is not the format's."""
    obj = canonical_line(raw, MEMBERS)
    first = None if obj["from"] is None else _proof(obj["from"])
    return obj["subject"], first, _proof(obj["to"]), steps_of(obj["chain"])


def _signed(checkpoint: Checkpoint, name: str) -> tuple[bytes, bytes]:
    signed = signed_map(checkpoint.extensions)
    if signed is None:
        raise ValueError(f"the window's '{name}' checkpoint signs no subject map")
    return signed


def fold_window(
    before: Entry | None, after: Entry | None, chain: list[tuple[int, bytes]], window: Window
) -> str | None:
    """Why the steps do not lead from `before` (the entry at the window's start, None:
    absent) to `after` (at its end), or None if they do."""
    count, latest, head = 0, -1, EMPTY
    if before is not None:
        count, latest, head = before.count, before.latest, before.head
    if before is not None and latest >= window.start:
        return f"the 'from' entry's newest seq {latest} is not below {window.start}"
    for seq, leaf in chain:
        if not window.start <= seq < window.end or seq <= latest:
            return (
                f"the chain's seq {seq} is not in the window's log range "
                f"[{window.start}, {window.end}) after {latest}"
            )
        head, latest, count = chain_step(head, seq, leaf), seq, count + 1
    found = Entry(count, latest, head) if count else None
    if after is None:
        return None if found is None else "a chain for a subject the 'to' map lacks"
    if found != after:
        want = after.count - (0 if before is None else before.count)
        return (
            f"the chain ({len(chain)} steps) does not lead from the 'from' head to the "
            f"signed 'to' head ({want} events of the customer in the window's log range "
            f"[{window.start}, {window.end})): events of the customer are missing"
        )
    return None


def _check_line(
    first: MapProof | None,
    last: MapProof,
    chain: list[tuple[int, bytes]],
    window: Window,
    key: bytes,
    roots: tuple[bytes, bytes],
) -> str | None:
    """Why one customer's window line does not prove the customer's events in the
    window's log range, or None if it does."""
    if (first is None) != (window.first is None):
        return "'from' is null exactly when window.json's is"
    try:
        before = None if first is None else verify_proof(roots[0], key, first)
    except MapProofError as exc:
        return f"the customer's 'from' map proof fails: {exc}"
    try:
        after = verify_proof(roots[1], key, last)
    except MapProofError as exc:
        return f"the customer's 'to' map proof fails: {exc}"
    return fold_window(before, after, chain, window)


def window_chains(
    root: Path, report: BundleReport, customers: list[str], window: Window
) -> dict[int, tuple[bytes, int, str]]:
    """seq -> (leaf hash, line number, subject) of every proven chain step of the window lines
    of completeness.jsonl; each failure recorded in `report`."""
    expected: dict[int, tuple[bytes, int, str]] = {}
    try:
        salt, last_root = _signed(window.last, "to")
        first_salt, first_root = (
            (salt, b"") if window.first is None else _signed(window.first, "from")
        )
    except ValueError as exc:
        report.fail("window.json", None, str(exc))
        return expected
    roots = (first_root, last_root)
    if first_salt != salt:
        report.fail("window.json", None, "its checkpoints sign subject maps of different salts")
        return expected
    fh = open_regular(root / COMPLETENESS)
    if fh is None:
        report.fail(COMPLETENESS, None, "cannot be read as a regular file")
        return expected
    seen: set[str] = set()
    with fh:
        for number, line in enumerate(fh, start=1):
            where = f"line {number}"
            try:
                subject, first, last, chain = parse_window_line(line.removesuffix(b"\n"))
            except (ValueError, UnicodeDecodeError) as exc:
                report.fail(COMPLETENESS, None, f"{where}: {exc}")
                continue
            if subject not in customers or subject in seen:
                report.fail(COMPLETENESS, None, f"{where}: is not one line per customer in scope")
                continue
            seen.add(subject)
            why = _check_line(first, last, chain, window, map_key(salt, subject), roots)
            if why is not None:
                report.fail(COMPLETENESS, None, f"{where}: {why}")
                continue
            for seq, digest in chain:
                expected[seq] = (digest, number, subject)
    for customer in customers:
        if customer not in seen:
            report.fail(COMPLETENESS, None, f"holds no proof for customer {customer}")
    return expected
