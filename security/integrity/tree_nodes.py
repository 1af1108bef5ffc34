"""Stored interior hashes of a sealed log's Merkle tree, and proofs read from them.

Table `{prefix}_tree_nodes(level, idx, hash)` holds the hash of every complete
(perfect) subtree of 2^level leaves starting at leaf idx·2^level, for level ≥ 1
(level 0 is the leaf hash in `{prefix}_leaves`). `{prefix}_tree_state(id, covered)`
says up to which leaf count the nodes are complete. Sealing writes the nodes that its
new leaves complete in the same transaction as the leaves; a store sealed before the
table existed is backfilled once, in committed chunks (resumable), on first need.

An RFC 9162 inclusion or consistency proof for any tree size decomposes into ranges
whose hashes are folds of stored perfect nodes, so one proof reads O(log n) rows.
The nodes are a cache of recomputable hashes, not trusted: proofs are verified
against signed checkpoints, and `ledger verify --full` compares them with the
recomputed tree.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Any

from ledger_verify.merkle import EMPTY_ROOT, node_hash
from security.dialect import Dialect

Node = tuple[int, int]  # (level, idx)
CHUNK = 16384  # leaves per backfill transaction
IN_LIST = 400  # values per IN (...) list
INSERT_ROWS = 300  # rows per multi-row INSERT


def table_statements(dialect: Dialect, prefix: str) -> list[str]:
    """DDL of the nodes table and its coverage row."""
    big, blob = dialect.bigint, dialect.blob
    return [
        f"CREATE TABLE IF NOT EXISTS {dialect.table(prefix + '_tree_nodes')} ("
        f"level {big} NOT NULL, idx {big} NOT NULL, hash {blob} NOT NULL, "
        "PRIMARY KEY (level, idx))",
        f"CREATE TABLE IF NOT EXISTS {dialect.table(prefix + '_tree_state')} ("
        f"id {big} PRIMARY KEY, covered {big} NOT NULL)",
    ]


class NodeBuilder:
    """The right edge of a tree (one perfect-subtree hash per set bit of the size,
    largest first, as CompactRange keeps them) that reports the perfect nodes each
    appended leaf completes."""

    def __init__(self, size: int, edge: Sequence[bytes]) -> None:
        if len(edge) != size.bit_count():
            raise ValueError(f"a right edge of size {size} has {size.bit_count()} hashes")
        self.size = size
        self.edge = list(edge)

    def append(self, leaf: bytes, out: list[tuple[int, int, bytes]]) -> None:
        """Append one leaf hash; add every node it completes to `out` as (level, idx, hash)."""
        edge = self.edge
        edge.append(leaf)
        bits, level, end = self.size, 0, self.size + 1
        while bits & 1:
            right = edge.pop()
            edge[-1] = node_hash(edge[-1], right)
            level += 1
            out.append((level, (end >> level) - 1, edge[-1]))
            bits >>= 1
        self.size = end


def edge_nodes(size: int) -> list[Node]:
    """The perfect subtrees that make up a tree of `size` leaves, largest first."""
    nodes: list[Node] = []
    pos = 0
    for height in range(size.bit_length() - 1, -1, -1):
        if size >> height & 1:
            nodes.append((height, pos >> height))
            pos += 1 << height
    return nodes


def _range_nodes(start: int, end: int) -> list[Node]:
    """The perfect subtrees of leaves [start, end) as the RFC recursion visits them
    (start is a multiple of the largest power of two not above end - start)."""
    nodes: list[Node] = []
    pos, width = start, end - start
    for height in range(width.bit_length() - 1, -1, -1):
        if width >> height & 1:
            nodes.append((height, pos >> height))
            pos += 1 << height
    return nodes


def _split(n: int) -> int:
    return 1 << ((n - 1).bit_length() - 1)


def inclusion_ranges(index: int, size: int) -> list[tuple[int, int]]:
    """The leaf ranges whose hashes form PATH(index, D[0:size]), in proof order."""
    ranges: list[tuple[int, int]] = []
    lo, hi = 0, size
    while hi - lo > 1:
        k = _split(hi - lo)
        if index < lo + k:
            ranges.append((lo + k, hi))
            hi = lo + k
        else:
            ranges.append((lo, lo + k))
            lo += k
    ranges.reverse()
    return ranges


def consistency_ranges(size1: int, size2: int) -> list[tuple[int, int]]:
    """The leaf ranges whose hashes form PROOF(size1, D[0:size2]), in proof order."""
    ranges: list[tuple[int, int]] = []
    lo, hi, complete = 0, size2, True
    while size1 != hi:
        k = _split(hi - lo)
        if size1 - lo <= k:
            ranges.append((lo + k, hi))
            hi = lo + k
        else:
            ranges.append((lo, lo + k))
            lo += k
            complete = False
    if not complete:
        ranges.append((lo, hi))
    ranges.reverse()
    return ranges


def fold(hashes: Sequence[bytes]) -> bytes:
    """The MTH of a range from its perfect subtrees, largest (leftmost) first."""
    acc = hashes[-1]
    for h in reversed(hashes[:-1]):
        acc = node_hash(h, acc)
    return acc


class MissingNodes(LookupError):
    """Stored nodes or leaves a proof needs are not there."""


class NodeReader:
    """Reads stored nodes (and leaf hashes for level 0) in a few IN-list queries."""

    def __init__(self, dialect: Dialect, prefix: str) -> None:
        self.dialect = dialect
        self.nodes_table = dialect.table(f"{prefix}_tree_nodes")
        self.state_table = dialect.table(f"{prefix}_tree_state")
        self.leaves_table = dialect.table(f"{prefix}_leaves")

    def covered(self, cursor: Any) -> int:
        self.dialect.execute(cursor, f"SELECT covered FROM {self.state_table} WHERE id=1", ())
        row = cursor.fetchone()
        return 0 if row is None else int(row["covered"])

    def set_covered(self, cursor: Any, covered: int, previous: int) -> None:
        if previous == 0:
            self.dialect.execute(cursor, f"DELETE FROM {self.state_table} WHERE id=1", ())
            self.dialect.execute(
                cursor, f"INSERT INTO {self.state_table} (id, covered) VALUES (1, ?)", (covered,)
            )
        else:
            self.dialect.execute(
                cursor, f"UPDATE {self.state_table} SET covered=? WHERE id=1", (covered,)
            )

    def insert(self, cursor: Any, rows: list[tuple[int, int, bytes]]) -> None:
        """Insert nodes, many rows a statement (far fewer round trips than executemany)."""
        for i in range(0, len(rows), INSERT_ROWS):
            chunk = rows[i : i + INSERT_ROWS]
            values = ",".join(["(?,?,?)"] * len(chunk))
            params = tuple(value for row in chunk for value in row)
            self.dialect.execute(
                cursor, f"INSERT INTO {self.nodes_table} (level, idx, hash) VALUES {values}", params
            )

    def read(self, cursor: Any, wanted: Iterable[Node]) -> dict[Node, bytes]:
        """The hashes of `wanted` nodes that are stored."""
        by_level: dict[int, set[int]] = {}
        for level, idx in wanted:
            by_level.setdefault(level, set()).add(idx)
        found: dict[Node, bytes] = {}
        for level, indexes in by_level.items():
            ordered = sorted(indexes)
            for i in range(0, len(ordered), IN_LIST):
                chunk = tuple(ordered[i : i + IN_LIST])
                marks = ",".join("?" * len(chunk))
                if level == 0:
                    statement = (
                        f"SELECT seq AS idx, leaf_hash AS hash FROM {self.leaves_table} "
                        f"WHERE seq IN ({marks})"
                    )
                    params: tuple[Any, ...] = chunk
                else:
                    statement = (
                        f"SELECT idx, hash FROM {self.nodes_table} "
                        f"WHERE level=? AND idx IN ({marks})"
                    )
                    params = (level, *chunk)
                self.dialect.execute(cursor, statement, params)
                for row in cursor.fetchall():
                    found[(level, int(row["idx"]))] = self.dialect.to_bytes(row["hash"])
        return found

    def edge(self, cursor: Any, size: int) -> list[bytes]:
        """The stored right edge of the tree of `size` leaves; MissingNodes if incomplete."""
        wanted = edge_nodes(size)
        found = self.read(cursor, wanted)
        if len(found) != len(wanted):
            raise MissingNodes(f"the stored tree nodes do not cover {size} leaves")
        return [found[node] for node in wanted]


class NodeProofs:
    """Inclusion and consistency proofs (and roots) at any sealed size, computed from
    the stored nodes: O(log n) rows per proof. `prepare(size)` makes sure the nodes
    cover `size` leaves (backfilling if needed); `read(cursor_factory)` runs queries."""

    def __init__(
        self,
        reader: NodeReader,
        read: Callable[[Iterable[Node]], dict[Node, bytes]],
        prepare: Callable[[int], None],
        missing: Callable[[str], Exception] = MissingNodes,
    ) -> None:
        self.reader = reader
        self._read = read
        self._prepare = prepare
        self._missing = missing

    def _hashes(self, groups: list[list[Node]], size: int) -> list[bytes]:
        self._prepare(size)
        wanted = {node for group in groups for node in group}
        found = self._read(wanted)
        if len(found) != len(wanted):
            raise self._missing(
                f"stored tree nodes or leaves are missing for a tree of size {size}; "
                "run `ledger verify --full`"
            )
        return [fold([found[node] for node in group]) for group in groups]

    def root(self, size: int) -> bytes:
        """The MTH of the first `size` leaves."""
        if size == 0:
            return EMPTY_ROOT
        return self._hashes([edge_nodes(size)], size)[0]

    def inclusion_proof(self, index: int, size: int) -> list[bytes]:
        """PATH(index, D[0:size]) of RFC 9162; ValueError unless 0 <= index < size."""
        return self.inclusion_proofs([index], size)[index]

    def inclusion_proofs(self, indexes: Sequence[int], size: int) -> dict[int, list[bytes]]:
        """The inclusion proofs of several leaves in one read of the nodes."""
        plans: dict[int, list[tuple[int, int]]] = {}
        for index in indexes:
            if not 0 <= index < size:
                raise ValueError(f"leaf index {index} is not in a tree of size {size}")
            plans[index] = inclusion_ranges(index, size)
        flat = [r for plan in plans.values() for r in plan]
        hashes = dict(zip(flat, self._hashes([_range_nodes(*r) for r in flat], size), strict=True))
        return {index: [hashes[r] for r in plan] for index, plan in plans.items()}

    def consistency_proof(self, size1: int, size2: int) -> list[bytes]:
        """PROOF(size1, D[0:size2]) of RFC 9162; ValueError unless 0 < size1 <= size2."""
        if not 0 < size1 <= size2:
            raise ValueError(f"no consistency proof exists from size {size1} to size {size2}")
        ranges = consistency_ranges(size1, size2)
        if not ranges:
            return []
        return self._hashes([_range_nodes(*r) for r in ranges], size2)

    def leaf_hashes(self, indexes: Iterable[int]) -> dict[int, bytes]:
        """The stored leaf hashes of `indexes` (missing ones left out)."""
        return {idx: h for (_, idx), h in self._read([(0, i) for i in indexes]).items()}
