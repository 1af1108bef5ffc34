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
    EMPTY,
    Entry,
    Interior,
    Leaf,
    MemoryStore,
    Node,
    chain_head,
    encode_value,
    map_key,
    prove,
    update,
)
from security.bootstrap import Ledger, Settings, build_ledger
from security.dialect import Dialect
from security.integrity.map_verification import check_new_subjects
from security.integrity.subject_map import SubjectMap, SubjectProof, _Nodes, table_statements
from tests.domain.factories import Clock, individual
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


def test_proofs_read_together_equal_proofs_read_one_by_one(ledger: Ledger) -> None:
    smap = scratch_map(ledger)
    rng = random.Random(7)
    subjects = [f"subject-{i}" for i in range(50)]
    batches = [rng.choices(subjects, k=rng.randint(1, 15)) for _ in range(30)]
    sizes = grow(ledger, smap, batches)
    asked = [*subjects, "never-seen"]
    for size in (sizes[4], sizes[17], sizes[-1]):
        # the map by definition at `size`
        chains: dict[str, list[tuple[int, bytes]]] = {}
        seq = 0
        for batch in batches:
            for i, subject in enumerate(batch):
                if seq + i < size:
                    chains.setdefault(subject, []).append((seq + i, bytes([i % 256]) * 32))
            seq += len(batch)
        with ledger.datastore.transaction(commit=False) as cursor:
            leaves = smap.dialect.table("scratch_leaves")
            together = smap.subject_proofs(cursor, asked, size, leaves)
            alone = {s: smap.subject_proof(cursor, s, size, leaves) for s in asked}
        assert together == alone
        memory = MemoryStore()
        root = update(
            memory,
            {map_key(SALT, s): encode_value(Entry(*chain_head(c))) for s, c in chains.items()},
        )
        for subject in asked:
            proven = together[subject]
            assert isinstance(proven, SubjectProof)
            assert proven.root == root
            assert proven.chain == tuple(chains.get(subject, []))
            assert proven.proof == prove(memory, map_key(SALT, subject))
        assert root != EMPTY


class Counting:
    """Counts the statements run through the dialect (`Dialect.execute`)."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.statements: list[str] = []
        real = Dialect.execute

        def execute(dialect: Dialect, cursor: Any, statement: str, params: Any = ()) -> None:
            self.statements.append(statement)
            real(dialect, cursor, statement, params)

        monkeypatch.setattr(Dialect, "execute", execute)


class Problems:
    def __init__(self) -> None:
        self.problems: list[tuple[int | None, str]] = []

    def add(self, seq: int | None, message: str) -> None:
        self.problems.append((seq, message))


def verify_new(ledger: Ledger, base: int, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The statements `check_new_subjects` runs for the events sealed from `base` on."""
    sealed = ledger.sealed_log
    (last,) = list(sealed.leaf_rows(base - 1, base))
    report = Problems()
    with monkeypatch.context() as patch:
        counting = Counting(patch)
        check_new_subjects(report, sealed, sealed.checkpoints(), base, last.notification_id)
    assert report.problems == []
    return counting.statements


def test_incremental_verify_reads_the_new_subjects_in_queries_per_depth(
    ledger: Ledger, monkeypatch: pytest.MonkeyPatch
) -> None:
    app = ledger.app
    customers = [individual(app) for _ in range(48)]
    assert ledger.seal() is not None
    base = ledger.sealed_log.sealed_size()
    counts = {}
    for touched in (2, 40):
        for customer in customers[:touched]:
            app.receive_feedback(customer, "complaint", "fees", "Charged twice", FRONT)
        latest = ledger.seal()
        assert latest is not None
        statements = verify_new(ledger, base, monkeypatch)
        nodes = [s for s in statements if "_map_nodes" in s]
        chains = [s for s in statements if "_map_chain" in s]
        # one node query per depth down to the deepest of the subjects' proofs (all
        # subjects' nodes of a depth in one), one chain query
        smap = ledger.sealed_log.subject_map
        assert smap is not None
        with ledger.datastore.transaction(commit=False) as cursor:
            proofs = smap.subject_proofs(
                cursor,
                [str(c) for c in customers[:touched]],
                latest.size,
                ledger.sealed_log.leaves_table,
            )
        assert all(isinstance(p, SubjectProof) for p in proofs.values())
        deepest = max(len(p.proof.siblings) for p in proofs.values() if isinstance(p, SubjectProof))
        assert len(nodes) == deepest + 1, (len(nodes), deepest)
        assert len(chains) == 1
        counts[touched] = len(statements)
        base = latest.size
    # a proof a subject took about 17 statements: 40 subjects took about 680; now only
    # the depths the paths of more subjects reach are more
    assert counts[40] <= counts[2] + 12, counts
