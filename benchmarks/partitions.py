"""Simulation: a log partitioned into several Merkle logs under one top-level log.

Each partition is a whole ledger in a PostgreSQL schema of its own (its own events,
data keys, sealed log, signing key and origin), holding its own range of customers.
The top-level log is an RFC 9162 Merkle log whose leaves are the partitions' signed
checkpoint notes, as they are published, with a signed checkpoint of its own. One
proof chain then takes an event to the top-level root:

    event leaf --(inclusion, partition tree)--> partition checkpoint (signed)
    partition checkpoint note --(inclusion, top-level tree)--> top-level checkpoint (signed)

`verify_chain` checks such a chain with `ledger_verify` alone (merkle and
checkpoints), as a regulator or a witness would. A witness of the top-level log
checks consistency between its checkpoints exactly as for one log.

`python -m benchmarks partitions` runs it with PARTITIONS (env
LEDGER_PARTITIONS, default 2) partitions of LEDGER_PARTITION_EVENTS events each
(default 10,000), in two rounds, and prints the figures docs/scaling.md quotes.
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import psycopg
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)

from demo.bulk import bulk_customers
from ledger_verify.checkpoints import CheckpointError, sign_checkpoint, verify_checkpoint
from ledger_verify.merkle import (
    MerkleTree,
    ProofError,
    leaf_hash,
    verify_consistency,
    verify_inclusion,
)
from security.bootstrap import Ledger, Settings, build_ledger
from security.keys.envelope import leaf_bytes

PG_DSN = os.environ.get("LEDGER_TEST_PG", "postgresql://postgres@127.0.0.1:5432/test")
PARTITIONS = int(os.environ.get("LEDGER_PARTITIONS", "2"))
EVENTS = int(os.environ.get("LEDGER_PARTITION_EVENTS", "10000"))
TOP_ORIGIN = "crm-ledger.local/top"


class ChainBroken(Exception):
    """A proof chain from an event to the top-level root does not verify."""


@dataclass(frozen=True)
class ProofChain:
    """Everything needed to check one event against the top-level checkpoint."""

    leaf: bytes  # the event's leaf bytes, recomputed from its stored row
    seq: int  # its index in the partition's log
    partition_proof: tuple[bytes, ...]
    partition_note: str  # the partition's signed checkpoint
    top_index: int  # where that note is a leaf of the top-level log
    top_proof: tuple[bytes, ...]
    top_note: str  # the top-level signed checkpoint


@dataclass
class TopLog:
    """The top-level log: leaves are partition checkpoint notes, in publication order."""

    signing_key: Ed25519PrivateKey
    origin: str = TOP_ORIGIN

    def __post_init__(self) -> None:
        self.tree = MerkleTree()
        self.notes: list[str] = []
        self.checkpoints: list[str] = []

    def publish(self, notes: Sequence[str]) -> str:
        """Append partition checkpoint notes and sign a new top-level checkpoint."""
        for note in notes:
            self.tree.append(leaf_hash(note.encode()))
            self.notes.append(note)
        size = len(self.notes)
        signed = sign_checkpoint(self.origin, size, self.tree.root(size), self.signing_key)
        self.checkpoints.append(signed)
        return signed

    @property
    def public_key(self) -> Ed25519PublicKey:
        return self.signing_key.public_key()


def event_leaf(ledger: Ledger, seq: int) -> bytes:
    """Leaf bytes of the event at `seq`, recomputed from the stored event row."""
    row = next(ledger.sealed_log.leaf_rows(seq, seq + 1))
    notes = ledger.app.recorder.select_notifications(start=row.notification_id, limit=1)
    n = notes[0]
    return leaf_bytes(seq, n.id, n.originator_id, n.originator_version, n.topic, n.state)


def prove(ledger: Ledger, seq: int, top: TopLog) -> ProofChain:
    """The chain for event `seq` of `ledger`: against the partition's newest checkpoint
    that the top-level log holds, and the top-level log's newest checkpoint."""
    origin = ledger.sealed_log.origin
    index = max(i for i, note in enumerate(top.notes) if note.startswith(origin + "\n"))
    note = top.notes[index]
    size = int(note.split("\n")[1])
    partition_tree = ledger.sealed_log.tree(size)
    top_size = len(top.notes)
    return ProofChain(
        leaf=event_leaf(ledger, seq),
        seq=seq,
        partition_proof=tuple(partition_tree.inclusion_proof(seq, size)),
        partition_note=note,
        top_index=index,
        top_proof=tuple(top.tree.inclusion_proof(index, top_size)),
        top_note=top.checkpoints[-1],
    )


def verify_chain(
    chain: ProofChain,
    partition_keys: dict[str, Ed25519PublicKey],
    top_key: Ed25519PublicKey,
    top_origin: str = TOP_ORIGIN,
) -> None:
    """Check the chain with ledger_verify only; ChainBroken says which link failed."""
    try:
        top = verify_checkpoint(chain.top_note, top_key, top_origin, origin=top_origin)
    except CheckpointError as exc:
        raise ChainBroken(f"top-level checkpoint: {exc}") from None
    try:
        verify_inclusion(
            leaf_hash(chain.partition_note.encode()),
            chain.top_index,
            top.size,
            chain.top_proof,
            top.root,
        )
    except ProofError as exc:
        raise ChainBroken(f"partition checkpoint not in the top-level log: {exc}") from None
    origin = chain.partition_note.split("\n", 1)[0]
    key = partition_keys.get(origin)
    if key is None:
        raise ChainBroken(f"unknown partition {origin!r}")
    try:
        partition = verify_checkpoint(chain.partition_note, key, origin, origin=origin)
    except CheckpointError as exc:
        raise ChainBroken(f"partition checkpoint: {exc}") from None
    try:
        verify_inclusion(
            leaf_hash(chain.leaf), chain.seq, partition.size, chain.partition_proof, partition.root
        )
    except ProofError as exc:
        raise ChainBroken(f"event not in the partition's log: {exc}") from None


def tampered(chain: ProofChain) -> ProofChain:
    """The same chain with one byte of the event's leaf changed."""
    leaf = bytearray(chain.leaf)
    leaf[len(leaf) // 2] ^= 0x01
    return replace(chain, leaf=bytes(leaf))


@dataclass
class Simulation:
    """Partitions (ledgers in their own schemas) and the top-level log over them."""

    partitions: list[Ledger]
    schemas: list[str]
    top: TopLog

    def keys(self) -> dict[str, Ed25519PublicKey]:
        return {p.sealed_log.origin: p.sealed_log.public_key for p in self.partitions}

    def close(self) -> None:
        for ledger in self.partitions:
            ledger.close()
        with psycopg.connect(PG_DSN, autocommit=True) as conn:
            for schema in self.schemas:
                conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


def open_simulation(count: int, where: Path) -> Simulation:
    """`count` empty partition ledgers, each in a new schema, and an empty top log."""
    schemas = [f"sim_part_{uuid.uuid4().hex[:8]}" for _ in range(count)]
    with psycopg.connect(PG_DSN, autocommit=True, connect_timeout=3) as conn:
        for schema in schemas:
            conn.execute(f'CREATE SCHEMA "{schema}"')
    partitions = []
    for n, schema in enumerate(schemas):
        config = Settings(
            data_dir=where / f"p{n}",
            database_url=f"{PG_DSN}?schema={schema}",
            log_origin=f"crm-ledger.local/ledger/p{n}",
        )
        partitions.append(build_ledger(config))
    return Simulation(partitions, schemas, TopLog(Ed25519PrivateKey.generate()))


def grow(sim: Simulation, events: int, round_no: int) -> dict[str, Any]:
    """Load `events` events into each partition, seal each, publish the checkpoints to
    the top-level log; returns the timings."""
    figures: dict[str, Any] = {"load_s": [], "seal_s": []}
    notes = []
    for n, ledger in enumerate(sim.partitions):
        started = time.perf_counter()
        for _ in bulk_customers(
            ledger.app, max(1, events // 10), seed=100 + n, first_index=round_no * 10**7
        ):
            pass
        figures["load_s"].append(time.perf_counter() - started)
        started = time.perf_counter()
        checkpoint = ledger.seal()
        figures["seal_s"].append(time.perf_counter() - started)
        assert checkpoint is not None
        notes.append(checkpoint.note)
    started = time.perf_counter()
    sim.top.publish(notes)
    figures["top_publish_s"] = time.perf_counter() - started
    return figures


def simulate(count: int, events: int, where: Path) -> dict[str, Any]:
    """Run two rounds; check a chain, a tampered chain and top-level consistency."""
    sim = open_simulation(count, where)
    try:
        first = grow(sim, events, 0)
        top_first = sim.top.checkpoints[-1]
        second = grow(sim, events, 1)
        last = sim.partitions[-1]
        seq = events // 3  # an event of the first round, proved against the newest roots
        started = time.perf_counter()
        chain = prove(last, seq, sim.top)
        prove_s = time.perf_counter() - started
        started = time.perf_counter()
        verify_chain(chain, sim.keys(), sim.top.public_key)
        verify_s = time.perf_counter() - started
        try:
            verify_chain(tampered(chain), sim.keys(), sim.top.public_key)
        except ChainBroken as exc:
            tamper = str(exc)
        else:
            raise AssertionError("a tampered chain verified")
        old = verify_checkpoint(top_first, sim.top.public_key, TOP_ORIGIN)
        new = verify_checkpoint(sim.top.checkpoints[-1], sim.top.public_key, TOP_ORIGIN)
        verify_consistency(
            old.size,
            new.size,
            sim.top.tree.consistency_proof(old.size, new.size),
            old.root,
            new.root,
        )
        sizes = [p.sealed_log.sealed_size() for p in sim.partitions]
        return {
            "partitions": count,
            "events_each": sizes,
            "rounds": [first, second],
            "top_size": len(sim.top.notes),
            "chain_hashes": len(chain.partition_proof) + len(chain.top_proof),
            "partition_proof_hashes": len(chain.partition_proof),
            "top_proof_hashes": len(chain.top_proof),
            "prove_s": prove_s,
            "verify_s": verify_s,
            "tampered": tamper,
            "top_consistency": f"{old.size} -> {new.size} verified",
        }
    finally:
        sim.close()


def run() -> None:
    with tempfile.TemporaryDirectory(prefix="bench-partitions-") as tmp:
        try:
            out = simulate(PARTITIONS, EVENTS, Path(tmp))
        except psycopg.OperationalError as exc:
            print(f"FAIL: PostgreSQL unreachable at {PG_DSN}: {exc}", flush=True)
            sys.exit(1)
    print(
        f"{out['partitions']} partitions (PostgreSQL schemas), each a whole ledger; "
        f"events per partition after 2 rounds: {out['events_each']}"
    )
    for n, figures in enumerate(out["rounds"], 1):
        loads = ", ".join(f"{s:.1f}" for s in figures["load_s"])
        seals = ", ".join(f"{s:.2f}" for s in figures["seal_s"])
        print(
            f"  round {n}: load {loads} s; seal {seals} s (per partition); "
            f"top-level publish {figures['top_publish_s'] * 1000:.2f} ms"
        )
    print(
        f"  proof chain event -> partition checkpoint -> top-level root: "
        f"{out['partition_proof_hashes']} + {out['top_proof_hashes']} = {out['chain_hashes']} "
        f"hashes; built in {out['prove_s']:.2f} s, verified in {out['verify_s'] * 1000:.2f} ms"
    )
    print(f"  tampered chain (one leaf byte): refused: {out['tampered']}")
    print(f"  top-level log: {out['top_size']} leaves; consistency {out['top_consistency']}")


if __name__ == "__main__":  # pragma: no cover
    run()
