"""The partition simulation: an event proved through its partition's checkpoint to
the top-level root, with ledger_verify alone; any tampered link is refused."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from benchmarks.partitions import (
    ChainBroken,
    ProofChain,
    Simulation,
    grow,
    open_simulation,
    prove,
    simulate,
    tampered,
    verify_chain,
)

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def sim(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Simulation]:
    simulation = open_simulation(2, tmp_path_factory.mktemp("partitions"))
    try:
        grow(simulation, 60, 0)
        grow(simulation, 40, 1)
        yield simulation
    finally:
        simulation.close()


@pytest.fixture
def chain(sim: Simulation) -> ProofChain:
    return prove(sim.partitions[1], 17, sim.top)


def test_an_event_of_one_partition_verifies_up_to_the_top_level_root(
    sim: Simulation, chain: ProofChain
) -> None:
    assert len(sim.top.notes) == 4  # two partitions, two rounds
    assert chain.partition_note.startswith("crm-ledger.local/ledger/p1\n100\n")
    assert chain.top_index == 3
    verify_chain(chain, sim.keys(), sim.top.public_key)


def test_a_changed_event_byte_breaks_the_chain(sim: Simulation, chain: ProofChain) -> None:
    with pytest.raises(ChainBroken, match="event not in the partition's log"):
        verify_chain(tampered(chain), sim.keys(), sim.top.public_key)


def test_another_partitions_checkpoint_breaks_the_chain(sim: Simulation, chain: ProofChain) -> None:
    other = replace(chain, partition_note=sim.top.notes[2])  # p0's, at the same round
    with pytest.raises(ChainBroken, match="not in the top-level log"):
        verify_chain(other, sim.keys(), sim.top.public_key)
    top_proof = tuple(sim.top.tree.inclusion_proof(2, 4))
    moved = replace(other, top_index=2, top_proof=top_proof)
    with pytest.raises(ChainBroken, match="event not in the partition's log"):
        verify_chain(moved, sim.keys(), sim.top.public_key)


def test_a_top_level_checkpoint_under_another_key_is_refused(
    sim: Simulation, chain: ProofChain
) -> None:
    with pytest.raises(ChainBroken, match="top-level checkpoint"):
        verify_chain(chain, sim.keys(), Ed25519PrivateKey.generate().public_key())


def test_a_partition_signed_by_an_unknown_key_is_refused(
    sim: Simulation, chain: ProofChain
) -> None:
    keys = sim.keys()
    keys["crm-ledger.local/ledger/p1"] = Ed25519PrivateKey.generate().public_key()
    with pytest.raises(ChainBroken, match="partition checkpoint"):
        verify_chain(chain, keys, sim.top.public_key)


def test_the_whole_simulation_reports_a_verified_chain_and_consistency(tmp_path: Path) -> None:
    out = simulate(2, 30, tmp_path)
    assert out["top_size"] == 4
    assert out["top_consistency"] == "2 -> 4 verified"
    assert out["chain_hashes"] == out["partition_proof_hashes"] + out["top_proof_hashes"]
    assert "event not in the partition's log" in out["tampered"]
