"""`ledger verify` (the default): verify only what was added since the last verified state.

It starts from the state the last ok verification kept outside the database
(security.integrity.verified_state): a checkpoint note signed by the log key and the
compact frontier at its size. Its cost is proportional to what was added, not to the
log's size:
- the state's note must verify with the log key (a forged state is a failure);
- the store must still hold that log: the checkpoint at the verified size with the
  same root, at least as many leaf rows as that size with no index missing, and the
  last verified leaf with its event (same notification id, same leaf hash), so a
  rollback, truncation or wipe below the verified size fails;
- every leaf added since is recomputed from its stored event, and the tree is
  continued from the verified frontier, so every checkpoint since (signature, stored
  row and frontier, root at its size) is checked and is by construction a consistent
  extension of the verified one;
- the anchor file's newest checkpoint and each trusted checkpoint are checked as in a
  full run; one older than the verified state is checked with an RFC 9162 consistency
  proof built from the stored leaf hashes below the verified size (which must fold to
  the verified root), the only case that reads them all;
- the subject map: for every subject of an event sealed since, its entry in the map
  the newest checkpoint signs is proven from the stored map to the signed root, the
  subject's stored chain folds to that entry, and the chain's steps since the
  verified size are exactly the subject's new events (`map_verification.
  check_new_subjects`).

What it does not see: an event (or a leaf hash) changed below the verified size
after that verification, and the map entries of subjects without a new event (a map
or chain row of such a subject altered, or an extra step in its chain).
`ledger verify --full` and the daily `integrity_full` job recompute everything,
the whole map included, and catch it.
"""

from __future__ import annotations

from collections.abc import Sequence

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from ledger_verify.checkpoints import Checkpoint, CheckpointError, verify_checkpoint
from ledger_verify.merkle import CompactRange, MerkleTree, ProofError, leaf_hash, verify_consistency
from security.errors import EventAuthenticationFailed
from security.integrity.anchors import AnchorFile
from security.integrity.map_verification import check_new_subjects
from security.integrity.sealed_log import SealedLog
from security.integrity.verification import (
    TrustedCheckpoint,
    VerifyReport,
    check_checkpoints,
    check_reference,
    check_sizes,
    ended_at,
    entries,
    recompute,
    reference_sizes,
    references,
)
from security.integrity.verified_state import VerifiedState


class _ContinuedTree:
    """The verified frontier, continued with the recomputed new leaves; keeps the
    frontier at each size a check will ask for."""

    def __init__(
        self, sealed: SealedLog, state: VerifiedState, base: Checkpoint, wanted: set[int]
    ) -> None:
        self.sealed = sealed
        self.base = base
        self.range = state.compact_range()
        self.wanted = wanted
        self.snapshots: dict[int, CompactRange] = {base.size: self.range.copy()}
        self._prefix: MerkleTree | None = None

    @property
    def size(self) -> int:
        return self.range.size

    def append(self, digest: bytes) -> None:
        self.range.append(digest)
        if self.range.size in self.wanted:
            self.snapshots[self.range.size] = self.range.copy()

    def frontier(self, size: int) -> CompactRange:
        if size == self.range.size:
            return self.range.copy()
        if size < self.base.size:
            return self.prefix().compact_range(size)
        snapshot = self.snapshots.get(size)
        if snapshot is None:  # only sizes asked for in advance are kept
            raise ValueError(f"no frontier kept at size {size}")
        return snapshot

    def prefix(self) -> MerkleTree:
        """The stored leaf hashes below the verified size; ProofError unless they fold
        to the verified root."""
        if self._prefix is None:
            tree = self.sealed.tree(self.base.size)
            if tree.size != self.base.size or tree.root() != self.base.root:
                raise ProofError(
                    f"the stored leaf hashes below the verified size {self.base.size} no "
                    "longer produce its root (rewritten)"
                )
            self._prefix = tree
        return self._prefix

    def check_consistency(self, size1: int, root1: bytes, size2: int, root2: bytes) -> None:
        if size1 == 0:
            return
        if size1 < self.base.size:
            proof = self.prefix().consistency_proof(size1, self.base.size)
            verify_consistency(size1, self.base.size, proof, root1, self.base.root)
        elif self.frontier(size1).root() != root1:
            raise ProofError(
                f"the log continued from the verified state has another root at size {size1}"
            )
        if self.frontier(size2).root() != root2:
            raise ProofError(
                f"the log continued from the verified state has another root at size {size2}"
            )


def _check_base(
    report: VerifyReport, sealed: SealedLog, state: VerifiedState, base: Checkpoint
) -> bool:
    """The store still holds the verified log's end; False (and problems) otherwise."""
    gone = "(the log was rolled back, truncated or wiped)"
    stored = sealed.checkpoint(base.size)
    if stored is None:
        report.add(
            base.size,
            f"the store no longer holds the checkpoint at the last verified size {base.size} "
            f"{gone}",
        )
    elif stored.root != base.root:
        report.add(
            None,
            f"the store's checkpoint at the last verified size {base.size} has another root "
            "than the verified one (rewritten or forked)",
        )
    rows, top = sealed.leaf_count()
    if rows < base.size or top < base.size:
        report.add(
            min(rows, top),
            f"the store holds {rows} sealed leaves, fewer than the last verified size "
            f"{base.size} {gone}",
        )
    elif rows != top:
        report.add(None, f"{top - rows} sealed leaf index(es) below seq {top} are missing")
    last = next(sealed.leaf_rows(base.size - 1, base.size), None)
    if last is None or last.seq != base.size - 1 or last.notification_id != state.last_id:
        report.add(
            base.size - 1,
            f"seq {base.size - 1}: the last verified leaf (notification {state.last_id}) is "
            f"no longer in the store {gone}",
        )
        return False
    if base.size % 2 and last.leaf_hash != state.frontier[-1]:
        report.add(base.size - 1, f"seq {base.size - 1}: the last verified leaf was rewritten")
    found = sealed.source.rows_after(state.last_id - 1, 1)
    if not found or found[0].id != state.last_id:
        report.add(
            base.size - 1,
            f"seq {base.size - 1}: the last verified event (notification {state.last_id}) is "
            f"missing {gone}",
        )
        return False
    try:
        digest = leaf_hash(found[0].leaf(base.size - 1))
    except (EventAuthenticationFailed, ValueError, TypeError):
        digest = b""  # a malformed row: named below as differing
    if digest != last.leaf_hash:
        report.add(
            base.size - 1,
            f"seq {base.size - 1}: the last verified event (notification {state.last_id}) "
            "differs from its sealed leaf",
        )
    return report.ok


def _unreached(
    report: VerifyReport,
    sealed: SealedLog,
    found: Sequence[TrustedCheckpoint],
    public_key: Ed25519PublicKey,
    origin: str,
) -> None:
    """With the verified log gone, name each reference the store no longer reaches."""
    _, top = sealed.leaf_count()
    for reference in found:
        try:
            trusted = verify_checkpoint(reference.note, public_key, origin, origin=origin)
        except CheckpointError as exc:
            report.add(None, f"the checkpoint of {reference.source} does not verify: {exc}")
            continue
        if trusted.size > top:
            report.add(
                top,
                f"the checkpoint at size {trusted.size} of {reference.source}: the store's "
                f"log ends at size {top} and no longer reaches the anchored size "
                f"{trusted.size} (rolled back, truncated or wiped)",
            )


def verify_log_incremental(
    sealed: SealedLog,
    public_key: Ed25519PublicKey,
    origin: str,
    state: VerifiedState,
    max_problems: int = 100,
    *,
    anchors: AnchorFile | None = None,
    trusted: Sequence[TrustedCheckpoint] = (),
) -> VerifyReport:
    """Verify the log from `state` on; see the module docstring. Raises StateForged if
    the state's note does not verify with `public_key` (the caller reports it) and
    StateUnusable if its frontier does not fold to the note's root (the caller then
    verifies in full)."""
    base = state.checkpoint(public_key)
    report = VerifyReport(mode="incremental", base=base.size)
    checkpoints = sealed.checkpoints(since=base.size)
    limit = checkpoints[-1].size if checkpoints else 0
    found = references(report, origin, anchors, trusted)
    if not _check_base(report, sealed, state, base):
        _unreached(report, sealed, found, public_key, origin)
        return report
    wanted = {c.size for c in checkpoints} | reference_sizes(found)
    tree = _ContinuedTree(sealed, state, base, wanted)
    leaves = sealed.leaf_rows(base.size, limit)
    notes = entries(sealed.source, after=state.last_id)
    expected, last_id = recompute(report, leaves, notes, base.size, tree.append, max_problems)
    check_sizes(report, sealed, expected, limit)
    check_checkpoints(report, sealed, checkpoints, tree, public_key, origin)
    check_new_subjects(report, sealed, checkpoints, base.size, state.last_id)
    for reference in found:
        check_reference(report, tree, reference, public_key, origin)
    report.size = tree.size
    report.state = ended_at(
        origin, checkpoints, tree, state.last_id if last_id is None else last_id
    )
    return report
