"""`ledger verify --full`: the subject map the newest checkpoint signs equals the map
recomputed from the stored events and the key store (docs/ledger-format.md §4, "The
subject map"), so a map the sealer built wrong (an event left out of its subject's
chain, a wrong subject) is found, not only a map altered after signing.

The recomputation reads the sealed events once, the subject of each from its clear
`key_ref` (nothing is decrypted), and holds one chain head per subject in memory. An
event whose key row is gone leaves the map unchecked: the key store check names it.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Protocol

from ledger_verify.checkpoints import parse_checkpoint
from ledger_verify.merkle import leaf_hash
from ledger_verify.smt import (
    EMPTY,
    Entry,
    MapProofError,
    MemoryStore,
    chain_head,
    chain_step,
    encode_value,
    map_key,
    signed_map,
    update,
    verify_proof,
)
from security.errors import EventAuthenticationFailed
from security.integrity.sealed_log import BATCH, SealedLog, StoredCheckpoint
from security.integrity.subject_map import MapMissing, SubjectProof
from security.keys.envelope import Envelope


def _names_a_key(entry: object) -> bool:
    """Whether the entry is an envelope naming a data key (whose row then is missing)."""
    state = getattr(entry, "state", None)
    try:
        return state is not None and bool(Envelope.unpack(state).key_ref)
    except (EventAuthenticationFailed, ValueError):
        return False


class _KeyGone(Exception):
    """An event names a data key whose row is gone (the key store check names it)."""


def _sealed_events(
    sealed: SealedLog, seq: int, last: int | None, size: int
) -> Iterator[tuple[int, str, bytes | None]]:
    """(seq, subject, leaf hash or None if the row is malformed) of each sealed event
    with a subject from `seq` (the event after notification `last`) below `size`;
    raises _KeyGone at an event whose key row is missing."""
    assert sealed.subject_map is not None
    while seq < size:
        batch = sealed.source.rows_after(last, min(BATCH, size - seq))
        if not batch:
            return  # `recompute` has named the missing events
        with sealed.datastore.transaction(commit=False) as cursor:
            subjects = sealed.subject_map.subjects_of(
                cursor, [getattr(entry, "state", None) for entry in batch]
            )
        for entry, subject in zip(batch, subjects, strict=True):
            if subject is None and _names_a_key(entry):
                raise _KeyGone
            if subject is not None:
                try:
                    digest: bytes | None = leaf_hash(entry.leaf(seq))
                except (EventAuthenticationFailed, ValueError, TypeError):
                    digest = None
                yield seq, subject, digest
            seq += 1
        last = batch[-1].id


class Reported(Protocol):
    def add(self, seq: int | None, message: str) -> None: ...


def check_subject_map(
    report: Reported, sealed: SealedLog, checkpoints: Sequence[StoredCheckpoint]
) -> None:
    """Compare the newest checkpoint's signed map root with the recomputed map."""
    if sealed.subject_map is None:
        return
    newest = _newest_signed(report, checkpoints)
    if newest is None:
        return  # sealed before the subject map, and not since (or reported)
    size, salt, root = newest
    heads: dict[bytes, tuple[int, int, bytes]] = {}
    try:
        for seq, subject, digest in _sealed_events(sealed, 0, None, size):
            key = map_key(salt, subject)
            count, _, head = heads.get(key, (0, -1, EMPTY))
            # a malformed row: `recompute` names it
            heads[key] = (count + 1, seq, chain_step(head, seq, digest or bytes(32)))
    except _KeyGone:
        return  # a key row is gone: the key store check names its events
    recomputed = update(MemoryStore(), {k: encode_value(Entry(*v)) for k, v in heads.items()})
    if recomputed != root:
        report.add(
            None,
            f"checkpoint at size {size}: its subject map root does not match the map "
            "recomputed from the stored events and key store (an event is missing from "
            "its subject's chain, or is in another's); completeness proofs from it are wrong",
        )


def _newest_signed(
    report: Reported, checkpoints: Sequence[StoredCheckpoint]
) -> tuple[int, bytes, bytes] | None:
    """(size, salt, root) of the newest checkpoint that signs a map; None if none does
    (or one's map line is malformed: then reported)."""
    for checkpoint in reversed(checkpoints):
        try:
            signed = signed_map(parse_checkpoint(checkpoint.note).extensions)
        except ValueError as exc:
            report.add(None, f"checkpoint at size {checkpoint.size}: {exc}")
            return None
        if signed is not None:
            return checkpoint.size, *signed
    return None


def check_new_subjects(
    report: Reported,
    sealed: SealedLog,
    checkpoints: Sequence[StoredCheckpoint],
    base: int,
    last_id: int,
) -> None:
    """`ledger verify` (incremental): the map entry, at the newest checkpoint since the
    verified size `base` that signs a map, of every subject of an event sealed since
    (the event after notification `last_id` is the one at `base`). The entry's proof
    must fold to the signed root, the subject's stored chain must fold to the entry,
    and the chain's steps from `base` on must be exactly the subject's new events with
    their recomputed leaf hashes. The proofs are read together (one node query per
    depth of the map, shared by all the subjects), so the queries grow with log2 of the
    log's subjects, not with the new subjects; the rows read grow with the new subjects
    times (log2 of the subjects + their events). Subjects without a new event are not
    read: the full run recomputes the whole map (see docs/ledger-format.md §4)."""
    if sealed.subject_map is None:
        return
    newest = _newest_signed(report, checkpoints)
    if newest is None or newest[0] <= base:
        return
    size, salt, root = newest
    steps: dict[str, list[tuple[int, bytes]]] = {}
    try:
        for seq, subject, digest in _sealed_events(sealed, base, last_id, size):
            if digest is None:
                return  # `recompute` names the malformed row
            steps.setdefault(subject, []).append((seq, digest))
    except _KeyGone:
        return  # a key row is gone: the key store check names its events
    if not steps:
        return
    # one read of all their proofs: the map's nodes a query per depth, shared
    proofs: dict[str, SubjectProof | MapMissing | MapProofError]
    assert sealed.subject_map is not None
    try:
        with sealed.datastore.transaction(commit=False) as cursor:
            proofs = sealed.subject_map.subject_proofs(
                cursor, list(steps), size, sealed.leaves_table
            )
    except MapMissing as exc:
        proofs = dict.fromkeys(steps, exc)
    for subject, new in steps.items():
        _check_subject(report, (size, salt, root), base, subject, new, proofs[subject])


def _check_subject(
    report: Reported,
    signed: tuple[int, bytes, bytes],
    base: int,
    subject: str,
    new: list[tuple[int, bytes]],
    proven: SubjectProof | MapMissing | MapProofError,
) -> None:
    size, salt, root = signed
    where = f"checkpoint at size {size}: the subject map entry of the subject of seq {new[0][0]}"
    try:
        if isinstance(proven, Exception):
            raise proven
        entry = verify_proof(root, map_key(salt, subject), proven.proof)
        chained = Entry(*chain_head(proven.chain)) if proven.chain else None
    except (MapMissing, MapProofError) as exc:
        report.add(new[0][0], f"{where} is not proven by the stored map: {exc}")
        return
    if entry is None or entry != chained:
        report.add(
            new[0][0],
            f"{where} does not match the subject's stored chain (a map or chain row was "
            "altered, or the sealer built the map wrong)",
        )
        return
    since = [step for step in proven.chain if step[0] >= base]
    if since != new:
        # the first step that differs (a seq missing or extra, or another leaf hash)
        differing = sorted({seq for seq, _ in set(new) ^ set(since)}) or [new[0][0]]
        report.add(
            differing[0],
            f"{where}: its chain since the verified size {base} is not the subject's "
            "new events (one is missing, extra or has another leaf hash)",
        )
