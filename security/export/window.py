"""The log range of a time-window export (docs/export-format.md, "window.json").

A window `[since, until)` is bounded by log time, which signed checkpoints fix: `from`
is the latest checkpoint recorded at or before `since` (none: the window starts at
the beginning of the log), `to` the one after the first recorded at or after `until`
(its seal began after `until`; none yet, or no `until`: the bundle's own
checkpoint, sealed by the export itself). Every event that entered the log between
them has a seq in [from.size, to.size), so the bundle discloses every event of its
scope in that range, and proves it: window.json carries both notes (with the
witnesses' cosignatures, which carry their own signed times) and the consistency
proofs from -> to -> bundle checkpoint; for customers, completeness.jsonl carries
each customer's map proof at both ends and the chain steps between the two heads.
Both are verified here before they are written, as the inclusion proofs are.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from ledger_verify.bundle.window import Window, bound_json, window_bytes
from ledger_verify.bundle.window_chains import fold_window, window_line_of
from ledger_verify.checkpoints import parse_checkpoint
from ledger_verify.merkle import ProofError, verify_consistency
from ledger_verify.smt import (
    MAP_LINE,
    Entry,
    MapProof,
    MapProofError,
    map_key,
    signed_map,
    verify_proof,
)
from security.bootstrap import Ledger
from security.export.errors import ExportError
from security.export.scope import ExportScope
from security.integrity.sealed_log import StoredCheckpoint
from security.integrity.subject_map import MapMissing

__all__ = ["LogRange", "log_range", "window_completeness", "window_file"]


@dataclass(frozen=True)
class LogRange:
    """The checkpoints that bound a window: `first` (None: the log's beginning) and
    `last`; the window discloses the events of its scope with a seq in [start, end)."""

    first: StoredCheckpoint | None
    last: StoredCheckpoint

    @property
    def start(self) -> int:
        return 0 if self.first is None else self.first.size

    @property
    def end(self) -> int:
        return self.last.size


def _recorded(checkpoint: StoredCheckpoint) -> datetime:
    moment = datetime.fromisoformat(checkpoint.created_at)
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def _maps(checkpoint: StoredCheckpoint) -> bool:
    return any(
        line.split(" ", 1)[0] == MAP_LINE for line in parse_checkpoint(checkpoint.note).extensions
    )


def _nearest(ledger: Ledger, size: int, *, below: bool) -> StoredCheckpoint | None:
    """The checkpoint of the largest size at most `size` (`below`), or of the smallest
    size at least `size`: one primary-key seek."""
    sealed = ledger.sealed_log
    where, order = ("size <= ?", "DESC") if below else ("size >= ?", "ASC")
    with sealed.datastore.transaction(commit=False) as cursor:
        sealed.dialect.execute(
            cursor,
            f"SELECT size, root, note, created_at FROM {sealed.checkpoints_table} "
            f"WHERE {where} ORDER BY size {order} LIMIT 1",
            (size,),
        )
        row = cursor.fetchone()
    if row is None:
        return None
    return StoredCheckpoint(
        int(row["size"]), sealed.dialect.to_bytes(row["root"]), row["note"], row["created_at"]
    )


def _last_recorded_by(ledger: Ledger, moment: datetime, top: int) -> StoredCheckpoint | None:
    """The largest checkpoint of size at most `top` recorded at or before `moment`:
    a binary search over sizes, O(log size) seeks (recorded times grow with size; if
    the clock stepped back, the one found is still recorded by `moment`)."""
    low, high, best = 1, top, None
    while low <= high:
        found = _nearest(ledger, (low + high) // 2, below=True)
        if found is None or found.size < low:
            low = (low + high) // 2 + 1
        elif _recorded(found) <= moment:
            best, low = found, (low + high) // 2 + 1
        else:
            high = found.size - 1
    return best


def _first_recorded_from(
    ledger: Ledger, moment: datetime, bottom: int, top: int
) -> StoredCheckpoint | None:
    """The smallest checkpoint of size in [bottom, top] recorded at or after `moment`
    (binary search, as `_last_recorded_by`)."""
    low, high, best = max(bottom, 1), top, None
    while low <= high:
        found = _nearest(ledger, (low + high) // 2, below=False)
        if found is None or found.size > high:
            high = (low + high) // 2 - 1
        elif _recorded(found) >= moment:
            best, high = found, (low + high) // 2 - 1
        else:
            low = found.size + 1
    return best


def log_range(
    ledger: Ledger, scope: ExportScope, bundle: StoredCheckpoint, *, maps: bool
) -> LogRange:
    """The checkpoints that bound `scope`'s window in the log up to `bundle` (see the
    module docstring). With `maps`, both must sign a subject map: a bound before the
    map covered the log widens to the log's beginning or to `bundle`."""
    first = None
    if scope.since is not None:
        first = _last_recorded_by(ledger, scope.since, bundle.size)
        if first is not None and maps and not _maps(first):
            first = None  # sealed before the map: every earlier one is too
    last = bundle
    if scope.until is not None:
        low = 0 if first is None else first.size
        found = _first_recorded_from(ledger, scope.until, low, bundle.size)
        # the seal that recorded `found` may have read the events before `until` (on
        # PostgreSQL, events commit while a seal runs): the next seal began after it
        # committed, so it holds every event committed before `until`
        after = None
        if found is not None and found.size < bundle.size:
            after = _nearest(ledger, found.size + 1, below=False)
        if after is not None and after.size <= bundle.size and (not maps or _maps(after)):
            last = after
    return LogRange(first, last)


def window_file(ledger: Ledger, bounds: LogRange, bundle: StoredCheckpoint) -> bytes:
    """window.json: both notes (cosigned where witnesses answered), when the log
    recorded them, and the consistency proofs from -> to -> `bundle`, verified."""
    proofs = ledger.sealed_log.proofs()

    def consistent(old: StoredCheckpoint, new: StoredCheckpoint) -> list[bytes]:
        proof = proofs.consistency_proof(old.size, new.size)
        try:
            verify_consistency(old.size, new.size, proof, old.root, new.root)
        except ProofError as exc:
            raise ExportError(
                f"the checkpoints {old.size} and {new.size} are not consistent ({exc}); "
                "run `ledger verify`"
            ) from exc
        return proof

    first = None
    if bounds.first is not None:
        first = bound_json(
            ledger.cosigned_note(bounds.first),
            bounds.first.created_at,
            consistent(bounds.first, bounds.last),
        )
    last = bound_json(
        ledger.cosigned_note(bounds.last), bounds.last.created_at, consistent(bounds.last, bundle)
    )
    return window_bytes(first, last)


def window_completeness(ledger: Ledger, customers: Sequence[str], bounds: LogRange) -> bytes:
    """completeness.jsonl of a customer window: per customer, the map proofs at both
    bounds and the chain steps between them, each line verified before it is written."""
    first, last = bounds.first, bounds.last
    window = Window(
        bounds.start,
        bounds.end,
        None if first is None else parse_checkpoint(first.note),
        parse_checkpoint(last.note),
    )
    sealed = ledger.sealed_log
    lines = []
    for customer in customers:
        try:
            at_end = sealed.subject_proof(customer, last.size)
            after = _entry(window.last.extensions, customer, at_end.proof)
            start_proof, before = None, None
            if first is not None and window.first is not None:
                start_proof = sealed.subject_proof(customer, first.size).proof
                before = _entry(window.first.extensions, customer, start_proof)
        except (MapMissing, MapProofError, ValueError) as exc:
            raise ExportError(f"the subject map does not prove a customer: {exc}") from exc
        steps = [(seq, digest) for seq, digest in at_end.chain if seq >= bounds.start]
        why = fold_window(before, after, steps, window)
        if why is not None:
            raise ExportError(
                f"a customer's chain does not prove the window ({why}); run `ledger verify`"
            )
        lines.append(window_line_of(customer, start_proof, at_end.proof, steps) + b"\n")
    return b"".join(lines)


def _entry(extensions: tuple[str, ...], customer: str, proof: MapProof) -> Entry | None:
    signed = signed_map(extensions)
    if signed is None:
        raise ValueError("a window checkpoint signs no subject map")
    salt, root = signed
    return verify_proof(root, map_key(salt, customer), proof)
