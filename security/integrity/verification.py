"""`ledger verify --full`: recompute every leaf from the stored events and check the log.

The incremental form (security.integrity.incremental) checks the same things, only
from the last verified state on; both share the recomputation and the checks here.

What is checked, and reported with the first bad sequence number:
- every sealed leaf is recomputed from its stored event row (a changed byte in any
  column of the event changes the leaf hash);
- the events follow the sealed order exactly (a missing, reordered or inserted
  event is named);
- every checkpoint's signature, origin and key; its root equals the root
  recomputed from the stored events at its size;
- each checkpoint is consistent with the one before (RFC 9162 consistency proof);
- the stored tree nodes proofs are read from equal the recomputed tree, and the
  subject map the newest checkpoint signs equals the map recomputed from the events
  and the key store (security.integrity.map_verification; both checked when
  everything above holds: a differing leaf already explains the nodes above it);
- the log reaches the newest checkpoint of the anchor file (security.integrity.anchors)
  and every trusted checkpoint given (`ledger verify --trusted-checkpoint`): each is
  signed by the log's key, and the recomputed tree has its root at its size and is a
  consistent extension of it (RFC 9162 consistency proof to the current size), so a
  rolled-back, truncated, wiped or forked log fails.
Events written after the last seal are counted as unsealed, not as errors.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Protocol

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from ledger_verify.checkpoints import (
    Checkpoint,
    CheckpointError,
    parse_checkpoint,
    verify_checkpoint,
)
from ledger_verify.merkle import CompactRange, MerkleTree, ProofError, leaf_hash, verify_consistency
from security.errors import EventAuthenticationFailed
from security.integrity.anchors import AnchorError, AnchorFile
from security.integrity.event_rows import one_line
from security.integrity.map_verification import check_subject_map
from security.integrity.sealed_log import (
    BATCH,
    LeafRow,
    LeafSource,
    SealedLog,
    SourceRow,
    StoredCheckpoint,
)
from security.integrity.verified_state import VerifiedState


@dataclass(frozen=True)
class Problem:
    """One difference found; `seq` is the leaf index it concerns, if any."""

    seq: int | None
    message: str


@dataclass(frozen=True)
class TrustedCheckpoint:
    """A checkpoint obtained outside the store, and where it came from (for messages)."""

    source: str
    note: str


@dataclass
class ProblemReport:
    """Problems found, each naming its seq where there is one; ok when there are none."""

    problems: list[Problem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    @property
    def first_bad_seq(self) -> int | None:
        seqs = [p.seq for p in self.problems if p.seq is not None]
        return min(seqs) if seqs else None

    def add(self, seq: int | None, message: str) -> None:
        self.problems.append(Problem(seq, message))


@dataclass
class VerifyReport(ProblemReport):
    """The outcome of a verification of one log, full or incremental.

    The counters concern what this run recomputed: every entry in full, the entries
    added since the verified state in an incremental run."""

    events: int = 0
    sealed: int = 0
    unsealed: int = 0
    checkpoints: int = 0
    mode: str = "full"
    base: int = 0
    """Incremental: the verified size the run started from."""
    size: int = 0
    """The size of the log verified (its newest checkpoint)."""
    fallback: str | None = None
    """Why a run asked to be incremental verified in full."""
    state: VerifiedState | None = None
    """Where this run ended: the state to keep if the whole verification is ok."""

    def describe(self) -> str:
        """`full`, `full: <why not incremental>` or `incremental from size N`."""
        if self.mode != "full":
            return f"incremental from size {self.base}"
        return "full" if self.fallback is None else f"full: {self.fallback}"


class Recomputed(Protocol):
    """The tree recomputed from the stored rows, as the checks below need it."""

    @property
    def size(self) -> int: ...

    def frontier(self, size: int) -> CompactRange: ...

    def check_consistency(self, size1: int, root1: bytes, size2: int, root2: bytes) -> None:
        """Raise ProofError unless the recomputed tree at `size2` has `root2` and is a
        consistent extension of the tree of `size1` with `root1`."""


class _FullTree:
    """Every leaf in memory: any frontier, any RFC 9162 consistency proof."""

    def __init__(self) -> None:
        self.tree = MerkleTree()

    @property
    def size(self) -> int:
        return self.tree.size

    def frontier(self, size: int) -> CompactRange:
        return self.tree.compact_range(size)

    def check_consistency(self, size1: int, root1: bytes, size2: int, root2: bytes) -> None:
        if size1 == 0:
            return
        proof = self.tree.consistency_proof(size1, size2)
        verify_consistency(size1, size2, proof, root1, root2)


def entries(source: LeafSource, after: int | None = None) -> Iterator[SourceRow]:
    """The source's rows with an id above `after` (all by default), in id order."""
    last = after
    while True:
        batch = source.rows_after(last, BATCH)
        if not batch:
            return
        yield from batch
        last = batch[-1].id


def recompute(
    report: VerifyReport,
    leaves: Iterable[LeafRow],
    notes: Iterator[SourceRow],
    start: int,
    append: Callable[[bytes], None],
    max_problems: int,
) -> tuple[int, int | None]:
    """Recompute each sealed leaf from its stored row, from seq `start` on, appending
    the recomputed hashes; name every missing, inserted or differing entry. Returns the
    seq after the last leaf read and that leaf's source id; counts the rest unsealed."""
    pending: SourceRow | None = next(notes, None)
    expected = start
    last_id: int | None = None
    for leaf in leaves:
        if len(report.problems) >= max_problems:
            break
        if leaf.seq != expected:
            report.add(expected, f"seq {expected}: the sealed leaf index is missing")
            expected = leaf.seq
        while pending is not None and pending.id < leaf.notification_id:
            report.add(
                leaf.seq,
                f"seq {leaf.seq}: an entry (notification {pending.id}) was inserted "
                "among sealed entries",
            )
            report.events += 1
            pending = next(notes, None)
        if pending is None or pending.id > leaf.notification_id:
            report.add(
                leaf.seq,
                f"seq {leaf.seq}: the sealed event (notification {leaf.notification_id}) "
                "is missing",
            )
            append(leaf.leaf_hash)
        else:
            report.events += 1
            malformed = ""
            try:
                digest = leaf_hash(pending.leaf(leaf.seq))
            except (EventAuthenticationFailed, ValueError, TypeError) as exc:
                # a malformed row (truncated envelope, NULL or TEXT column) is named, never raised
                digest, malformed = b"", f" (malformed: {one_line(exc)})"
            if digest != leaf.leaf_hash:
                report.add(
                    leaf.seq,
                    f"seq {leaf.seq}: the stored event (notification {pending.id}) differs "
                    f"from the sealed leaf{malformed}",
                )
            append(digest if len(digest) == 32 else bytes(32))
            pending = next(notes, None)
        last_id = leaf.notification_id
        report.sealed += 1
        expected += 1
    while pending is not None:
        report.events += 1
        report.unsealed += 1
        pending = next(notes, None)
    return expected, last_id


def check_nodes(report: VerifyReport, sealed: SealedLog, tree: MerkleTree, limit: int) -> None:
    """The stored tree nodes (a cache that proofs are read from) equal the recomputed
    tree's perfect subtrees, and none is missing below their coverage."""
    covered = min(sealed.nodes_covered(), tree.size)
    seen = 0
    for level, idx, digest in sealed.node_rows():
        if len(report.problems) >= limit:
            return
        if (idx + 1) << level > tree.size:
            continue  # sealed after the checkpoints this run read
        seen += (idx + 1) << level <= covered
        if digest != tree._node(level, idx):  # the recomputed perfect subtree
            report.add(
                idx << level,
                f"seq {idx << level}: the stored tree node (level {level}, index {idx}) "
                "differs from the recomputed tree; proofs read from it fail verification",
            )
    if seen < covered - covered.bit_count():
        report.add(None, f"stored tree nodes are missing below leaf {covered}")


def check_sizes(report: VerifyReport, sealed: SealedLog, expected: int, limit: int) -> None:
    """The leaves end at the newest checkpoint's size, and the tables agree on it."""
    if expected < limit:
        report.add(expected, f"seq {expected}: sealed leaves end before the latest checkpoint")
    leaves, signed = sealed.sizes()
    if leaves != signed:
        report.add(
            min(leaves, signed),
            f"seq {min(leaves, signed)}: {leaves} leaves are sealed but the latest checkpoint "
            f"covers {signed} (a checkpoint or leaves were removed or added)",
        )


def check_checkpoints(
    report: VerifyReport,
    sealed: SealedLog,
    checkpoints: Sequence[StoredCheckpoint],
    tree: Recomputed,
    public_key: Ed25519PublicKey,
    origin: str,
) -> None:
    """Each checkpoint's signature, its stored row and frontier, its root at its size
    and its consistency with the one before."""
    previous: Checkpoint | None = None
    for checkpoint in checkpoints:
        report.checkpoints += 1
        try:
            parsed = verify_checkpoint(checkpoint.note, public_key, origin)
        except CheckpointError as exc:
            report.add(None, f"checkpoint at size {checkpoint.size}: {exc}")
            continue
        if parsed.size != checkpoint.size or parsed.root != checkpoint.root:
            report.add(None, f"checkpoint at size {checkpoint.size}: stored row differs from note")
            continue
        if parsed.size > tree.size:
            report.add(
                tree.size,
                f"checkpoint at size {parsed.size} covers more events than are sealed "
                f"({tree.size})",
            )
            continue
        computed = tree.frontier(parsed.size)
        if sealed.frontier(parsed.size) != b"".join(computed.to_hashes()):
            report.add(
                None,
                f"checkpoint at size {parsed.size}: its stored frontier does not match the "
                "log (the next seal would fork it)",
            )
        if computed.root() != parsed.root:
            low = previous.size if previous is not None else 0
            report.add(
                report.first_bad_seq if report.first_bad_seq is not None else low,
                f"checkpoint at size {parsed.size}: its root does not match the stored events "
                f"(a difference lies between seq {low} and {parsed.size - 1})",
            )
        if previous is not None:
            try:
                tree.check_consistency(previous.size, previous.root, parsed.size, parsed.root)
            except ProofError as exc:
                report.add(
                    None,
                    f"checkpoint at size {parsed.size} is not consistent with the one at "
                    f"size {previous.size}: {exc}",
                )
        previous = parsed


def references(
    report: VerifyReport,
    origin: str,
    anchors: AnchorFile | None,
    trusted: Sequence[TrustedCheckpoint],
) -> list[TrustedCheckpoint]:
    """The anchor file's newest checkpoint of `origin` (if any), then each trusted one."""
    found = list(trusted)
    if anchors is not None:
        try:
            newest = anchors.newest(origin, fresh=True)
        except AnchorError as exc:
            report.add(None, str(exc))
        else:
            if newest is not None:
                found.insert(0, TrustedCheckpoint(f"anchor file {anchors.path}", newest.note))
    return found


def reference_sizes(found: Sequence[TrustedCheckpoint]) -> set[int]:
    """The sizes the references claim (not verified: only to know where to look)."""
    sizes = set()
    for reference in found:
        try:
            sizes.add(parse_checkpoint(reference.note).size)
        except CheckpointError:
            continue  # check_reference names it
    return sizes


def check_reference(
    report: VerifyReport,
    tree: Recomputed,
    reference: TrustedCheckpoint,
    public_key: Ed25519PublicKey,
    origin: str,
) -> None:
    """The recomputed tree must be the referenced log or a consistent extension of it."""
    try:
        trusted = verify_checkpoint(reference.note, public_key, origin, origin=origin)
    except CheckpointError as exc:
        report.add(None, f"the checkpoint of {reference.source} does not verify: {exc}")
        return
    what = f"the checkpoint at size {trusted.size} of {reference.source}"
    if trusted.size > tree.size:
        report.add(
            tree.size,
            f"{what}: the store's log ends at size {tree.size} and no longer reaches the "
            f"anchored size {trusted.size} (rolled back, truncated or wiped)",
        )
        return
    if trusted.size == 0:
        return
    try:
        tree.check_consistency(
            trusted.size, trusted.root, tree.size, tree.frontier(tree.size).root()
        )
    except ProofError as exc:
        report.add(
            None,
            f"{what}: the store's log is not a consistent extension of it (rewritten or "
            f"forked): {exc}",
        )


def ended_at(
    origin: str, checkpoints: Sequence[StoredCheckpoint], tree: Recomputed, last_id: int | None
) -> VerifiedState | None:
    """The state at the newest checkpoint, if the recomputed tree reached it."""
    if not checkpoints or last_id is None or tree.size != checkpoints[-1].size:
        return None
    hashes = tuple(tree.frontier(tree.size).to_hashes())
    return VerifiedState(origin, checkpoints[-1].note, hashes, last_id, tree.size)


def verify_log(
    sealed: SealedLog,
    public_key: Ed25519PublicKey,
    origin: str,
    max_problems: int = 100,
    *,
    anchors: AnchorFile | None = None,
    trusted: Sequence[TrustedCheckpoint] = (),
) -> VerifyReport:
    """Recompute the whole log from the stored rows and check it against the anchor
    file's newest checkpoint of `origin` and each trusted checkpoint; see the module
    docstring."""
    report = VerifyReport()
    # checkpoints first: a seal running meanwhile adds leaves beyond the latest size,
    # which this run then counts as unsealed instead of reporting a false difference
    checkpoints = sealed.checkpoints()
    limit = checkpoints[-1].size if checkpoints else 0
    tree = _FullTree()
    leaves = sealed.leaf_rows(0, limit)
    expected, last_id = recompute(
        report, leaves, entries(sealed.source), 0, tree.tree.append, max_problems
    )
    check_sizes(report, sealed, expected, limit)
    check_checkpoints(report, sealed, checkpoints, tree, public_key, origin)
    if report.ok:  # a differing leaf already explains differing nodes above it
        check_nodes(report, sealed, tree.tree, max_problems)
        check_subject_map(report, sealed, checkpoints)
    for reference in references(report, origin, anchors, trusted):
        check_reference(report, tree, reference, public_key, origin)
    report.size = tree.size
    report.state = ended_at(origin, checkpoints, tree, last_id)
    return report
