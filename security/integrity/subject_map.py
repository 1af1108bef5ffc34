"""The subject map of the event log, kept by the sealer (docs/ledger-format.md §4,
"The subject map"; the bytes are `ledger_verify.smt`'s).

Tables:
- `ledger_map_state(id, salt, covered)`: the log's 32-byte key salt (drawn once) and
  how many leaves the map covers.
- `ledger_map_chain(seq, subject_key, count, head)`: one row per sealed event with a
  subject: its map key, its place in the subject's chain and the chain head after it
  (indexed by subject key and seq, so a subject's chain is one range read).
- `ledger_map_nodes(depth, position, version, leaf_key, leaf_value, hash)`: the
  map's nodes, versioned by the checkpoint size that wrote them, so a proof at any
  signed size reads the newest version at or below it. A seal writes only the nodes
  on the paths of the subjects of its batch: O(batch * log subjects) rows.

Each checkpoint signs the map root in one extension line (C2SP tlog-checkpoint):
`crm-ledger/subject-map/v1 <base64 salt> <base64 root>`. Like the tree nodes, the
tables are recomputable from the log and not trusted: a proof from a wrong node does
not lead to the signed root.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, Final

from ledger_verify.smt import (
    EMPTY,
    Entry,
    Interior,
    Leaf,
    MapProof,
    MapProofError,
    Node,
    chain_step,
    encode_value,
    map_key,
    map_line,
    prefix,
    prove,
    update,
)
from security.dialect import Dialect
from security.errors import EventAuthenticationFailed
from security.keys.envelope import Envelope

IN_LIST: Final = 400


def table_statements(dialect: Dialect, prefix_: str = "ledger") -> list[str]:
    """DDL of the map's tables (idempotent)."""
    big, blob = dialect.bigint, dialect.blob
    t = dialect.table
    return [
        f"CREATE TABLE IF NOT EXISTS {t(prefix_ + '_map_state')} ("
        f"id {big} PRIMARY KEY, salt {blob} NOT NULL, covered {big} NOT NULL)",
        f"CREATE TABLE IF NOT EXISTS {t(prefix_ + '_map_chain')} ("
        f"seq {big} PRIMARY KEY, subject_key {blob} NOT NULL, count {big} NOT NULL, "
        f"head {blob} NOT NULL)",
        f"CREATE INDEX IF NOT EXISTS {prefix_}_map_chain_subject_idx "
        f"ON {t(prefix_ + '_map_chain')} (subject_key, seq)",
        f"CREATE TABLE IF NOT EXISTS {t(prefix_ + '_map_nodes')} ("
        f"depth {big} NOT NULL, position {blob} NOT NULL, version {big} NOT NULL, "
        f"leaf_key {blob}, leaf_value {blob}, hash {blob} NOT NULL, "
        "PRIMARY KEY (depth, position, version))",
    ]


class MapMissing(Exception):
    """The store holds no subject map (a log sealed before it, not sealed since)."""


@dataclass(frozen=True)
class SubjectProof:
    """A subject's entry in the map at a checkpoint size, with its proof and chain
    ((seq, leaf hash) of its events, oldest first)."""

    subject: str
    key: bytes
    root: bytes
    proof: MapProof
    chain: tuple[tuple[int, bytes], ...]


class _Nodes:
    """A `ledger_verify.smt.MapStore` over the versioned nodes table, read at
    `version` (the newest row at or below it), with writes buffered as that version."""

    def __init__(self, owner: SubjectMap, cursor: Any, version: int) -> None:
        self.owner = owner
        self.cursor = cursor
        self.version = version
        self.cache: dict[tuple[int, bytes], Node | None] = {}
        self.written: dict[tuple[int, bytes], Node] = {}

    def get(self, depth: int, position: bytes) -> Node | None:
        if (depth, position) not in self.cache:
            self._load(depth, [position])
        return self.cache[(depth, position)]

    def put(self, depth: int, position: bytes, node: Node) -> None:
        self.cache[(depth, position)] = node
        self.written[(depth, position)] = node

    def _load(self, depth: int, positions: Sequence[bytes]) -> None:
        dialect = self.owner.dialect
        for chunk in _chunks(dialect, positions):
            for position in chunk:
                self.cache[(depth, position)] = None
            # only the newest version at or below ours: one seek of the primary key
            # (depth, position, version) backwards per position, however many seals
            # rewrote it (every seal rewrites the root and the nodes under it)
            if dialect.name == "postgres":
                newest = (
                    f"SELECT m.leaf_key, m.leaf_value, m.hash FROM {self.owner.nodes} m "
                    "WHERE m.depth=? AND m.position=p.position AND m.version<=? "
                    "ORDER BY m.version DESC LIMIT 1"
                )
                statement = (
                    "SELECT p.position AS position, n.leaf_key AS leaf_key, "
                    "n.leaf_value AS leaf_value, n.hash AS hash "
                    f"FROM unnest(?::bytea[]) AS p(position) CROSS JOIN LATERAL ({newest}) n"
                )
                params: tuple[Any, ...] = (list(chunk), depth, self.version)
            else:
                # SQLite has no LATERAL: the newest row's rowid per position, then the row
                # by rowid (CROSS JOIN keeps the positions as the outer loop)
                values = ",".join(["(?)"] * len(chunk))
                statement = (
                    f"WITH p(position) AS (VALUES {values}) "
                    "SELECT p.position AS position, n.leaf_key AS leaf_key, "
                    "n.leaf_value AS leaf_value, n.hash AS hash "
                    f"FROM p CROSS JOIN {self.owner.nodes} n ON n.rowid = ("
                    f"SELECT m.rowid FROM {self.owner.nodes} m WHERE m.depth=? "
                    "AND m.position=p.position AND m.version<=? "
                    "ORDER BY m.version DESC LIMIT 1)"
                )
                params = (*chunk, depth, self.version)
            dialect.execute(self.cursor, statement, params)
            for row in self.cursor.fetchall():
                position = dialect.to_bytes(row["position"])
                if row["leaf_key"] is None:
                    node: Node = Interior(dialect.to_bytes(row["hash"]))
                else:
                    node = Leaf(
                        dialect.to_bytes(row["leaf_key"]), dialect.to_bytes(row["leaf_value"])
                    )
                self.cache[(depth, position)] = node

    def prefetch(self, keys: Iterable[bytes]) -> None:
        """Read the nodes an update or proof of `keys` visits, one query per depth."""
        wanted = sorted(set(keys))
        depth, positions = 0, [EMPTY]
        while wanted and positions:
            self._load(depth, [p for p in positions if (depth, p) not in self.cache])
            deeper = [
                k for k in wanted if isinstance(self.cache[(depth, prefix(k, depth))], Interior)
            ]
            depth += 1
            found = {prefix(k, depth) for k in deeper}
            found |= {_flip(p, depth - 1) for p in found}
            positions, wanted = sorted(found), deeper

    def flush(self) -> None:
        rows = [
            (
                depth,
                position,
                self.version,
                node.key if isinstance(node, Leaf) else None,
                node.value if isinstance(node, Leaf) else None,
                node.hash,
            )
            for (depth, position), node in sorted(self.written.items())
        ]
        if rows:
            self.owner.dialect.executemany(
                self.cursor,
                f"INSERT INTO {self.owner.nodes} "
                "(depth, position, version, leaf_key, leaf_value, hash) VALUES (?,?,?,?,?,?)",
                rows,
            )
        self.written.clear()


def _chunks(dialect: Dialect, values: Sequence[Any]) -> Iterator[Sequence[Any]]:
    """`values` in the lists one statement takes: all at once as an array on
    PostgreSQL, IN_LIST placeholders at a time on SQLite."""
    step = max(len(values), 1) if dialect.name == "postgres" else IN_LIST
    for start in range(0, len(values), step):
        yield values[start : start + step]


def _member(dialect: Dialect, column: str, chunk: Sequence[Any]) -> tuple[str, tuple[Any, ...]]:
    """`column` is one of `chunk` (from `_chunks`): the condition and its parameters."""
    if dialect.name == "postgres":
        return f"{column} = ANY(?)", (list(chunk),)
    return f"{column} IN ({','.join('?' * len(chunk))})", tuple(chunk)


def _flip(position: bytes, bit: int) -> bytes:
    raw = bytearray(position)
    raw[bit >> 3] ^= 0x80 >> (bit & 7)
    return bytes(raw)


class SubjectMap:
    """Keeps the subject map of a sealed log (see the module docstring)."""

    def __init__(self, dialect: Dialect, keys_table: str, prefix_: str = "ledger") -> None:
        self.dialect = dialect
        self.keys_table = keys_table
        self.state = dialect.table(prefix_ + "_map_state")
        self.chain = dialect.table(prefix_ + "_map_chain")
        self.nodes = dialect.table(prefix_ + "_map_nodes")

    # --- sealing ---------------------------------------------------------------------

    def covered(self, cursor: Any) -> tuple[bytes, int]:
        """(salt, leaves covered), drawing the salt on first use."""
        self.dialect.execute(cursor, f"SELECT salt, covered FROM {self.state} WHERE id=1", ())
        row = cursor.fetchone()
        if row is not None:
            return self.dialect.to_bytes(row["salt"]), int(row["covered"])
        salt = os.urandom(32)
        self.dialect.execute(
            cursor, f"INSERT INTO {self.state} (id, salt, covered) VALUES (1, ?, 0)", (salt,)
        )
        return salt, 0

    def rewind(self, cursor: Any, size: int) -> None:
        """Forget what the map holds of leaves from `size` on (the log holds fewer
        leaves than the map covers: it was wiped or rolled back behind the ledger's
        back, and is being sealed again): chain rows and node versions past `size`."""
        self.dialect.execute(cursor, f"DELETE FROM {self.chain} WHERE seq>=?", (size,))
        self.dialect.execute(cursor, f"DELETE FROM {self.nodes} WHERE version>?", (size,))
        self.dialect.execute(cursor, f"UPDATE {self.state} SET covered=? WHERE id=1", (size,))

    def subjects_of(self, cursor: Any, states: Sequence[bytes | None]) -> list[str | None]:
        """The subject of each event state (the data key's subject); None for a state
        that is no envelope or names an unknown key."""
        refs: list[str | None] = []
        for state in states:
            try:
                refs.append(None if state is None else Envelope.unpack(state).key_ref)
            except (EventAuthenticationFailed, ValueError):
                refs.append(None)
        known: dict[str, str] = {}
        distinct = sorted({ref for ref in refs if ref is not None})
        for chunk in _chunks(self.dialect, distinct):
            where, params = _member(self.dialect, "dek_id", chunk)
            self.dialect.execute(
                cursor,
                f"SELECT dek_id, subject_id FROM {self.keys_table} WHERE {where}",
                params,
            )
            known.update((str(r["dek_id"]), str(r["subject_id"])) for r in cursor.fetchall())
        return [None if ref is None else known.get(ref) for ref in refs]

    def add(
        self,
        cursor: Any,
        salt: bytes,
        version: int,
        events: Sequence[tuple[int, str | None, bytes]],
        covered: int,
    ) -> str:
        """Append the events (seq, subject, leaf hash), in seq order from `covered`,
        to the chains and the map as of checkpoint size `version`; returns the
        checkpoint's map line."""
        heads = self._heads(cursor, {map_key(salt, s) for _, s, _ in events if s is not None})
        rows = []
        for seq, subject, leaf in events:
            if subject is None:
                continue
            key = map_key(salt, subject)
            count, _, head = heads.get(key, (0, -1, EMPTY))
            head = chain_step(head, seq, leaf)
            heads[key] = (count + 1, seq, head)
            rows.append((seq, key, count + 1, head))
        if rows:
            self.dialect.executemany(
                cursor,
                f"INSERT INTO {self.chain} (seq, subject_key, count, head) VALUES (?,?,?,?)",
                rows,
            )
        changed = {key for _, key, _, _ in rows}
        nodes = _Nodes(self, cursor, version)
        nodes.prefetch(changed)
        root = update(
            nodes,
            {key: encode_value(Entry(*heads[key])) for key in changed},
        )
        nodes.flush()
        end = covered + len(events)
        self.dialect.execute(cursor, f"UPDATE {self.state} SET covered=? WHERE id=1", (end,))
        return map_line(salt, root)

    def _heads(self, cursor: Any, keys: set[bytes]) -> dict[bytes, tuple[int, int, bytes]]:
        """(count, latest seq, head) of each key's chain as stored."""
        found: dict[bytes, tuple[int, int, bytes]] = {}
        ordered = sorted(keys)
        for chunk in _chunks(self.dialect, ordered):
            where, params = _member(self.dialect, "subject_key", chunk)
            self.dialect.execute(
                cursor,
                f"SELECT c.subject_key AS k, c.seq AS seq, c.count AS n, c.head AS head "
                f"FROM {self.chain} c JOIN (SELECT subject_key, MAX(seq) AS m FROM {self.chain} "
                f"WHERE {where} GROUP BY subject_key) t "
                "ON c.subject_key = t.subject_key AND c.seq = t.m",
                params,
            )
            for row in cursor.fetchall():
                found[self.dialect.to_bytes(row["k"])] = (
                    int(row["n"]),
                    int(row["seq"]),
                    self.dialect.to_bytes(row["head"]),
                )
        return found

    # --- proving ---------------------------------------------------------------------

    def subject_proof(
        self, cursor: Any, subject: str, size: int, leaves_table: str
    ) -> SubjectProof:
        """The map proof of `subject` at checkpoint size `size` and the (seq, leaf
        hash) of its events below `size`."""
        proven = self.subject_proofs(cursor, [subject], size, leaves_table)[subject]
        if isinstance(proven, Exception):
            raise proven
        return proven

    def subject_proofs(
        self, cursor: Any, subjects: Sequence[str], size: int, leaves_table: str
    ) -> dict[str, SubjectProof | MapMissing | MapProofError]:
        """`subject_proof` of each of `subjects`, or why it has none (its chain names a
        missing leaf, or the stored map is corrupt on its path), read together: one
        node query per depth of the map, shared by all of them, and one chain query (on
        SQLite IN_LIST subjects a query), not a proof's queries per subject. Raises
        MapMissing if the store holds no map."""
        self.dialect.execute(cursor, f"SELECT salt FROM {self.state} WHERE id=1", ())
        row = cursor.fetchone()
        if row is None:
            raise MapMissing("the log has no subject map yet: seal it first")
        salt = self.dialect.to_bytes(row["salt"])
        keys = {subject: map_key(salt, subject) for subject in subjects}
        nodes = _Nodes(self, cursor, size)
        nodes.prefetch(keys.values())
        root = nodes.get(0, EMPTY)
        root_hash = EMPTY if root is None else root.hash
        chains = self._chains(cursor, sorted(set(keys.values())), size, leaves_table)
        proofs: dict[str, SubjectProof | MapMissing | MapProofError] = {}
        for subject, key in keys.items():
            try:
                proof = prove(nodes, key)
            except MapProofError as exc:
                proofs[subject] = exc
                continue
            chain = chains.get(key, [])
            gone = [seq for seq, leaf in chain if leaf is None]
            if gone:
                proofs[subject] = MapMissing(f"the chain names leaf {gone[0]}, which is missing")
                continue
            steps = tuple((seq, leaf) for seq, leaf in chain if leaf is not None)
            proofs[subject] = SubjectProof(subject, key, root_hash, proof, steps)
        return proofs

    def _chains(
        self, cursor: Any, keys: Sequence[bytes], size: int, leaves_table: str
    ) -> dict[bytes, list[tuple[int, bytes | None]]]:
        """key -> (seq, leaf hash or None if the leaf row is missing) of its chain's
        events below `size`, oldest first."""
        chains: dict[bytes, list[tuple[int, bytes | None]]] = {}
        for chunk in _chunks(self.dialect, keys):
            where, params = _member(self.dialect, "c.subject_key", chunk)
            self.dialect.execute(
                cursor,
                f"SELECT c.subject_key AS k, c.seq AS seq, l.leaf_hash AS leaf_hash "
                f"FROM {self.chain} c LEFT JOIN {leaves_table} l ON l.seq = c.seq "
                f"WHERE {where} AND c.seq<? ORDER BY c.subject_key, c.seq",
                (*params, size),
            )
            for row in cursor.fetchall():
                leaf = row["leaf_hash"]
                chains.setdefault(self.dialect.to_bytes(row["k"]), []).append(
                    (int(row["seq"]), None if leaf is None else self.dialect.to_bytes(leaf))
                )
        return chains
