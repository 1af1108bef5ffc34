"""The per-event checks of a bundle (steps 3-5 of `verify_bundle`): the four line
files are read side by side in seq order, and for each event the leaf is proved
included, its key decrypts it, and events.jsonl and events.csv are exactly what the
decrypted state renders to. Messages name file and seq, never a decrypted value."""

from __future__ import annotations

import zlib
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, Final

from cryptography.exceptions import InvalidTag

from ledger_verify.bundle.checkpoint import BundleCheckpoint
from ledger_verify.bundle.events import CSV_HEADER, csv_cells, event_record
from ledger_verify.bundle.layout import load_json
from ledger_verify.bundle.lines import (
    FILES,
    jcs,
    parse_event,
    parse_key,
    parse_leaf,
    read_csv_rows,
    read_lines,
)
from ledger_verify.bundle.proofs import check_proof
from ledger_verify.bundle.report import BundleReport, SeqSet
from ledger_verify.leaf import decrypt_leaf

_MISSING: Final = object()


def _same(a: Any, b: Any) -> bool:
    # compare as JSON text: Python's == would take true for 1 and 1.0 for 1
    return a is not _MISSING and b is not _MISSING and jcs(a) == jcs(b)


def check_events(
    root: Path,
    report: BundleReport,
    header: dict[str, Any],
    anchor: BundleCheckpoint,
    progress: Callable[[int, int], None] | None,
) -> SeqSet:
    """Check every event of the bundle; returns the seqs leaves.jsonl holds."""
    size = 0 if anchor.checkpoint is None else anchor.checkpoint.size
    leaf_seqs = SeqSet(size)
    streams: dict[str, Iterator[tuple[int, Any]]] = {
        "leaves": read_lines(root, report, "leaves", parse_leaf),
        "keys": read_lines(root, report, "keys", parse_key),
        "events": read_lines(root, report, "events", parse_event),
        "csv": read_csv_rows(root, report),
    }
    heads = {kind: next(stream, None) for kind, stream in streams.items()}
    counts = header.get("counts")
    total = counts.get("events", 0) if isinstance(counts, dict) else 0
    while True:
        live = [head[0] for head in heads.values() if head is not None]
        if not live:
            return leaf_seqs
        seq = min(live)
        items: dict[str, Any] = {}
        for kind, head in heads.items():
            if head is not None and head[0] == seq:
                items[kind] = head[1]
                heads[kind] = next(streams[kind], None)
        check_event(root, report, anchor, leaf_seqs, seq, items)
        if progress is not None and report.events % 1000 == 0:
            progress(report.events, total)


def check_event(
    root: Path,
    report: BundleReport,
    anchor: BundleCheckpoint,
    leaf_seqs: SeqSet,
    seq: int,
    items: dict[str, Any],
) -> None:
    """Check one event from what each line file holds for `seq` (`items` by kind)."""
    if "leaves" not in items:
        others = ", ".join(FILES[kind] for kind in items)
        report.fail("leaves.jsonl", seq, f"no line for this seq, although {others} hold one")
        return
    raw, leaf = items["leaves"]
    report.events += 1
    if seq < leaf_seqs.limit:  # check_proof names a seq beyond the checkpoint
        leaf_seqs.add(seq)
    check_proof(root, report, anchor, seq, raw)
    state: dict[str, Any] | None = None
    if "keys" in items:
        report.decrypted += 1  # counts events with a key line, decryptable or not
        try:
            state = load_json(decrypt_leaf(leaf, items["keys"]))
        except InvalidTag:
            report.fail(
                "keys.jsonl",
                seq,
                "the key does not decrypt the leaf's ciphertext under its associated "
                "data: the key or the leaf was altered",
            )
            return
        except (ValueError, zlib.error):
            state = None
        if not isinstance(state, dict):
            report.fail("leaves.jsonl", seq, "the decrypted plaintext is not a JSON object")
            return
    event = items.get("events")
    if event is None:
        report.fail("events.jsonl", seq, "no line for this event")
    elif state is None and event.get("erased") is not True:
        report.fail("keys.jsonl", seq, "no key for an event events.jsonl does not mark erased")
        return
    customer = event.get("customer") if event is not None else None
    if event is None and items.get("csv"):
        customer = items["csv"][2] or None  # so that a lost line is named only once
    if customer is not None and not isinstance(customer, str):
        report.fail("events.jsonl", seq, "'customer' is not a string or null")
        customer = None
    expected = event_record(leaf, customer, state)
    if state is None:
        report.erased += 1
    else:
        owner = expected["fields"].get("customer_id")
        if isinstance(owner, str) and owner != customer:
            report.fail("events.jsonl", seq, "'customer' is not the decrypted customer_id")
    if event is not None and jcs(expected) != jcs(event):
        keys = sorted(set(expected) | set(event))
        diff = [k for k in keys if not _same(expected.get(k, _MISSING), event.get(k, _MISSING))]
        if diff:
            report.fail(
                "events.jsonl", seq, f"does not match the decrypted event in {', '.join(diff)}"
            )
    row, cells = items.get("csv"), csv_cells(expected)
    if row is None:
        report.fail("events.csv", seq, "no row for this event")
    elif row != cells:
        bad = [n for i, n in enumerate(CSV_HEADER) if i >= len(row) or row[i] != cells[i]]
        columns = ", ".join(bad) or "its width"
        report.fail("events.csv", seq, f"does not match the decrypted event in {columns}")
