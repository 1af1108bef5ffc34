"""Reading the subject map's versioned nodes (issue 16): the node read at a version is
the newest stored row at or below it, as a brute-force read of every row says, on a
map whose nodes have many versions; proofs read together equal proofs read one by
one; and the incremental verify reads the proofs of all new subjects in a number of
queries that does not grow with them. Both stores."""

from __future__ import annotations

import random
from collections.abc import Iterator
from typing import Any

import pytest

from domain.actor import Actor
from ledger_verify.smt import (
    Interior,
    Leaf,
    Node,
)
from security.bootstrap import Ledger, Settings, build_ledger
from security.dialect import Dialect
from security.integrity.subject_map import SubjectMap, _Nodes, table_statements
from tests.domain.factories import Clock
from tests.support.store import run_sql, select

pytestmark = pytest.mark.integration

FRONT = Actor("fo-001", "front_office", "branch")
SALT = bytes(range(32))


@pytest.fixture
def ledger(ledger_config: Settings) -> Iterator[Ledger]:
    built = build_ledger(ledger_config, clock=Clock())
    yield built
    built.close()


def scratch_map(ledger: Ledger) -> SubjectMap:
    """A subject map in tables of its own (prefix `scratch`) on the ledger's store."""
    dialect = ledger.sealed_log.dialect
    dialect.create_tables(ledger.datastore, table_statements(dialect, "scratch"))
    dialect.create_tables(
        ledger.datastore,
        [
            f"CREATE TABLE IF NOT EXISTS {dialect.table('scratch_leaves')} "
            f"(seq {dialect.bigint} PRIMARY KEY, leaf_hash {dialect.blob} NOT NULL)"
        ],
    )
    smap = SubjectMap(dialect, ledger.keystore.table, "scratch")
    run_sql(ledger, f"INSERT INTO {smap.state} (id, salt, covered) VALUES (1, ?, 0)", (SALT,))
    return smap


def grow(ledger: Ledger, smap: SubjectMap, batches: list[list[str]]) -> list[int]:
    """Add the batches of events (subject names) as seals of their own; the sizes."""
    sizes, seq = [], 0
    for batch in batches:
        events = [(seq + i, subject, bytes([i % 256]) * 32) for i, subject in enumerate(batch)]
        with ledger.datastore.transaction(commit=True) as cursor:
            smap.dialect.executemany(
                cursor,
                f"INSERT INTO {smap.dialect.table('scratch_leaves')} (seq, leaf_hash) VALUES (?,?)",
                [(s, leaf) for s, _, leaf in events],
            )
            smap.add(cursor, SALT, seq + len(batch), events, seq)
        seq += len(batch)
        sizes.append(seq)
    return sizes


def newest_by_brute_force(
    rows: list[Any], dialect: Dialect, version: int
) -> dict[tuple[int, bytes], Node]:
    """(depth, position) -> node: of every stored row, the newest at or below `version`."""
    newest: dict[tuple[int, bytes], tuple[int, Node]] = {}
    for row in rows:
        v = int(row["version"])
        if v > version:
            continue
        where = (int(row["depth"]), dialect.to_bytes(row["position"]))
        if where in newest and newest[where][0] > v:
            continue
        if row["leaf_key"] is None:
            node: Node = Interior(dialect.to_bytes(row["hash"]))
        else:
            node = Leaf(dialect.to_bytes(row["leaf_key"]), dialect.to_bytes(row["leaf_value"]))
        newest[where] = (v, node)
    return {where: node for where, (_, node) in newest.items()}


def test_node_reads_are_the_newest_version_at_or_below_the_size(ledger: Ledger) -> None:
    smap = scratch_map(ledger)
    rng = random.Random(16)
    subjects = [f"subject-{i}" for i in range(60)]
    # 40 seals of 1-12 events: the root and upper nodes get a version a seal
    sizes = grow(ledger, smap, [rng.choices(subjects, k=rng.randint(1, 12)) for _ in range(40)])
    rows = select(ledger, f"SELECT * FROM {smap.nodes}")
    versions = {int(r["version"]) for r in rows if int(r["depth"]) == 0}
    assert len(versions) == len(sizes)  # the root was rewritten by every seal
    places = sorted({(int(r["depth"]), smap.dialect.to_bytes(r["position"])) for r in rows})
    depths = sorted({depth for depth, _ in places})
    unknown = bytes([0xAA]) * 32  # a position no row holds
    for version in [0, *sizes, *(s - 1 for s in sizes), sizes[-1] + 5]:
        expected = newest_by_brute_force(rows, smap.dialect, version)
        with ledger.datastore.transaction(commit=False) as cursor:
            nodes = _Nodes(smap, cursor, version)
            for depth in depths:
                wanted = [p for d, p in places if d == depth] + [unknown]
                nodes._load(depth, wanted)
        read = {where: node for where, node in nodes.cache.items() if node is not None}
        assert read == expected, version
        assert nodes.cache[(0, unknown)] is None
