"""`ledger verify --full`: the subject map the newest checkpoint signs equals the map
recomputed from the stored events and the key store (docs/ledger-format.md §4, "The
subject map"), so a map the sealer built wrong (an event left out of its subject's
chain, a wrong subject) is found, not only a map altered after signing.

The recomputation reads the sealed events once, the subject of each from its clear
`key_ref` (nothing is decrypted), and holds one chain head per subject in memory. An
event whose key row is gone leaves the map unchecked: the key store check names it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from ledger_verify.checkpoints import parse_checkpoint
from ledger_verify.merkle import leaf_hash
from ledger_verify.smt import (
    EMPTY,
    Entry,
    MemoryStore,
    chain_step,
    encode_value,
    map_key,
    signed_map,
    update,
)
from security.errors import EventAuthenticationFailed
from security.integrity.sealed_log import BATCH, SealedLog, StoredCheckpoint
from security.keys.envelope import Envelope


def _names_a_key(entry: object) -> bool:
    """Whether the entry is an envelope naming a data key (whose row then is missing)."""
    state = getattr(entry, "state", None)
    try:
        return state is not None and bool(Envelope.unpack(state).key_ref)
    except (EventAuthenticationFailed, ValueError):
        return False


class Reported(Protocol):
    def add(self, seq: int | None, message: str) -> None: ...


def check_subject_map(
    report: Reported, sealed: SealedLog, checkpoints: Sequence[StoredCheckpoint]
) -> None:
    """Compare the newest checkpoint's signed map root with the recomputed map."""
    if sealed.subject_map is None:
        return
    signed = None
    for checkpoint in reversed(checkpoints):
        try:
            signed = signed_map(parse_checkpoint(checkpoint.note).extensions)
        except ValueError as exc:
            report.add(None, f"checkpoint at size {checkpoint.size}: {exc}")
            return
        if signed is not None:
            break
    if signed is None:
        return  # sealed before the subject map, and not since
    salt, root = signed
    heads: dict[bytes, tuple[int, int, bytes]] = {}
    seq, last = 0, None
    size = checkpoint.size
    while seq < size:
        batch = sealed.source.rows_after(last, min(BATCH, size - seq))
        if not batch:
            break  # `recompute` has named the missing events
        with sealed.datastore.transaction(commit=False) as cursor:
            subjects = sealed.subject_map.subjects_of(
                cursor, [getattr(entry, "state", None) for entry in batch]
            )
        for entry, subject in zip(batch, subjects, strict=True):
            if subject is None and _names_a_key(entry):
                return  # a key row is gone: the key store check names its events
            if subject is not None:
                try:
                    digest = leaf_hash(entry.leaf(seq))
                except (EventAuthenticationFailed, ValueError, TypeError):
                    digest = bytes(32)  # `recompute` names the malformed row
                key = map_key(salt, subject)
                count, _, head = heads.get(key, (0, -1, EMPTY))
                heads[key] = (count + 1, seq, chain_step(head, seq, digest))
            seq += 1
        last = batch[-1].id
    recomputed = update(MemoryStore(), {k: encode_value(Entry(*v)) for k, v in heads.items()})
    if recomputed != root:
        report.add(
            None,
            f"checkpoint at size {size}: its subject map root does not match the map "
            "recomputed from the stored events and key store (an event is missing from "
            "its subject's chain, or is in another's); completeness proofs from it are wrong",
        )
