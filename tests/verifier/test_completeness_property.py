"""Property test of the completeness check (ledger_verify.bundle.subject_chains) on
random logs of many subjects, without a server: every subject's bundle is complete,
and every single-event omission is caught and named, whether the forger leaves the
chain as it is or cuts the event out of it too."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ledger_verify.bundle.checkpoint import BundleCheckpoint
from ledger_verify.bundle.report import BundleReport
from ledger_verify.bundle.scope import Scope
from ledger_verify.bundle.subject_chains import COMPLETENESS, check_completeness, line_of
from ledger_verify.checkpoints import Checkpoint
from ledger_verify.merkle import leaf_hash
from ledger_verify.smt import (
    Entry,
    MemoryStore,
    chain_head,
    encode_value,
    map_key,
    map_line,
    prove,
    update,
)

pytestmark = pytest.mark.unit

settings.register_profile("completeness", database=None, deadline=None, max_examples=40)
FAST = settings.get_profile("completeness")
SALT = bytes(range(1, 33))


def leaf_line(seq: int) -> bytes:
    return json.dumps({"seq": seq, "x": seq * 7}, separators=(",", ":")).encode()


def build(log: list[int]) -> tuple[Checkpoint, dict[str, list[tuple[int, bytes]]], MemoryStore]:
    """The signed checkpoint (map line only; the signature is checked elsewhere), the
    chains by subject and the map of a log whose leaf `seq` is about subject log[seq]."""
    chains: dict[str, list[tuple[int, bytes]]] = {}
    for seq, subject in enumerate(log):
        chains.setdefault(f"s{subject}", []).append((seq, leaf_hash(leaf_line(seq))))
    store = MemoryStore()
    root = update(
        store,
        {map_key(SALT, s): encode_value(Entry(*chain_head(c))) for s, c in chains.items()},
    )
    checkpoint = Checkpoint("o", len(log), bytes(32), "", "", (map_line(SALT, root),))
    return checkpoint, chains, store


def verify(
    checkpoint: Checkpoint,
    subject: str,
    store: MemoryStore,
    chain: list[tuple[int, bytes]],
    held: list[int],
) -> BundleReport:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        (root / "leaves.jsonl").write_bytes(b"".join(leaf_line(s) + b"\n" for s in held))
        proof = prove(store, map_key(SALT, subject))
        (root / COMPLETENESS).write_bytes(line_of(subject, proof, chain) + b"\n")
        report = BundleReport()
        scope = Scope(everything=False, customers=(subject,), since=None, until=None)
        check_completeness(root, report, scope, BundleCheckpoint(checkpoint=checkpoint))
        return report


@FAST
@given(st.lists(st.integers(0, 11), min_size=1, max_size=60))
def test_every_bundle_is_complete_and_every_omission_is_caught(log: list[int]) -> None:
    checkpoint, chains, store = build(log)
    for subject, chain in chains.items():
        seqs = [seq for seq, _ in chain]
        assert verify(checkpoint, subject, store, chain, seqs).ok
        for gone in seqs:
            held = [s for s in seqs if s != gone]
            named = verify(checkpoint, subject, store, chain, held)
            assert [(f.file, f.seq) for f in named.failures] == [("leaves.jsonl", gone)]
            cut = [step for step in chain if step[0] != gone]
            unnamed = verify(checkpoint, subject, store, cut, held)
            assert not unnamed.ok
            assert "does not reach the signed head" in unnamed.failures[0].message


@FAST
@given(st.lists(st.integers(0, 5), min_size=2, max_size=30), st.data())
def test_another_subjects_proof_or_a_changed_leaf_is_caught(
    log: list[int], data: st.DataObject
) -> None:
    checkpoint, chains, store = build(log)
    subjects = sorted(chains)
    subject = data.draw(st.sampled_from(subjects))
    others = [s for s in subjects if s != subject]
    if others:
        other = data.draw(st.sampled_from(others))
        with tempfile.TemporaryDirectory() as tmp:
            root = Path(tmp)
            seqs = [seq for seq, _ in chains[other]]
            (root / "leaves.jsonl").write_bytes(b"".join(leaf_line(s) + b"\n" for s in seqs))
            proof = prove(store, map_key(SALT, other))  # the other subject's entry
            (root / COMPLETENESS).write_bytes(line_of(subject, proof, chains[other]) + b"\n")
            report = BundleReport()
            scope = Scope(everything=False, customers=(subject,), since=None, until=None)
            check_completeness(root, report, scope, BundleCheckpoint(checkpoint=checkpoint))
            assert "the customer's map proof fails" in report.failures[0].message
    chain = chains[subject]
    forged = [(seq, bytes(32) if i == 0 else digest) for i, (seq, digest) in enumerate(chain)]
    assert not verify(checkpoint, subject, store, forged, [s for s, _ in chain]).ok
