"""The subject map: a sparse Merkle tree from a keyed hash of a subject to the head of
that subject's chain of events (docs/ledger-format.md, "Subject map").

Pure (standard library only), shared by the ledger, which builds the map while
sealing, and the offline verifier, which checks a subject's entry against the root a
checkpoint signs.

Bytes, all hashes SHA-256, integers unsigned 64-bit big-endian (``u64``):

* map key of a subject (256 bits):
  ``SHA-256(0x13 || "crm-ledger/subject-map/v1" || 0x0A || salt || subject)``,
  ``salt`` the log's 32 random bytes (signed in each checkpoint's map line),
  ``subject`` the subject id as UTF-8 (a lowercase UUID, or ``system``);
* chain: ``head_0`` = 32 zero bytes, ``head_i = SHA-256(0x12 || head_{i-1} ||
  u64(seq_i) || leaf_hash_i)`` over the subject's events in log order;
* value: ``u64(count) || u64(latest seq) || head`` (48 bytes);
* leaf hash: ``SHA-256(0x10 || key || value)``; interior node:
  ``SHA-256(0x11 || left || right)``; the empty subtree at every depth: 32 zero bytes.

Key bit ``i`` (0 = the first, most significant bit of byte 0) picks the branch at
depth ``i``: 0 left, 1 right. The tree is compact: a subtree holding exactly one
entry is that entry's leaf hash, whatever its depth; a subtree holding none is the
empty hash; any other subtree is an interior node over its two halves. So the root
of the empty map is 32 zero bytes, of a one-entry map its leaf hash, and an entry
sits at the depth of the first bit its key does not share with every other key.

A proof of a key lists the sibling hashes from the entry's depth up to the root
(bottom first, as RFC 9162 does) and ends at the entry's leaf (inclusion), at an
empty subtree or at another key's leaf (non-inclusion).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import struct
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Final, Protocol

__all__ = [
    "EMPTY",
    "KEY_LABEL",
    "MAP_LINE",
    "Entry",
    "Interior",
    "Leaf",
    "MapProof",
    "MapProofError",
    "MapStore",
    "MemoryStore",
    "Node",
    "canonical_b64decode",
    "chain_head",
    "chain_step",
    "decode_value",
    "encode_value",
    "leaf_hash",
    "map_key",
    "map_line",
    "node_hash",
    "prefix",
    "prove",
    "root_from_proof",
    "signed_map",
    "update",
    "verify_proof",
]

EMPTY: Final = bytes(32)
"""Hash of an empty subtree at any depth, the root of the empty map, and head_0."""

KEY_LABEL: Final = b"crm-ledger/subject-map/v1"
MAP_LINE: Final = "crm-ledger/subject-map/v1"
"""First word of the checkpoint extension line `<MAP_LINE> <base64 salt> <base64 root>`."""
_KEY_TAG: Final = b"\x13"
_CHAIN_TAG: Final = b"\x12"
_NODE_TAG: Final = b"\x11"
_LEAF_TAG: Final = b"\x10"
_U64: Final = struct.Struct(">Q")
DEPTH: Final = 256


class MapProofError(ValueError):
    """A map proof, or a value, key or hash given with it, does not verify."""


# --------------------------------------------------------------------------- bytes


def map_key(salt: bytes, subject: str) -> bytes:
    """The 32-byte map key of `subject` in the map salted with `salt`."""
    if len(salt) != 32:
        raise MapProofError("the map salt must be 32 bytes")
    return hashlib.sha256(_KEY_TAG + KEY_LABEL + b"\n" + salt + subject.encode("utf-8")).digest()


def chain_step(head: bytes, seq: int, leaf: bytes) -> bytes:
    """The chain head after the event at `seq` whose RFC 9162 leaf hash is `leaf`."""
    return hashlib.sha256(_CHAIN_TAG + head + _U64.pack(seq) + leaf).digest()


def chain_head(events: Iterable[tuple[int, bytes]]) -> tuple[int, int, bytes]:
    """(count, latest seq, head) of a chain of (seq, leaf hash) in log order; raises
    MapProofError unless the seqs strictly increase."""
    count, latest, head = 0, -1, EMPTY
    for seq, leaf in events:
        if seq <= latest:
            raise MapProofError(f"the chain's seq {seq} does not follow {latest}")
        head, latest, count = chain_step(head, seq, leaf), seq, count + 1
    if count == 0:
        raise MapProofError("a chain holds at least one event")
    return count, latest, head


@dataclass(frozen=True)
class Entry:
    """A subject's map value: how many events, the seq of the newest, the chain head."""

    count: int
    latest: int
    head: bytes


def encode_value(entry: Entry) -> bytes:
    """The 48 value bytes of `entry`."""
    return _U64.pack(entry.count) + _U64.pack(entry.latest) + entry.head


def decode_value(value: bytes) -> Entry:
    """The entry of 48 value bytes; MapProofError if malformed."""
    if len(value) != 48:
        raise MapProofError("a map value is 48 bytes")
    return Entry(_U64.unpack(value[:8])[0], _U64.unpack(value[8:16])[0], value[16:])


def leaf_hash(key: bytes, value: bytes) -> bytes:
    """Hash of the map entry `key` → `value` (bytes)."""
    return hashlib.sha256(_LEAF_TAG + key + value).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    """Hash of an interior node over two subtree hashes."""
    return hashlib.sha256(_NODE_TAG + left + right).digest()


def _bit(key: bytes, depth: int) -> int:
    return (key[depth >> 3] >> (7 - (depth & 7))) & 1


def prefix(key: bytes, depth: int) -> bytes:
    """`key` with every bit from `depth` on cleared: the position of the subtree at
    `depth` on the key's path (32 bytes)."""
    whole, rest = divmod(depth, 8)
    if whole >= 32:
        return bytes(key)
    head = key[:whole] + bytes([key[whole] & (0xFF << (8 - rest)) & 0xFF]) if rest else key[:whole]
    return head + bytes(32 - len(head))


def map_line(salt: bytes, root: bytes) -> str:
    """The checkpoint extension line that signs a map root and its key salt."""
    return f"{MAP_LINE} {_b64(salt)} {_b64(root)}"


def signed_map(extensions: tuple[str, ...]) -> tuple[bytes, bytes] | None:
    """(salt, root) of the checkpoint's subject-map extension line, None if it has
    none; ValueError if the line is malformed or given twice."""
    found = [line for line in extensions if line.split(" ", 1)[0] == MAP_LINE]
    if not found:
        return None
    if len(found) > 1:
        raise ValueError("the checkpoint has two subject-map lines")
    parts = found[0].split(" ")
    if len(parts) != 3:
        raise ValueError("the subject-map line is not '<name> <salt> <root>'")
    salt, root = canonical_b64decode(parts[1]), canonical_b64decode(parts[2])
    if len(salt) != 32 or len(root) != 32:
        raise ValueError("the subject-map salt and root are 32 bytes each")
    return salt, root


def _b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode("ascii")


def canonical_b64decode(text: object) -> bytes:
    """The bytes of canonical standard base64 `text`; ValueError otherwise."""
    if not isinstance(text, str):
        raise ValueError("expected a base64 string")
    try:
        raw = base64.b64decode(text, validate=True)
    except binascii.Error:
        raise ValueError("not canonical base64") from None
    if _b64(raw) != text:
        raise ValueError("not canonical base64")
    return raw


# --------------------------------------------------------------------------- nodes


@dataclass(frozen=True)
class Leaf:
    """A subtree holding exactly one entry."""

    key: bytes
    value: bytes

    @property
    def hash(self) -> bytes:
        return leaf_hash(self.key, self.value)


@dataclass(frozen=True)
class Interior:
    """A subtree holding two or more entries (its children are stored one level down)."""

    hash: bytes


Node = Leaf | Interior


class MapStore(Protocol):
    """Where the nodes of a map live: `get` the node at (depth, prefix), None if that
    subtree is empty; `put` a node written by an update (it replaces what was there)."""

    def get(self, depth: int, position: bytes) -> Node | None: ...

    def put(self, depth: int, position: bytes, node: Node) -> None: ...


class MemoryStore:
    """A MapStore in a dict (tests, and the verifier's own recomputation)."""

    def __init__(self) -> None:
        self.nodes: dict[tuple[int, bytes], Node] = {}

    def get(self, depth: int, position: bytes) -> Node | None:
        return self.nodes.get((depth, position))

    def put(self, depth: int, position: bytes, node: Node) -> None:
        self.nodes[(depth, position)] = node


def _hash(node: Node | None) -> bytes:
    return EMPTY if node is None else node.hash


def update(store: MapStore, changes: Mapping[bytes, bytes]) -> bytes:
    """Set each key of `changes` to its 48-byte value, writing only the nodes on the
    changed keys' paths (O(changes * log entries)); returns the new root. Entries are
    never removed."""
    for key, value in changes.items():
        if len(key) != 32 or len(value) != 48:
            raise MapProofError("map keys are 32 bytes and values 48 bytes")
    items = sorted(changes.items())
    root = store.get(0, EMPTY)
    if not items:
        return _hash(root)
    new = _update(store, 0, EMPTY, root, items)
    store.put(0, EMPTY, new)
    return new.hash


def _update(
    store: MapStore,
    depth: int,
    position: bytes,
    node: Node | None,
    items: list[tuple[bytes, bytes]],
) -> Node:
    """The subtree at (depth, position), now `node`, with `items` (sorted, non-empty,
    all on this subtree's path) set; writes the new nodes below it, not itself."""
    if isinstance(node, Leaf):
        if len(items) == 1 and items[0][0] == node.key:
            return Leaf(*items[0])
        if all(key != node.key for key, _ in items):
            items = sorted([*items, (node.key, node.value)])
        node = None
    if node is None and len(items) == 1:
        return Leaf(*items[0])
    if depth >= DEPTH:  # two different 256-bit keys always part before this
        raise MapProofError("two entries have the same key")
    left_items = [item for item in items if not _bit(item[0], depth)]
    right_items = [item for item in items if _bit(item[0], depth)]
    left_pos, right_pos = position, _right_position(position, depth)
    left: Node | None = None
    right: Node | None = None
    if isinstance(node, Interior):
        left, right = store.get(depth + 1, left_pos), store.get(depth + 1, right_pos)
    if left_items:
        left = _update(store, depth + 1, left_pos, left, left_items)
    if right_items:
        right = _update(store, depth + 1, right_pos, right, right_items)
    if left is None and isinstance(right, Leaf):
        return right  # a subtree of one entry is that entry's leaf
    if right is None and isinstance(left, Leaf):
        return left
    if left_items and left is not None:
        store.put(depth + 1, left_pos, left)
    if right_items and right is not None:
        store.put(depth + 1, right_pos, right)
    return Interior(node_hash(_hash(left), _hash(right)))


def _right_position(position: bytes, depth: int) -> bytes:
    """The position of the right child of the subtree at (depth, position)."""
    raw = bytearray(position)
    raw[depth >> 3] |= 0x80 >> (depth & 7)
    return bytes(raw)


# --------------------------------------------------------------------------- proofs


@dataclass(frozen=True)
class MapProof:
    """Siblings from the terminal's depth up to the root, and the terminal: the key's
    own leaf (inclusion), another key's leaf, or None for an empty subtree."""

    siblings: tuple[bytes, ...]
    terminal: Leaf | None


def prove(store: MapStore, key: bytes) -> MapProof:
    """The proof of `key` (its inclusion, or its absence) in the map of `store`."""
    siblings: list[bytes] = []
    depth, node = 0, store.get(0, EMPTY)
    while isinstance(node, Interior) and depth < DEPTH:
        here = prefix(key, depth)
        sibling = here if _bit(key, depth) else _right_position(here, depth)
        siblings.append(_hash(store.get(depth + 1, sibling)))
        depth += 1
        node = store.get(depth, prefix(key, depth))
    if isinstance(node, Interior):
        raise MapProofError("the stored map is deeper than its keys: it is corrupt")
    return MapProof(tuple(reversed(siblings)), node)


def root_from_proof(key: bytes, terminal: bytes, siblings: Sequence[bytes]) -> bytes:
    """The root a proof gives for the subtree hash `terminal` at depth len(siblings)
    on `key`'s path."""
    if len(siblings) > DEPTH or any(len(s) != 32 for s in siblings):
        raise MapProofError("a map proof has at most 256 siblings of 32 bytes")
    current = terminal
    for i, sibling in enumerate(siblings):
        depth = len(siblings) - 1 - i
        current = node_hash(sibling, current) if _bit(key, depth) else node_hash(current, sibling)
    return current


def verify_proof(root: bytes, key: bytes, proof: MapProof) -> Entry | None:
    """The entry of `key` the proof shows in the map of `root` (None: absent);
    MapProofError if the proof does not lead to `root`, or its terminal leaf is
    another key's that could not sit where the proof puts it."""
    if len(key) != 32:
        raise MapProofError("a map key is 32 bytes")
    terminal = proof.terminal
    depth = len(proof.siblings)
    if (
        terminal is not None
        and terminal.key != key
        and prefix(terminal.key, depth) != prefix(key, depth)
    ):
        raise MapProofError("the proof's other leaf is not on the key's path")
    if root_from_proof(key, _hash(terminal), proof.siblings) != root:
        raise MapProofError("the map proof does not lead to the signed map root")
    if terminal is None or terminal.key != key:
        return None
    return decode_value(terminal.value)
