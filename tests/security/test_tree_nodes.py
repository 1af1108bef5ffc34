"""Stored tree nodes: proofs read from them equal the in-memory tree's, verify with the
offline verifier, survive a store sealed before the table existed (backfill), and a
tampered node fails verification and `verify --full`."""

from __future__ import annotations

import random
from collections.abc import Iterator

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ledger_verify.merkle import MerkleTree, ProofError, verify_consistency, verify_inclusion
from security.bootstrap import Ledger, Settings, build_ledger
from security.integrity.sealed_log import SealedLogInconsistent
from security.integrity.tree_nodes import (
    NodeBuilder,
    _range_nodes,
    consistency_ranges,
    fold,
    inclusion_ranges,
)
from tests.support.sample import SampleApp
from tests.support.store import run_sql, select

pytestmark = pytest.mark.integration

SIZE = 70


@pytest.fixture
def ledger(ledger_config: Settings) -> Iterator[Ledger]:
    built = build_ledger(ledger_config, app_class=SampleApp)
    yield built
    built.close()


def grow(ledger: Ledger, events: int, seed: int = 7) -> None:
    """`events` events, sealed in uneven batches (1 to 9 events per seal)."""
    rng = random.Random(seed)
    written = 0
    while written < events:
        for _ in range(min(rng.randint(1, 9), events - written)):
            ledger.app.register(f"P{written}", "13900000000", f"ID{written}")
            written += 1
        ledger.seal()


def assert_proofs_match(ledger: Ledger, size: int) -> None:
    sealed = ledger.sealed_log
    tree = sealed.tree(size)
    proofs = sealed.proofs()
    for n in range(1, size + 1):
        root = tree.root(n)
        assert proofs.root(n) == root
        batch = proofs.inclusion_proofs(list(range(n)), n)
        for index in range(n):
            assert batch[index] == tree.inclusion_proof(index, n)
            verify_inclusion(tree.leaf_hash_at(index), index, n, batch[index], root)
        for m in range(1, n + 1):
            proof = proofs.consistency_proof(m, n)
            assert proof == tree.consistency_proof(m, n)
            verify_consistency(m, n, proof, tree.root(m), root)


def test_node_proofs_equal_the_in_memory_tree_at_every_size(ledger: Ledger) -> None:
    grow(ledger, SIZE)
    assert ledger.sealed_log.nodes_covered() == SIZE
    assert_proofs_match(ledger, SIZE)


def test_a_store_sealed_before_the_nodes_table_is_backfilled_in_chunks(ledger: Ledger) -> None:
    grow(ledger, 40)
    sealed = ledger.sealed_log
    run_sql(ledger, f"DELETE FROM {sealed.nodes.nodes_table}")
    run_sql(ledger, f"DELETE FROM {sealed.nodes.state_table}")
    grow(ledger, 30, seed=8)  # sealing goes on without nodes while they are not covered
    assert sealed.nodes_covered() == 0
    assert sealed.backfill_nodes(size=20, chunk=7) == 21  # resumable: stops at a chunk
    assert sealed.nodes_covered() == 21
    assert_proofs_match(ledger, SIZE)  # the first proof backfills the rest
    assert sealed.nodes_covered() == SIZE
    grow(ledger, 5, seed=9)  # and sealing writes nodes again
    assert sealed.nodes_covered() == SIZE + 5
    rows = select(ledger, f"SELECT COUNT(*) AS n FROM {sealed.nodes.nodes_table}")
    assert int(rows[0]["n"]) == (SIZE + 5) - (SIZE + 5).bit_count()  # one per merge


def test_a_proof_beyond_the_sealed_log_is_refused(ledger: Ledger) -> None:
    grow(ledger, 3)
    with pytest.raises(SealedLogInconsistent):
        ledger.sealed_log.proofs().inclusion_proof(0, 4)
    with pytest.raises(ValueError):
        ledger.sealed_log.proofs().inclusion_proof(3, 3)
    with pytest.raises(ValueError):
        ledger.sealed_log.proofs().consistency_proof(0, 3)


def test_a_tampered_node_fails_verification_and_full_verify(ledger: Ledger) -> None:
    grow(ledger, 20)
    ledger.access_sealed.seal()
    sealed = ledger.sealed_log
    tree = sealed.tree(20)
    run_sql(
        ledger,
        f"UPDATE {sealed.nodes.nodes_table} SET hash=? WHERE level=2 AND idx=0",
        (bytes(32),),
    )
    proof = sealed.proofs().inclusion_proof(7, 20)
    with pytest.raises(ProofError):
        verify_inclusion(tree.leaf_hash_at(7), 7, 20, proof, tree.root(20))
    with pytest.raises(ProofError):
        verify_consistency(
            5, 20, sealed.proofs().consistency_proof(5, 20), tree.root(5), tree.root(20)
        )
    report = ledger.verify_all(full=True)
    assert not report.ok
    assert any("tree node" in p.message for p in report.problems), report.problems


def test_the_access_log_keeps_nodes_too(ledger: Ledger) -> None:
    for i in range(9):
        ledger.access_log.record(
            actor_id="alice",
            role="compliance_officer",
            purpose="compliance_audit",
            subject_id=f"s{i}",
            what="customer.profile",
        )
        ledger.access_sealed.seal()
    sealed = ledger.access_sealed
    size = sealed.sealed_size()
    assert sealed.nodes_covered() == size
    tree = sealed.tree(size)
    for n in range(1, size + 1):
        for m in range(1, n + 1):
            assert sealed.proofs().consistency_proof(m, n) == tree.consistency_proof(m, n)


def _stored_tree(leaves: list[bytes]) -> dict[tuple[int, int], bytes]:
    nodes: dict[tuple[int, int], bytes] = {(0, i): h for i, h in enumerate(leaves)}
    out: list[tuple[int, int, bytes]] = []
    builder = NodeBuilder(0, [])
    for h in leaves:
        builder.append(h, out)
    nodes.update({(level, idx): h for level, idx, h in out})
    return nodes


@settings(max_examples=60, deadline=None)
@given(
    size=st.integers(1, 300),
    data=st.data(),
)
def test_ranges_fold_stored_nodes_into_the_rfc_proofs(size: int, data: st.DataObject) -> None:
    leaves = [bytes([i % 256, i // 256]) * 16 for i in range(size)]
    tree = MerkleTree(leaves)
    nodes = _stored_tree(leaves)
    index = data.draw(st.integers(0, size - 1))
    n = data.draw(st.integers(index + 1, size))
    got = [fold([nodes[x] for x in _range_nodes(*r)]) for r in inclusion_ranges(index, n)]
    assert got == tree.inclusion_proof(index, n)
    m = data.draw(st.integers(1, n))
    got = [fold([nodes[x] for x in _range_nodes(*r)]) for r in consistency_ranges(m, n)]
    assert got == tree.consistency_proof(m, n)
