"""Property and unit tests of ledger_verify.merkle against a naive RFC 9162 implementation."""

from __future__ import annotations

import hashlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ledger_verify.merkle import (
    EMPTY_ROOT,
    CompactRange,
    MerkleTree,
    ProofError,
    consistency_proof_size,
    inclusion_proof_size,
    leaf_hash,
    node_hash,
    root_from_consistency_proof,
    root_from_inclusion_proof,
    root_from_leaf_hashes,
    verify_consistency,
    verify_inclusion,
)

pytestmark = pytest.mark.unit

# No example database: it would write a .hypothesis folder into the checkout.
settings.register_profile("merkle", database=None, deadline=None, max_examples=150)
FAST = settings.get_profile("merkle")


# --------------------------------------------------------------------------- naive RFC 9162


def _sha(data: bytes) -> bytes:
    return hashlib.sha256(data).digest()


def _k(n: int) -> int:
    """The largest power of two smaller than n (n > 1), as RFC 9162 section 2.1.1."""
    k = 1
    while k * 2 < n:
        k *= 2
    return k


def naive_mth(d: list[bytes]) -> bytes:
    """MTH(D[n]) of RFC 9162 section 2.1.1, over the leaf *data* d."""
    n = len(d)
    if n == 0:
        return _sha(b"")
    if n == 1:
        return _sha(b"\x00" + d[0])
    k = _k(n)
    return _sha(b"\x01" + naive_mth(d[:k]) + naive_mth(d[k:]))


def naive_path(m: int, d: list[bytes]) -> list[bytes]:
    """PATH(m, D[n]) of RFC 9162 section 2.1.3.1."""
    n = len(d)
    if n == 1:
        return []
    k = _k(n)
    if m < k:
        return [*naive_path(m, d[:k]), naive_mth(d[k:])]
    return [*naive_path(m - k, d[k:]), naive_mth(d[:k])]


def naive_subproof(m: int, d: list[bytes], b: bool) -> list[bytes]:
    """SUBPROOF(m, D[n], b) of RFC 9162 section 2.1.4.1."""
    n = len(d)
    if m == n:
        return [] if b else [naive_mth(d)]
    k = _k(n)
    if m <= k:
        return [*naive_subproof(m, d[:k], b), naive_mth(d[k:])]
    return [*naive_subproof(m - k, d[k:], False), naive_mth(d[:k])]


def naive_proof(m: int, d: list[bytes]) -> list[bytes]:
    """PROOF(m, D[n]) of RFC 9162 section 2.1.4.1."""
    return naive_subproof(m, d, True)


def leaves(n: int) -> list[bytes]:
    return [b"leaf %d" % i for i in range(n)]


def tree_of(n: int) -> MerkleTree:
    return MerkleTree(leaf_hash(x) for x in leaves(n))


def flip(proof: list[bytes], node: int, bit: int) -> list[bytes]:
    changed = bytearray(proof[node])
    changed[bit // 8] ^= 1 << (bit % 8)
    return [*proof[:node], bytes(changed), *proof[node + 1 :]]


# --------------------------------------------------------------------------- known answers


def test_hash_primitives_known_answers() -> None:
    assert EMPTY_ROOT.hex() == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
    # RFC 6962 test leaf "" and the two-leaf root of the reference tree.
    assert leaf_hash(b"").hex() == (
        "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d"
    )
    assert node_hash(leaf_hash(b""), leaf_hash(b"\x00")).hex() == (
        "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125"
    )
    assert node_hash(b"a", b"b") == _sha(b"\x01ab")


def test_empty_tree() -> None:
    tree = MerkleTree()
    assert tree.size == 0
    assert tree.root() == EMPTY_ROOT == CompactRange().root() == root_from_leaf_hashes([])
    assert tree.root(0) == EMPTY_ROOT
    with pytest.raises(ValueError):
        tree.inclusion_proof(0)


# --------------------------------------------------------------------------- properties


@FAST
@given(n=st.integers(1, 300), data=st.data())
def test_roots_agree_with_naive_mth(n: int, data: st.DataObject) -> None:
    d = leaves(n)
    hashes = [leaf_hash(x) for x in d]
    tree = MerkleTree(hashes)
    frontier = CompactRange()
    frontier.extend(hashes)
    expected = naive_mth(d)
    assert tree.root() == root_from_leaf_hashes(hashes) == frontier.root() == expected
    m = data.draw(st.integers(0, n), label="earlier size")
    assert tree.root(m) == naive_mth(d[:m]) == tree.compact_range(m).root()
    assert tree.compact_range(m) == CompactRange.from_hashes(m, tree.compact_range(m).to_hashes())


@FAST
@given(n=st.integers(1, 300), data=st.data())
def test_inclusion_proofs_match_rfc_and_verify(n: int, data: st.DataObject) -> None:
    d = leaves(n)
    tree = tree_of(n)
    size = data.draw(st.integers(1, n), label="size")
    index = data.draw(st.integers(0, size - 1), label="index")
    proof = tree.inclusion_proof(index, size)
    assert proof == naive_path(index, d[:size])
    assert len(proof) == inclusion_proof_size(index, size)
    root = naive_mth(d[:size])
    verify_inclusion(leaf_hash(d[index]), index, size, proof, root)
    assert root_from_inclusion_proof(leaf_hash(d[index]), index, size, proof) == root
    if size == n:
        assert tree.inclusion_proof(index) == proof


@FAST
@given(n=st.integers(1, 300), data=st.data())
def test_consistency_proofs_match_rfc_and_verify(n: int, data: st.DataObject) -> None:
    d = leaves(n)
    tree = tree_of(n)
    size2 = data.draw(st.integers(1, n), label="size2")
    size1 = data.draw(st.integers(1, size2), label="size1")
    proof = tree.consistency_proof(size1, size2)
    assert proof == naive_proof(size1, d[:size2])
    assert len(proof) == consistency_proof_size(size1, size2)
    root1, root2 = naive_mth(d[:size1]), naive_mth(d[:size2])
    verify_consistency(size1, size2, proof, root1, root2)
    assert root_from_consistency_proof(size1, size2, proof, root1) == root2
    if size2 == n:
        assert tree.consistency_proof(size1) == proof


@FAST
@given(n=st.integers(2, 300), data=st.data())
def test_flipping_any_bit_of_an_inclusion_proof_fails(n: int, data: st.DataObject) -> None:
    tree = tree_of(n)
    index = data.draw(st.integers(0, n - 1), label="index")
    proof = tree.inclusion_proof(index)
    node = data.draw(st.integers(0, len(proof) - 1), label="node")
    bit = data.draw(st.integers(0, 255), label="bit")
    with pytest.raises(ProofError):
        verify_inclusion(tree.leaf_hash_at(index), index, n, flip(proof, node, bit), tree.root())


@FAST
@given(n=st.integers(2, 300), data=st.data())
def test_flipping_any_bit_of_a_consistency_proof_fails(n: int, data: st.DataObject) -> None:
    tree = tree_of(n)
    size1 = data.draw(st.integers(1, n - 1), label="size1")
    proof = tree.consistency_proof(size1)
    node = data.draw(st.integers(0, len(proof) - 1), label="node")
    bit = data.draw(st.integers(0, 255), label="bit")
    with pytest.raises(ProofError):
        verify_consistency(size1, n, flip(proof, node, bit), tree.root(size1), tree.root())


def test_flipping_every_bit_fails_exhaustively() -> None:
    tree = tree_of(45)
    incl = tree.inclusion_proof(13, 43)
    cons = tree.consistency_proof(11, 45)
    for node in range(len(incl)):
        for bit in range(256):
            with pytest.raises(ProofError):
                verify_inclusion(
                    tree.leaf_hash_at(13), 13, 43, flip(incl, node, bit), tree.root(43)
                )
    for node in range(len(cons)):
        for bit in range(256):
            with pytest.raises(ProofError):
                verify_consistency(11, 45, flip(cons, node, bit), tree.root(11), tree.root())


@FAST
@given(n=st.integers(2, 200), data=st.data())
def test_a_proof_does_not_verify_for_another_index_or_size(n: int, data: st.DataObject) -> None:
    tree = tree_of(n)
    index = data.draw(st.integers(0, n - 1), label="index")
    other = data.draw(st.integers(0, n - 1).filter(lambda j: j != index), label="other")
    proof = tree.inclusion_proof(index)
    with pytest.raises(ProofError):
        verify_inclusion(tree.leaf_hash_at(index), other, n, proof, tree.root())
    with pytest.raises(ProofError):
        verify_inclusion(tree.leaf_hash_at(other), index, n, proof, tree.root())
    smaller = data.draw(st.integers(index + 1, n), label="smaller")
    if smaller != n:
        with pytest.raises(ProofError):
            verify_inclusion(tree.leaf_hash_at(index), index, smaller, proof, tree.root(smaller))


@FAST
@given(n=st.integers(0, 300), data=st.data())
def test_compact_range_resumes_from_saved_hashes(n: int, data: st.DataObject) -> None:
    hashes = [leaf_hash(x) for x in leaves(n)]
    cut = data.draw(st.integers(0, n), label="cut")
    first = CompactRange()
    first.extend(hashes[:cut])
    assert len(first.to_hashes()) == bin(cut).count("1")
    resumed = CompactRange.from_hashes(first.size, first.to_hashes())
    resumed.extend(hashes[cut:])
    assert resumed.size == n
    assert resumed.root() == root_from_leaf_hashes(hashes) == MerkleTree(hashes).root()


@FAST
@given(chunks=st.lists(st.integers(0, 40), max_size=8))
def test_append_and_extend_build_the_same_tree(chunks: list[int]) -> None:
    total = sum(chunks)
    hashes = [leaf_hash(x) for x in leaves(total)]
    one_by_one = MerkleTree()
    for h in hashes:
        one_by_one.append(h)
    in_chunks = MerkleTree()
    pos = 0
    for size in chunks:
        in_chunks.extend(hashes[pos : pos + size])
        pos += size
    assert one_by_one.root() == in_chunks.root() == root_from_leaf_hashes(hashes)
    assert one_by_one.nbytes == in_chunks.nbytes
    for size in range(1, total + 1, 7):
        assert one_by_one.root(size) == in_chunks.root(size)


# --------------------------------------------------------------------------- unit cases


def test_larger_tree_proofs_and_storage() -> None:
    n = (1 << 15) + 77
    hashes = [hashlib.sha256(i.to_bytes(4, "big")).digest() for i in range(n)]
    tree = MerkleTree(hashes)
    assert tree.size == len(tree) == n
    # All levels together hold fewer than 2 hashes per leaf, and nothing else.
    assert tree.nbytes < 2 * 32 * n
    root = root_from_leaf_hashes(hashes)
    assert tree.root() == root
    for index in (0, 1, n // 2, n - 78, n - 1):
        verify_inclusion(hashes[index], index, n, tree.inclusion_proof(index), root)
    for size1 in (1, 2, 3, 1 << 14, (1 << 15) + 1, n - 1):
        verify_consistency(size1, n, tree.consistency_proof(size1), tree.root(size1), root)


def test_tree_rejects_bad_arguments() -> None:
    tree = tree_of(5)
    with pytest.raises(ProofError):
        tree.append(b"short")
    with pytest.raises(ProofError):
        tree.extend([leaf_hash(b"ok"), b"x" * 33])
    assert tree.size == 5  # extend is all or nothing
    with pytest.raises(IndexError):
        tree.leaf_hash_at(5)
    with pytest.raises(ValueError):
        tree.root(6)
    with pytest.raises(ValueError):
        tree.inclusion_proof(5, 5)
    with pytest.raises(ValueError):
        tree.inclusion_proof(0, 6)
    with pytest.raises(ValueError):
        tree.consistency_proof(4, 3)
    with pytest.raises(ProofError):
        tree.consistency_proof(0, 3)
    with pytest.raises(TypeError):
        tree.inclusion_proof(True, 3)
    assert tree.consistency_proof(3, 3) == []


def test_compact_range_rejects_inconsistent_saved_state() -> None:
    h = leaf_hash(b"x")
    with pytest.raises(ValueError):
        CompactRange.from_hashes(3, [h])  # size 3 needs two subtree hashes
    with pytest.raises(ValueError):
        CompactRange.from_hashes(1, [b"short"])
    with pytest.raises(ValueError):
        CompactRange.from_hashes(-1, [])
    frontier = CompactRange.from_hashes(1, [h])
    copy = frontier.copy()
    copy.append(h)
    assert frontier.size == 1 and copy.size == 2
    assert copy.root() == node_hash(h, h)


@pytest.mark.parametrize(
    ("size1", "size2", "proof_len", "reason"),
    [
        (3, 2, 0, "larger"),
        (0, 4, 0, "empty tree"),
        (0, 0, 0, "empty tree"),
        (2, 2, 1, "must be empty"),
        (2, 4, 0, "empty consistency proof"),
        (3, 7, 9, "must have"),
        (-1, 4, 0, "negative"),
    ],
)
def test_verify_consistency_error_messages(
    size1: int, size2: int, proof_len: int, reason: str
) -> None:
    h = leaf_hash(b"x")
    with pytest.raises(ProofError, match=reason):
        verify_consistency(size1, size2, [h] * proof_len, h, h)


@pytest.mark.parametrize(
    ("index", "size", "proof_len", "leaf", "root", "reason"),
    [
        (4, 4, 2, b"\0" * 32, b"\0" * 32, "not below"),
        (0, 4, 3, b"\0" * 32, b"\0" * 32, "must have 2"),
        (0, 4, 1, b"\0" * 32, b"\0" * 32, "must have 2"),
        (0, 4, 2, b"\0" * 31, b"\0" * 32, "32 bytes"),
        (0, 4, 2, b"\0" * 32, b"", "32 bytes"),
        (0, 4, 2, b"\0" * 32, b"\0" * 32, "does not match"),
        (-1, 4, 2, b"\0" * 32, b"\0" * 32, "negative"),
    ],
)
def test_verify_inclusion_error_messages(
    index: int, size: int, proof_len: int, leaf: bytes, root: bytes, reason: str
) -> None:
    with pytest.raises(ProofError, match=reason):
        verify_inclusion(leaf, index, size, [b"\1" * 32] * proof_len, root)


def test_verifiers_reject_non_int_sizes_and_short_nodes() -> None:
    tree = tree_of(6)
    proof = tree.inclusion_proof(2)
    with pytest.raises(ProofError):
        verify_inclusion(tree.leaf_hash_at(2), True, 6, proof, tree.root())
    with pytest.raises(ProofError):
        verify_inclusion(tree.leaf_hash_at(2), 2, 6.0, proof, tree.root())  # type: ignore[arg-type]
    with pytest.raises(ProofError, match="32 bytes"):
        verify_inclusion(tree.leaf_hash_at(2), 2, 6, [*proof[:-1], b""], tree.root())
    cons = tree.consistency_proof(3)
    with pytest.raises(ProofError, match="32 bytes"):
        verify_consistency(3, 6, [*cons[:-1], cons[-1][:16]], tree.root(3), tree.root())
