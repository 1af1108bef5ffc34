"""RFC 9162 (Certificate Transparency v2) Merkle hash trees, proofs and verifiers.

Hashing follows RFC 9162 section 2.1.1 (identical to RFC 6962):

* the hash of the empty tree is ``SHA-256("")``;
* a leaf hash is ``SHA-256(0x00 || leaf)``;
* an interior node is ``SHA-256(0x01 || left || right)``.

The prefixes give domain separation between leaves and nodes, so a leaf can never be
passed off as an interior node (second pre-image attack on the tree).

This module is pure: no I/O, no database. It offers

* :func:`root_from_leaf_hashes` -- the Merkle Tree Hash (MTH) of a list of leaf hashes;
* :class:`CompactRange` -- an O(log n) "frontier" that can compute the root of an
  append-only log without keeping the leaves, and can be persisted and resumed;
* :class:`MerkleTree` -- a complete in-memory tree that produces inclusion and
  consistency proofs for any earlier tree size in O(log n) hash operations;
* :func:`verify_inclusion` / :func:`verify_consistency` -- verifiers written after
  RFC 9162 sections 2.1.3.2 and 2.1.4.2, which raise :class:`ProofError` on any
  malformed or wrong proof.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from typing import Final

__all__ = [
    "EMPTY_ROOT",
    "HASH_SIZE",
    "CompactRange",
    "MerkleTree",
    "ProofError",
    "consistency_proof_size",
    "inclusion_proof_size",
    "leaf_hash",
    "node_hash",
    "root_from_consistency_proof",
    "root_from_inclusion_proof",
    "root_from_leaf_hashes",
    "verify_consistency",
    "verify_inclusion",
]

HASH_SIZE: Final = 32
"""Size in bytes of every hash in the tree (SHA-256)."""

EMPTY_ROOT: Final = hashlib.sha256(b"").digest()
"""Merkle Tree Hash of the empty tree: ``SHA-256("")``."""

_LEAF_PREFIX: Final = b"\x00"
_NODE_PREFIX: Final = b"\x01"


class ProofError(ValueError):
    """A Merkle proof, or the sizes, index or hashes given with it, do not verify."""


# --------------------------------------------------------------------------- hashing


def leaf_hash(leaf: bytes) -> bytes:
    """Return the RFC 9162 leaf hash ``SHA-256(0x00 || leaf)`` (32 bytes) of ``leaf``."""
    return hashlib.sha256(_LEAF_PREFIX + bytes(leaf)).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    """Return the RFC 9162 interior node hash ``SHA-256(0x01 || left || right)``.

    The children are hashed as given; callers are responsible for them being 32-byte
    hashes (the verifiers in this module check that before hashing).
    """
    return hashlib.sha256(_NODE_PREFIX + bytes(left) + bytes(right)).digest()


def _check_hash(value: object, what: str) -> bytes:
    """Return ``value`` as bytes if it is a 32-byte hash, else raise :class:`ProofError`."""
    if not isinstance(value, bytes | bytearray | memoryview):
        raise ProofError(f"{what} must be bytes, not {type(value).__name__}")
    raw = bytes(value)
    if len(raw) != HASH_SIZE:
        raise ProofError(f"{what} must be {HASH_SIZE} bytes long, got {len(raw)}")
    return raw


def _check_count(value: object, what: str) -> int:
    """Return ``value`` if it is a non-negative int (not a bool), else raise ProofError."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise ProofError(f"{what} must be an int, not {type(value).__name__}")
    if value < 0:
        raise ProofError(f"{what} must not be negative, got {value}")
    return value


def _largest_power_of_two_below(n: int) -> int:
    """Return the largest power of two strictly smaller than ``n`` (``n >= 2``)."""
    return 1 << ((n - 1).bit_length() - 1)


def _fold_right(hashes: Sequence[bytes]) -> bytes:
    """Combine perfect-subtree hashes, largest (leftmost) first, into one MTH.

    RFC 9162 splits a list at the largest power of two below its length, so the
    MTH of a non-perfect range nests to the right: H(a, H(b, H(c, d))).
    """
    acc = hashes[-1]
    for h in reversed(hashes[:-1]):
        acc = node_hash(h, acc)
    return acc


def root_from_leaf_hashes(hashes: Sequence[bytes]) -> bytes:
    """Return the Merkle Tree Hash (RFC 9162 section 2.1.1) of the given leaf hashes.

    ``hashes`` are already leaf hashes (see :func:`leaf_hash`), each 32 bytes. The empty
    sequence gives :data:`EMPTY_ROOT`. Runs in O(n) time and O(log n) extra memory.
    """
    frontier = CompactRange()
    frontier.extend(hashes)
    return frontier.root()


# --------------------------------------------------------------------------- frontier


class CompactRange:
    """The right frontier of an append-only Merkle tree, in O(log n) memory.

    It keeps one hash per set bit of the size: the roots of the perfect subtrees
    that make up the tree, leftmost (largest) first. That is enough to append
    further leaves and to compute the root, so a log can persist ``size`` and
    :meth:`to_hashes` and resume later with :meth:`from_hashes`.
    """

    __slots__ = ("_hashes", "_size")

    def __init__(self) -> None:
        """Create the frontier of the empty tree."""
        self._size = 0
        self._hashes: list[bytes] = []

    @classmethod
    def from_hashes(cls, size: int, hashes: Sequence[bytes]) -> CompactRange:
        """Resume a frontier saved with ``(range.size, range.to_hashes())``.

        Raises :class:`ValueError` if the number of hashes does not match the number of
        perfect subtrees of a tree of ``size`` leaves, or a hash is not 32 bytes.
        """
        size = _check_count(size, "size")
        if len(hashes) != size.bit_count():
            raise ValueError(
                f"a compact range of size {size} has {size.bit_count()} hashes, got {len(hashes)}"
            )
        frontier = cls()
        frontier._size = size
        frontier._hashes = [_check_hash(h, f"hash {i}") for i, h in enumerate(hashes)]
        return frontier

    @property
    def size(self) -> int:
        """Number of leaves appended so far."""
        return self._size

    def to_hashes(self) -> list[bytes]:
        """Return a copy of the perfect-subtree hashes, leftmost (largest) first."""
        return list(self._hashes)

    def append(self, leaf_hash: bytes) -> None:
        """Append one leaf hash (32 bytes) in amortised O(1) hashes, O(log n) worst case."""
        hashes = self._hashes
        hashes.append(_check_hash(leaf_hash, "leaf hash"))
        # Every trailing 1 bit of the old size is a perfect subtree of the same height
        # as the one just completed, so merge them like a binary carry.
        size = self._size
        while size & 1:
            right = hashes.pop()
            hashes[-1] = node_hash(hashes[-1], right)
            size >>= 1
        self._size += 1

    def extend(self, leaf_hashes: Iterable[bytes]) -> None:
        """Append each of ``leaf_hashes`` in order."""
        for h in leaf_hashes:
            self.append(h)

    def root(self) -> bytes:
        """Return the Merkle Tree Hash of all leaves appended so far (O(log n) hashes)."""
        if not self._hashes:
            return EMPTY_ROOT
        return _fold_right(self._hashes)

    def copy(self) -> CompactRange:
        """Return an independent copy of this frontier."""
        return CompactRange.from_hashes(self._size, self._hashes)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, CompactRange):
            return NotImplemented
        return self._size == other._size and self._hashes == other._hashes

    def __repr__(self) -> str:
        return f"CompactRange(size={self._size}, root={self.root().hex()})"


# --------------------------------------------------------------------------- full tree


class MerkleTree:
    """An in-memory, append-only RFC 9162 Merkle tree that can prove any earlier state.

    Every perfect subtree hash is kept, one ``bytearray`` per level with 32 bytes per
    node (level 0 holds the leaf hashes), so the tree takes about 64 bytes per leaf
    (about 64 MB for a million leaves) and no per-node Python objects. A root or a
    proof for any size up to :attr:`size` costs O(log n) hashes: the stored nodes cover
    every complete subtree and only the ragged right edge of an earlier size is
    recomputed.
    """

    __slots__ = ("_levels", "_size")

    def __init__(self, leaf_hashes: Iterable[bytes] = ()) -> None:
        """Create a tree, optionally filled with ``leaf_hashes`` (see :meth:`extend`)."""
        self._levels: list[bytearray] = [bytearray()]
        self._size = 0
        self.extend(leaf_hashes)

    @property
    def size(self) -> int:
        """Number of leaves in the tree."""
        return self._size

    def __len__(self) -> int:
        return self._size

    @property
    def nbytes(self) -> int:
        """Bytes of hash storage in use (excluding allocator slack)."""
        return sum(len(level) for level in self._levels)

    # -- building

    def append(self, leaf_hash: bytes) -> None:
        """Append one leaf hash (32 bytes); amortised one node hash per leaf."""
        raw = _check_hash(leaf_hash, "leaf hash")
        levels = self._levels
        levels[0] += raw
        count = self._size + 1
        level = 0
        # An even node count means the new node closed a pair: hash it into the
        # parent level, and carry on upwards while that closes a pair too.
        while not count & 1:
            nodes = levels[level]
            parent = hashlib.sha256(_NODE_PREFIX + nodes[-2 * HASH_SIZE :]).digest()
            level += 1
            if level == len(levels):
                levels.append(bytearray())
            levels[level] += parent
            count >>= 1
        self._size += 1

    def extend(self, leaf_hashes: Iterable[bytes]) -> None:
        """Append many leaf hashes at once, all or nothing, hashing level by level.

        Faster than repeated :meth:`append`; if any element is not a 32-byte hash,
        :class:`ProofError` is raised and the tree is left unchanged.
        """
        batch = bytearray()
        for i, h in enumerate(leaf_hashes):
            batch += _check_hash(h, f"leaf hash {i}")
        if not batch:
            return
        levels = self._levels
        levels[0] += batch
        self._size += len(batch) // HASH_SIZE
        level = 0
        while True:
            nodes = levels[level]
            want = len(nodes) // (2 * HASH_SIZE)
            if want == 0:
                break
            if level + 1 == len(levels):
                levels.append(bytearray())
            parents = levels[level + 1]
            have = len(parents) // HASH_SIZE
            if have == want:
                break
            sha256 = hashlib.sha256
            prefix = _NODE_PREFIX
            step = 2 * HASH_SIZE
            # Siblings are adjacent in the level array, so one 64-byte slice is the
            # whole input of the parent's hash.
            parents += b"".join(
                [
                    sha256(prefix + nodes[j : j + step]).digest()
                    for j in range(have * step, want * step, step)
                ]
            )
            level += 1

    # -- reading

    def leaf_hash_at(self, index: int) -> bytes:
        """Return the leaf hash at ``index`` (0-based); raise IndexError if out of range."""
        if isinstance(index, bool) or not isinstance(index, int):
            raise TypeError(f"index must be an int, not {type(index).__name__}")
        if not 0 <= index < self._size:
            raise IndexError(f"leaf index {index} out of range for tree size {self._size}")
        return bytes(self._levels[0][index * HASH_SIZE : (index + 1) * HASH_SIZE])

    def _node(self, level: int, index: int) -> bytes:
        """Hash of the perfect subtree of height ``level`` covering leaves from index<<level."""
        start = index * HASH_SIZE
        return bytes(self._levels[level][start : start + HASH_SIZE])

    def _range_hash(self, start: int, end: int) -> bytes:
        """MTH of leaves ``[start, end)``, where ``start`` is a multiple of the largest
        power of two not above ``end - start`` (true of every range the RFC recursion
        visits), so the range splits into stored perfect subtrees."""
        parts: list[bytes] = []
        pos = start
        width = end - start
        for height in range(width.bit_length() - 1, -1, -1):
            if width >> height & 1:
                parts.append(self._node(height, pos >> height))
                pos += 1 << height
        return _fold_right(parts)

    def _check_size(self, size: int | None, what: str = "size") -> int:
        if size is None:
            return self._size
        if isinstance(size, bool) or not isinstance(size, int):
            raise TypeError(f"{what} must be an int, not {type(size).__name__}")
        if not 0 <= size <= self._size:
            raise ValueError(f"{what} {size} is outside the tree (0..{self._size})")
        return size

    def root(self, size: int | None = None) -> bytes:
        """Return the Merkle Tree Hash of the first ``size`` leaves (default: all).

        ``root(0)`` is :data:`EMPTY_ROOT`. O(log n) hashes. Raises ValueError if ``size``
        exceeds the tree.
        """
        size = self._check_size(size)
        if size == 0:
            return EMPTY_ROOT
        return self._range_hash(0, size)

    def compact_range(self, size: int | None = None) -> CompactRange:
        """Return the :class:`CompactRange` of the first ``size`` leaves (default: all)."""
        size = self._check_size(size)
        hashes: list[bytes] = []
        pos = 0
        for height in range(size.bit_length() - 1, -1, -1):
            if size >> height & 1:
                hashes.append(self._node(height, pos >> height))
                pos += 1 << height
        return CompactRange.from_hashes(size, hashes)

    def inclusion_proof(self, index: int, size: int | None = None) -> list[bytes]:
        """Return the RFC 9162 inclusion proof PATH(index, D[0:size]) (default: all).

        The proof lists sibling hashes from the leaf's level upwards and verifies with
        :func:`verify_inclusion` against ``root(size)``. Requires ``0 <= index < size``;
        raises ValueError otherwise. O(log n) hashes.
        """
        size = self._check_size(size)
        if isinstance(index, bool) or not isinstance(index, int):
            raise TypeError(f"index must be an int, not {type(index).__name__}")
        if not 0 <= index < size:
            raise ValueError(f"leaf index {index} is not in a tree of size {size}")
        # Walk RFC 9162 section 2.1.3.1 top-down: at most one sibling (the first right
        # sibling met) is a ragged range; everything below it is a stored perfect node.
        path: list[bytes] = []
        lo, hi = 0, size
        while hi - lo > 1:
            k = _largest_power_of_two_below(hi - lo)
            if index < lo + k:
                path.append(self._range_hash(lo + k, hi))
                hi = lo + k
            else:
                path.append(self._range_hash(lo, lo + k))
                lo += k
        path.reverse()
        return path

    def consistency_proof(self, size1: int, size2: int | None = None) -> list[bytes]:
        """Return the RFC 9162 consistency proof PROOF(size1, D[0:size2]) (default: all).

        It verifies with :func:`verify_consistency` against ``root(size1)`` and
        ``root(size2)``. ``size1 == size2`` gives the empty proof. Requires
        ``0 < size1 <= size2``: no proof exists from the empty tree (every tree extends
        it), so ``size1 == 0`` raises :class:`ProofError` (a ValueError); sizes beyond
        the tree or ``size1 > size2`` raise ValueError.
        O(log n) hashes.
        """
        size2 = self._check_size(size2, "size2")
        size1 = self._check_size(size1, "size1")
        if size1 > size2:
            raise ValueError(f"size1 {size1} is larger than size2 {size2}")
        if size1 == 0:
            # ProofError (a ValueError) so callers that already catch the verifier's
            # error for this case see the same type here.
            raise ProofError("no consistency proof exists from the empty tree (size1 == 0)")
        # Iterative SUBPROOF(m, D[lo:hi], b) of RFC 9162 section 2.1.4.1.
        proof: list[bytes] = []
        lo, hi = 0, size2
        complete = True  # the "b" flag: is [lo, hi) still a prefix of the old tree?
        while size1 != hi:
            k = _largest_power_of_two_below(hi - lo)
            if size1 - lo <= k:
                proof.append(self._range_hash(lo + k, hi))
                hi = lo + k
            else:
                proof.append(self._range_hash(lo, lo + k))
                lo += k
                complete = False
        if not complete:
            proof.append(self._range_hash(lo, hi))
        proof.reverse()
        return proof

    def __repr__(self) -> str:
        return f"MerkleTree(size={self._size}, root={self.root().hex()})"


# --------------------------------------------------------------------------- verifiers


def inclusion_proof_size(index: int, size: int) -> int:
    """Return the number of hashes in an inclusion proof for ``index < size``."""
    index = _check_count(index, "leaf index")
    size = _check_count(size, "tree size")
    if index >= size:
        raise ProofError(f"leaf index {index} is not below tree size {size}")
    inner = (index ^ (size - 1)).bit_length()
    return inner + (index >> inner).bit_count()


def consistency_proof_size(size1: int, size2: int) -> int:
    """Return the number of hashes in a consistency proof for ``0 < size1 <= size2``."""
    size1 = _check_count(size1, "size1")
    size2 = _check_count(size2, "size2")
    if not 0 < size1 <= size2:
        raise ProofError(f"no consistency proof exists from size {size1} to size {size2}")
    if size1 == size2:
        return 0
    # The proof is the inclusion proof of leaf size1-1 in the new tree, minus the
    # levels that lie inside the old tree's last perfect subtree, plus that subtree's
    # own hash unless it is the whole old tree.
    shift = (size1 & -size1).bit_length() - 1
    inner = (((size1 - 1) ^ (size2 - 1)).bit_length()) - shift
    border = ((size1 - 1) >> (inner + shift)).bit_count()
    seed = 0 if size1 == 1 << shift else 1
    return seed + inner + border


def root_from_inclusion_proof(
    leaf_hash: bytes, index: int, size: int, proof: Sequence[bytes]
) -> bytes:
    """Return the tree root implied by an inclusion proof (RFC 9162 section 2.1.3.2).

    Raises :class:`ProofError` if ``index >= size``, any hash is not 32 bytes, or the
    proof has the wrong number of nodes. A returned root still has to be compared with
    a trusted one; :func:`verify_inclusion` does that.
    """
    leaf = _check_hash(leaf_hash, "leaf hash")
    expected = inclusion_proof_size(index, size)
    if len(proof) != expected:
        raise ProofError(
            f"inclusion proof for leaf {index} in a tree of size {size} must have "
            f"{expected} hashes, got {len(proof)}"
        )
    nodes = [_check_hash(p, f"inclusion proof hash {i}") for i, p in enumerate(proof)]
    fn, sn = index, size - 1
    r = leaf
    for p in nodes:
        if sn == 0:
            raise ProofError("inclusion proof is longer than the path to the root")
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            # On the right edge a node may have no right sibling: skip those levels.
            while not fn & 1 and fn != 0:
                fn >>= 1
                sn >>= 1
        else:
            r = node_hash(r, p)
        fn >>= 1
        sn >>= 1
    if sn != 0:
        raise ProofError("inclusion proof is shorter than the path to the root")
    return r


def verify_inclusion(
    leaf_hash: bytes, index: int, size: int, proof: Sequence[bytes], root: bytes
) -> None:
    """Check that ``leaf_hash`` is leaf ``index`` of the tree of ``size`` with ``root``.

    Follows RFC 9162 section 2.1.3.2. Returns None on success and raises
    :class:`ProofError` otherwise: index not below size, hashes that are not 32 bytes,
    extra or missing proof nodes, or a computed root that differs from ``root``.
    """
    expected_root = _check_hash(root, "root")
    computed = root_from_inclusion_proof(leaf_hash, index, size, proof)
    if computed != expected_root:
        raise ProofError(
            f"inclusion proof for leaf {index} in tree size {size} does not match the "
            f"root: computed {computed.hex()}, expected {expected_root.hex()}"
        )


def root_from_consistency_proof(
    size1: int, size2: int, proof: Sequence[bytes], root1: bytes
) -> bytes:
    """Check a consistency proof against ``root1`` and return the implied new root.

    Follows RFC 9162 section 2.1.4.2 for ``0 < size1 < size2``; for ``size1 == size2``
    the proof must be empty and ``root1`` is returned. Raises :class:`ProofError` when
    ``size1 > size2``, ``size1 == 0`` (a proof from the empty tree is meaningless),
    the proof has the wrong number of nodes, a hash is not 32 bytes, or the proof does
    not reproduce ``root1``.
    """
    size1 = _check_count(size1, "size1")
    size2 = _check_count(size2, "size2")
    if size1 > size2:
        raise ProofError(f"size1 {size1} is larger than size2 {size2}: trees only grow")
    if size1 == 0:
        raise ProofError(
            "a consistency proof from the empty tree (size1 == 0) is meaningless and "
            "is not accepted"
        )
    if size1 == size2:
        if len(proof) != 0:
            raise ProofError(
                f"sizes are equal ({size1}) so the proof must be empty, got {len(proof)} hashes"
            )
        return bytes(root1)
    if len(proof) == 0:
        raise ProofError(f"empty consistency proof from size {size1} to size {size2}")
    old_root = _check_hash(root1, "root1")
    expected = consistency_proof_size(size1, size2)
    if len(proof) != expected:
        raise ProofError(
            f"consistency proof from size {size1} to size {size2} must have {expected} "
            f"hashes, got {len(proof)}"
        )
    path = [_check_hash(p, f"consistency proof hash {i}") for i, p in enumerate(proof)]
    # RFC 9162 section 2.1.4.2, steps 2 to 7.
    if size1 & (size1 - 1) == 0:
        path.insert(0, old_root)
    fn, sn = size1 - 1, size2 - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            raise ProofError("consistency proof is longer than the path to the root")
        if fn & 1 or fn == sn:
            fr = node_hash(c, fr)
            sr = node_hash(c, sr)
            while not fn & 1 and fn != 0:
                fn >>= 1
                sn >>= 1
        else:
            sr = node_hash(sr, c)
        fn >>= 1
        sn >>= 1
    if sn != 0:
        raise ProofError("consistency proof is shorter than the path to the root")
    if fr != old_root:
        raise ProofError(
            f"consistency proof does not reproduce root1 of size {size1}: computed "
            f"{fr.hex()}, expected {old_root.hex()}"
        )
    return sr


def verify_consistency(
    size1: int, size2: int, proof: Sequence[bytes], root1: bytes, root2: bytes
) -> None:
    """Check that the tree of ``size1`` with ``root1`` is a prefix of ``size2``/``root2``.

    Follows RFC 9162 section 2.1.4.2 and the transparency-dev/merkle rules. Returns
    None on success and raises :class:`ProofError` otherwise, including: ``size1 >
    size2``; ``size1 == 0`` (nothing to prove, so never accepted); equal sizes with a
    non-empty proof or different roots; an empty proof for different sizes; extra or
    missing proof nodes; hashes that are not 32 bytes; roots that do not match.
    """
    computed = root_from_consistency_proof(size1, size2, proof, root1)
    if computed != bytes(root2):
        raise ProofError(
            f"consistency proof from size {size1} to size {size2} does not match root2: "
            f"computed {computed.hex()}, expected {bytes(root2).hex()}"
        )
