"""Unit and property tests of the subject map (ledger_verify.smt) against a naive
recursive definition of the compact sparse Merkle tree of docs/ledger-format.md."""

from __future__ import annotations

import hashlib
import struct

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ledger_verify.smt import (
    EMPTY,
    Entry,
    Leaf,
    MapProof,
    MapProofError,
    MemoryStore,
    chain_head,
    chain_step,
    decode_value,
    encode_value,
    map_key,
    prove,
    update,
    verify_proof,
)

pytestmark = pytest.mark.unit

settings.register_profile("smt", database=None, deadline=None, max_examples=60)
FAST = settings.get_profile("smt")

SALT = bytes(range(32))


def _sha(data: bytes) -> bytes:
    return hashlib.sha256(data).digest()


def _bit(key: bytes, i: int) -> int:
    return (key[i // 8] >> (7 - i % 8)) & 1


def naive_root(entries: dict[bytes, bytes], depth: int = 0) -> bytes:
    """The map root straight from the definition: empty → zeros, one entry → its
    leaf hash, else SHA-256(0x11 || left || right) over the halves by bit `depth`."""
    if not entries:
        return bytes(32)
    if len(entries) == 1:
        ((key, value),) = entries.items()
        return _sha(b"\x10" + key + value)
    left = {k: v for k, v in entries.items() if not _bit(k, depth)}
    right = {k: v for k, v in entries.items() if _bit(k, depth)}
    return _sha(b"\x11" + naive_root(left, depth + 1) + naive_root(right, depth + 1))


def value(count: int, latest: int, head: bytes = EMPTY) -> bytes:
    return encode_value(Entry(count, latest, head))


keys = st.binary(min_size=32, max_size=32)
values = st.builds(value, st.integers(1, 2**64 - 1), st.integers(0, 2**64 - 1), keys)


def test_bytes_are_the_documented_ones() -> None:
    subject = "0b7c6f0e-5d3a-4f61-9c9e-1f2a3b4c5d6e"
    assert map_key(SALT, subject) == _sha(
        b"\x13crm-ledger/subject-map/v1\n" + SALT + subject.encode()
    )
    leaf = _sha(b"leaf")
    assert chain_step(EMPTY, 7, leaf) == _sha(b"\x12" + bytes(32) + struct.pack(">Q", 7) + leaf)
    assert value(2, 9, b"\xaa" * 32) == struct.pack(">QQ", 2, 9) + b"\xaa" * 32
    assert decode_value(value(2, 9, b"\xaa" * 32)) == Entry(2, 9, b"\xaa" * 32)
    count, latest, head = chain_head([(3, leaf), (7, leaf)])
    assert (count, latest) == (2, 7)
    assert head == chain_step(chain_step(EMPTY, 3, leaf), 7, leaf)
    with pytest.raises(MapProofError):
        chain_head([(7, leaf), (3, leaf)])
    with pytest.raises(MapProofError):
        map_key(b"short", subject)


def test_empty_and_single_entry_roots() -> None:
    store = MemoryStore()
    assert update(store, {}) == EMPTY
    key = map_key(SALT, "a")
    assert update(store, {key: value(1, 0)}) == _sha(b"\x10" + key + value(1, 0))
    proof = prove(store, key)
    assert proof.siblings == ()
    assert verify_proof(naive_root({key: value(1, 0)}), key, proof) == Entry(1, 0, EMPTY)


@FAST
@given(st.lists(st.dictionaries(keys, values, max_size=12), min_size=1, max_size=5))
def test_incremental_updates_match_the_definition(batches: list[dict[bytes, bytes]]) -> None:
    store, entries = MemoryStore(), {}
    for batch in batches:
        entries.update(batch)
        assert update(store, batch) == naive_root(entries)


@FAST
@given(st.dictionaries(keys, values, min_size=1, max_size=30), keys)
def test_every_entry_is_proven_and_absent_keys_are_proven_absent(
    entries: dict[bytes, bytes], absent: bytes
) -> None:
    store = MemoryStore()
    half = dict(list(entries.items())[: len(entries) // 2])
    update(store, half)
    root = update(store, entries)
    for key, raw in entries.items():
        assert verify_proof(root, key, prove(store, key)) == decode_value(raw)
    if absent not in entries:
        assert verify_proof(root, absent, prove(store, absent)) is None


@FAST
@given(st.dictionaries(keys, values, min_size=2, max_size=20), st.data())
def test_a_proof_never_verifies_for_another_key_or_value(
    entries: dict[bytes, bytes], data: st.DataObject
) -> None:
    store = MemoryStore()
    root = update(store, entries)
    key, other = data.draw(
        st.lists(st.sampled_from(sorted(entries)), min_size=2, max_size=2, unique=True)
    )
    proof = prove(store, key)
    with pytest.raises(MapProofError):
        verify_proof(root, other, proof)
    assert isinstance(proof.terminal, Leaf)
    forged = MapProof(proof.siblings, Leaf(key, entries[other]))
    if entries[other] != entries[key]:
        with pytest.raises(MapProofError):
            verify_proof(root, key, forged)
    # claiming the key is absent (an empty subtree where its leaf is) fails too
    with pytest.raises(MapProofError):
        verify_proof(root, key, MapProof(proof.siblings, None))


def test_an_old_root_rejects_a_new_proof() -> None:
    store = MemoryStore()
    key = map_key(SALT, "subject")
    old = update(store, {key: value(1, 4), map_key(SALT, "other"): value(1, 5)})
    update(store, {key: value(2, 9)})
    with pytest.raises(MapProofError, match="signed map root"):
        verify_proof(old, key, prove(store, key))


def test_malformed_proofs_are_rejected() -> None:
    store = MemoryStore()
    key = map_key(SALT, "x")
    root = update(store, {key: value(1, 1), map_key(SALT, "y"): value(1, 2)})
    proof = prove(store, key)
    with pytest.raises(MapProofError):
        verify_proof(root, key, MapProof((b"short",), proof.terminal))
    with pytest.raises(MapProofError):
        verify_proof(root, key, MapProof(proof.siblings * 300, proof.terminal))
    with pytest.raises(MapProofError):
        update(store, {key: b"too short"})
