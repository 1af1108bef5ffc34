"""The log range of a time-window bundle (docs/export-format.md, "window.json").

An event's own time is inside its ciphertext, and a backfilled event records now what
happened earlier, so no event time bounds a window provably. Log time does: every
checkpoint is a signed statement "the log held exactly these `size` events". A window
bundle names two signed checkpoints of its log, `from` (size nA, recorded at or before
`since`; null when the window starts at the beginning of the log) and `to` (size nB,
recorded at or after `until`, or the bundle's own checkpoint), proves them consistent
with each other and with the bundle's checkpoint, and then must hold every event of
its scope with a seq in [nA, nB): every event of the log for a window alone (checked
here, `check_range`), every event of each customer for customers and a window (the
subject map at both checkpoints, `ledger_verify.bundle.window_chains`).

window.json is one RFC 8785 line (then "\\n"):
`{"from": null | BOUND, "to": BOUND}` with BOUND =
`{"checkpoint": "<signed note>", "consistency": [base64...], "recorded_at": "<ISO 8601>"}`;
`from.consistency` is the RFC 9162 consistency proof from nA to nB, `to.consistency`
from nB to the bundle checkpoint's size. `recorded_at` is when the firm's log
recorded the checkpoint (the firm's clock, vouched for by manifest.sig); witness
cosignature lines on the notes carry the witnesses' own signed times.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Final

from ledger_verify.bundle.checkpoint import BundleCheckpoint
from ledger_verify.bundle.layout import load_json, open_regular
from ledger_verify.bundle.report import BundleReport, SeqSet
from ledger_verify.bundle.scope import Scope, aware_time
from ledger_verify.checkpoints import Checkpoint, CheckpointError, verify_checkpoint
from ledger_verify.cosignature import Cosigner, verify_cosignatures
from ledger_verify.merkle import ProofError, verify_consistency
from ledger_verify.smt import canonical_b64decode

WINDOW: Final = "window.json"


@dataclass(frozen=True)
class Bound:
    """One end of a window as window.json states it (note not yet verified)."""

    note: str
    recorded_at: datetime
    consistency: tuple[bytes, ...]


@dataclass(frozen=True)
class Window:
    """The verified log range [start, end) of a window bundle, between the signed
    checkpoints `first` (None: the beginning of the log) and `last`."""

    start: int
    end: int
    first: Checkpoint | None
    last: Checkpoint


def _jcs(obj: Any) -> bytes:
    return json.dumps(obj, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode()


def bound_json(note: str, recorded_at: str, consistency: list[bytes]) -> dict[str, Any]:
    """One BOUND object of window.json."""
    return {
        "checkpoint": note,
        "consistency": [base64.b64encode(h).decode("ascii") for h in consistency],
        "recorded_at": recorded_at,
    }


def window_bytes(first: dict[str, Any] | None, last: dict[str, Any]) -> bytes:
    """The bytes of window.json (what the exporter writes and `parse_window` reads)."""
    return _jcs({"from": first, "to": last}) + b"\n"


def _bound(value: Any) -> Bound:
    if not isinstance(value, dict) or set(value) != {"checkpoint", "consistency", "recorded_at"}:
        raise ValueError("a bound is {checkpoint, consistency, recorded_at}")
    note, proof = value["checkpoint"], value["consistency"]
    if not isinstance(note, str) or not isinstance(proof, list):
        raise ValueError("checkpoint is a string, consistency a list")
    hashes = tuple(canonical_b64decode(h) for h in proof)
    if any(len(h) != 32 for h in hashes):
        raise ValueError("a consistency proof hash is 32 bytes")
    return Bound(note, aware_time(value["recorded_at"]), hashes)


def parse_window(raw: bytes) -> tuple[Bound | None, Bound]:
    """(from, to) of window.json's bytes; ValueError if they are not the format's."""
    if not raw.endswith(b"\n") or b"\n" in raw[:-1]:
        raise ValueError("is not one line ending in a newline")
    obj = load_json(raw)
    if not isinstance(obj, dict) or set(obj) != {"from", "to"}:
        raise ValueError("needs exactly from and to")
    if _jcs(obj) + b"\n" != raw:
        raise ValueError("is not canonical JSON")
    return (None if obj["from"] is None else _bound(obj["from"])), _bound(obj["to"])


CLOCK_SKEW: Final = 1
"""Seconds a trusted witness's clock may lag the firm's before a cosignature timed
before a note's recorded_at refutes it (beyond the one-second granularity of a
cosignature's time)."""


def check_window(
    root: Path,
    report: BundleReport,
    header: dict[str, Any],
    scope: Scope | None,
    anchor: BundleCheckpoint,
    witnesses: Sequence[Cosigner] = (),
    quorum: int = 0,
) -> Window | None:
    """Check window.json of a window bundle (see the module docstring) and return the
    proven log range; None (with the failures recorded) if it does not hold, or the
    scope has no window (or is malformed: `scope` None). With trusted `witnesses`,
    each note's cosignatures by them must verify, `quorum` of them must be there (as
    for the bundle's checkpoint), and none may be timed before the note's
    recorded_at, nor (for `to`) before the window's end. A trusted witness's
    cosignature of `from` at or before `since` is recorded in `report.window_attested`:
    the window's start then rests on that witness's clock, not only on the firm's."""
    present = (root / WINDOW).exists()
    if scope is None:
        return None  # the scope check has failed already
    if not scope.windowed:
        if present:
            report.fail(WINDOW, None, "this scope has no time window: remove it")
        return None
    bundle = anchor.checkpoint
    if bundle is None or anchor.key is None:
        return None  # the checkpoint check has failed already
    if not present:
        report.fail(WINDOW, None, "missing: the window's log range is not proven")
        return None
    fh = open_regular(root / WINDOW)
    if fh is None:
        report.fail(WINDOW, None, "cannot be read as a regular file")
        return None
    with fh:
        raw = fh.read()
    try:
        first, last = parse_window(raw)
        first_cp = None if first is None else _verified(first, "from", anchor, bundle)
        last_cp = _verified(last, "to", anchor, bundle)
        _check_consistency(first, first_cp, last, last_cp, bundle)
        _check_claims(first, first_cp, last, last_cp)
    except (ValueError, CheckpointError, ProofError, UnicodeDecodeError) as exc:
        report.fail(WINDOW, None, str(exc))
        return None
    since, until = scope.since, scope.until
    if first is not None and since is None:
        report.fail(WINDOW, None, "a window without a start begins with the log: 'from' is null")
        return None
    if first is not None and since is not None and first.recorded_at > since:
        report.fail(
            WINDOW,
            None,
            "its 'from' checkpoint was recorded after the window's start: the window's "
            "first events may lie below it",
        )
        return None
    is_bundle = last_cp.body == bundle.body
    if not is_bundle and (until is None or last.recorded_at < until):
        report.fail(
            WINDOW,
            None,
            "its 'to' checkpoint was recorded before the window's end and is not the "
            "bundle's checkpoint: the window's last events may lie above it",
        )
        return None
    held = True
    if witnesses:
        if first is not None:
            held &= _check_witnessed(report, "from", first, witnesses, quorum, None)
        if not is_bundle:
            held &= _check_witnessed(report, "to", last, witnesses, quorum, until)
    if not held:
        return None
    window = Window(0 if first_cp is None else first_cp.size, last_cp.size, first_cp, last_cp)
    report.window = (window.start, window.end)
    report.window_recorded = (
        "the log's beginning" if first is None else f"recorded {first.recorded_at.isoformat()}",
        f"recorded {last.recorded_at.isoformat()}",
    )
    if first is not None and since is not None and witnesses:
        report.window_attested = _attested(first.note, witnesses, since)
    return window


def _check_claims(
    first: Bound | None,
    first_cp: Checkpoint | None,
    last: Bound,
    last_cp: Checkpoint,
) -> None:
    """The window's claims agree with each other: one checkpoint has one recorded
    time, and `from` was recorded no later than `to`; ValueError otherwise. (Both are
    the firm's clock; manifest.json's created_at is taken before the export's own
    seal, so it bounds no recorded time.)"""
    if first is None or first_cp is None:
        return
    if first_cp.body == last_cp.body and first.recorded_at != last.recorded_at:
        raise ValueError("'from' and 'to' are the same checkpoint with two recorded times")
    if first.recorded_at > last.recorded_at:
        raise ValueError("its 'from' checkpoint is claimed recorded after its 'to' checkpoint")


def _check_witnessed(
    report: BundleReport,
    name: str,
    bound: Bound,
    witnesses: Sequence[Cosigner],
    quorum: int,
    until: datetime | None,
) -> bool:
    """The trusted witnesses' cosignatures of one window note: each verifies, `quorum`
    are there, and none refutes the note's recorded_at (nor, with `until`, shows the
    note existed before the window's end); failures recorded."""
    where = f"its '{name}' checkpoint"
    try:
        valid = verify_cosignatures(bound.note, witnesses)
    except CheckpointError as exc:
        report.fail(WINDOW, None, f"{where}: a trusted witness's cosignature is bad: {exc}")
        return False
    held = True
    if len(valid) < quorum:
        report.fail(
            WINDOW,
            None,
            f"{where} carries valid cosignatures from {len(valid)} trusted witness(es), "
            f"the quorum is {quorum}",
        )
        held = False
    for v in valid:
        # a cosignature's time is whole seconds: the witness saw the note before
        # timestamp + 1
        seen = datetime.fromtimestamp(v.timestamp, UTC).isoformat()
        if v.timestamp + 1 + CLOCK_SKEW <= bound.recorded_at.timestamp():
            report.fail(
                WINDOW,
                None,
                f"{where} was cosigned by a trusted witness at {seen}, before its "
                f"recorded_at {bound.recorded_at.isoformat()}: the recorded time is false",
            )
            held = False
        if until is not None and v.timestamp + 1 <= until.timestamp():
            report.fail(
                WINDOW,
                None,
                f"{where} was cosigned by a trusted witness at {seen}, before the window's "
                f"end {until.isoformat()}: it was recorded before the end and does not "
                "bound the window's last events",
            )
            held = False
    return held


def _attested(note: str, witnesses: Sequence[Cosigner], since: datetime) -> list[str]:
    """The trusted witnesses that cosigned `note` at or before `since`, with when."""
    try:
        valid = verify_cosignatures(note, witnesses)
    except CheckpointError:
        return []  # a bad cosignature attests nothing (_check_witnessed names it)
    return sorted(
        f"{v.cosigner} at {datetime.fromtimestamp(v.timestamp, UTC).isoformat()}"
        for v in valid
        if v.timestamp <= since.timestamp()
    )


def _verified(bound: Bound, name: str, anchor: BundleCheckpoint, bundle: Checkpoint) -> Checkpoint:
    assert anchor.key is not None
    try:
        checkpoint = verify_checkpoint(
            bound.note, anchor.key, anchor.key_name, origin=bundle.origin
        )
    except CheckpointError as exc:
        raise CheckpointError(f"its '{name}' checkpoint does not verify: {exc}") from None
    if checkpoint.size == 0 or checkpoint.size > bundle.size:
        raise ValueError(f"its '{name}' checkpoint's size is not in 1..{bundle.size}")
    return checkpoint


def _check_consistency(
    first: Bound | None,
    first_cp: Checkpoint | None,
    last: Bound,
    last_cp: Checkpoint,
    bundle: Checkpoint,
) -> None:
    """Both bounds are earlier states of the bundle's log (RFC 9162 consistency)."""
    if first is not None and first_cp is not None:
        try:
            verify_consistency(
                first_cp.size, last_cp.size, first.consistency, first_cp.root, last_cp.root
            )
        except ProofError as exc:
            raise ProofError(f"'from' is not an earlier state of 'to': {exc}") from None
    try:
        verify_consistency(last_cp.size, bundle.size, last.consistency, last_cp.root, bundle.root)
    except ProofError as exc:
        raise ProofError(
            f"'to' is not an earlier state of the bundle's checkpoint: {exc}"
        ) from None


def check_range(report: BundleReport, window: Window, leaf_seqs: SeqSet) -> None:
    """A window without customers must hold every event of its log range."""
    for seq in range(window.start, window.end):
        if seq not in leaf_seqs:
            report.fail(
                "leaves.jsonl",
                seq,
                f"missing: the window's log range [{window.start}, {window.end}) "
                f"({WINDOW}) holds this event, which the bundle does not",
            )
