"""`ledger verify`: recompute every leaf from the stored events and check the log.

What is checked, and reported with the first bad sequence number:
- every sealed leaf is recomputed from its stored event row (a changed byte in any
  column of the event changes the leaf hash);
- the events follow the sealed order exactly (a missing, reordered or inserted
  event is named);
- every checkpoint's signature, origin and key; its root equals the root
  recomputed from the stored events at its size;
- each checkpoint is consistent with the one before (RFC 9162 consistency proof);
- the log reaches the newest checkpoint of the anchor file (security.integrity.anchors)
  and every trusted checkpoint given (`ledger verify --trusted-checkpoint`): each is
  signed by the log's key, and the recomputed tree has its root at its size and is a
  consistent extension of it (RFC 9162 consistency proof to the current size), so a
  rolled-back, truncated, wiped or forked log fails.
Events written after the last seal are counted as unsealed, not as errors.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from ledger_verify.checkpoints import CheckpointError, verify_checkpoint
from ledger_verify.merkle import MerkleTree, ProofError, leaf_hash, verify_consistency
from security.errors import EventAuthenticationFailed
from security.integrity.anchors import AnchorError, AnchorFile
from security.integrity.event_rows import one_line
from security.integrity.sealed_log import BATCH, LeafSource, SealedLog, SourceRow


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
    """The outcome of a full verification."""

    events: int = 0
    sealed: int = 0
    unsealed: int = 0
    checkpoints: int = 0


def _entries(source: LeafSource) -> Iterator[SourceRow]:
    last: int | None = None
    while True:
        batch = source.rows_after(last, BATCH)
        if not batch:
            return
        yield from batch
        last = batch[-1].id


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
    tree = MerkleTree()
    notes = _entries(sealed.source)
    pending: SourceRow | None = next(notes, None)
    expected = 0
    for leaf in sealed.leaf_rows(0, limit):
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
            tree.append(leaf.leaf_hash)
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
            tree.append(digest if len(digest) == 32 else bytes(32))
            pending = next(notes, None)
        report.sealed += 1
        expected += 1
    while pending is not None:
        report.events += 1
        report.unsealed += 1
        pending = next(notes, None)

    if expected < limit:
        report.add(expected, f"seq {expected}: sealed leaves end before the latest checkpoint")
    leaves, signed = sealed.sizes()
    if leaves != signed:
        report.add(
            min(leaves, signed),
            f"seq {min(leaves, signed)}: {leaves} leaves are sealed but the latest checkpoint "
            f"covers {signed} (a checkpoint or leaves were removed or added)",
        )

    previous = None
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
        stored_frontier = sealed.frontier(parsed.size)
        if stored_frontier != b"".join(tree.compact_range(parsed.size).to_hashes()):
            report.add(
                None,
                f"checkpoint at size {parsed.size}: its stored frontier does not match the "
                "log (the next seal would fork it)",
            )
        if tree.root(parsed.size) != parsed.root:
            low = previous.size if previous is not None else 0
            report.add(
                report.first_bad_seq if report.first_bad_seq is not None else low,
                f"checkpoint at size {parsed.size}: its root does not match the stored events "
                f"(a difference lies between seq {low} and {parsed.size - 1})",
            )
        if previous is not None:
            try:
                verify_consistency(
                    previous.size,
                    parsed.size,
                    tree.consistency_proof(previous.size, parsed.size),
                    previous.root,
                    parsed.root,
                )
            except ProofError as exc:
                report.add(
                    None,
                    f"checkpoint at size {parsed.size} is not consistent with the one at "
                    f"size {previous.size}: {exc}",
                )
        previous = parsed

    references = list(trusted)
    if anchors is not None:
        try:
            newest = anchors.newest(origin, fresh=True)
        except AnchorError as exc:
            report.add(None, str(exc))
        else:
            if newest is not None:
                references.insert(0, TrustedCheckpoint(f"anchor file {anchors.path}", newest.note))
    for reference in references:
        _check_reference(report, tree, reference, public_key, origin)
    return report


def _check_reference(
    report: VerifyReport,
    tree: MerkleTree,
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
        verify_consistency(
            trusted.size,
            tree.size,
            tree.consistency_proof(trusted.size, tree.size),
            trusted.root,
            tree.root(),
        )
    except ProofError as exc:
        report.add(
            None,
            f"{what}: the store's log is not a consistent extension of it (rewritten or "
            f"forked): {exc}",
        )
