"""The rows a set-wise batch holds in memory (projections.batch_rows): whatever the
handlers write in between, a read answered from memory is what the store would answer.

The oracle is the same sequence of writes run one-by-one (every `Tx.row` a query) on a
second in-process SQLite database: each read, and the tables at the end, must agree."""

from __future__ import annotations

import sqlite3
from typing import Any

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from projections.transaction import Tx
from security.dialect import Dialect

pytestmark = pytest.mark.unit

NAMES = {"t": "t", "u": "u"}
KEYS = {"t": ("a", "b"), "u": ("id",)}
DDL = (
    "CREATE TABLE t (a TEXT NOT NULL, b INTEGER NOT NULL, x INTEGER NOT NULL DEFAULT 0, "
    "y TEXT, z TEXT, PRIMARY KEY (a, b))",
    "CREATE TABLE u (id INTEGER PRIMARY KEY, v TEXT)",
    "INSERT INTO u VALUES (1, 'from-u')",
    "INSERT INTO t (a, b, y) VALUES ('p', 1, 'seed'), ('q', 2, 'seed')",
)
RAW = (  # handlers' own statements: followed, or the table forgotten
    ("UPDATE {t} SET x=x+1 WHERE a=?", "a"),
    ("UPDATE {t} SET y=? WHERE a=? AND b=?", "yab"),
    ("UPDATE {t} SET z=(SELECT v FROM {u} WHERE id=1) WHERE a=?", "a"),
    ("UPDATE {t} SET b=b+10 WHERE a=?", "a"),
    ("DELETE FROM {t} WHERE b=?", "b"),
    ("INSERT INTO {t} (a, b, y) VALUES (?, ?, ?) ON CONFLICT DO NOTHING", "aby"),
    ("UPDATE {u} SET v=? WHERE id=1", "y"),
)

a_values = st.sampled_from(["p", "q", "r"])
b_values = st.sampled_from([1, 2, 11])
y_values = st.one_of(st.none(), st.sampled_from(["one", "two", "three"]))
columns = st.lists(st.sampled_from(["x", "y", "z"]), unique=True, max_size=3)
# each column written in its own type, as the views write them (a store's coercion of
# another type, e.g. SQLite's TEXT affinity turning 0 into '0', is not mirrored in memory)
values = st.fixed_dictionaries(
    {},
    optional={"x": st.integers(0, 3), "y": y_values, "z": y_values},
)
keys = st.one_of(
    st.fixed_dictionaries({"a": a_values, "b": b_values}),
    st.fixed_dictionaries({"a": a_values}),
    st.fixed_dictionaries({"b": b_values}),
)
operations = st.one_of(
    st.tuples(st.just("row"), a_values, b_values, columns),
    st.tuples(st.just("prefetch"), st.lists(a_values, max_size=3), columns),
    st.tuples(st.just("update"), keys, values.filter(bool)),
    st.tuples(st.just("update_key"), a_values, b_values, b_values),
    st.tuples(st.just("delete"), keys),
    st.tuples(st.just("insert"), a_values, b_values, values),
    st.tuples(st.just("upsert"), a_values, b_values, values),
    st.tuples(st.just("raw"), st.integers(0, len(RAW) - 1), a_values, b_values, y_values),
)


def database() -> tuple[sqlite3.Connection, sqlite3.Cursor]:
    connection = sqlite3.connect(":memory:")
    connection.row_factory = sqlite3.Row
    for statement in DDL:
        connection.execute(statement)
    return connection, connection.cursor()


def step(tx: Tx, operation: tuple[Any, ...]) -> Any:
    """Apply one operation; returns what a read returned (None for writes)."""
    kind = operation[0]
    if kind == "row":
        _, a, b, wanted = operation
        return ("row", tx.row("t", {"a": a, "b": b}, wanted))
    if kind == "prefetch":
        tx.prefetch("t", "a", operation[1], operation[2])
    elif kind == "update":
        tx.update("t", operation[1], operation[2])
    elif kind == "update_key":
        _, a, b, to = operation
        tx.update("t", {"a": a, "b": b}, {"b": to})
    elif kind == "delete":
        tx.delete("t", operation[1])
    elif kind == "insert":
        _, a, b, given_values = operation
        tx.insert_ignore("t", {"a": a, "b": b, **given_values})
    elif kind == "upsert":
        _, a, b, given_values = operation
        tx.upsert("t", ("a", "b"), {"a": a, "b": b, **given_values})
    else:
        _, number, a, b, y = operation
        statement, order = RAW[number]
        params = {"a": a, "b": b, "y": y}
        tx.execute(statement, [params[name] for name in order])
    return None


def run(operations: list[tuple[Any, ...]], *, setwise: bool) -> tuple[list[Any], Any]:
    """What each operation read, and the tables after them all."""
    connection, cursor = database()
    tx = Tx(cursor, Dialect("sqlite"), NAMES, setwise=setwise, keys=KEYS)
    answers = [step(tx, operation) for operation in operations]
    tx.flush()
    tables = [
        [dict(r) for r in cursor.execute("SELECT * FROM t ORDER BY a, b")],
        [dict(r) for r in cursor.execute("SELECT * FROM u ORDER BY id")],
    ]
    connection.close()
    return answers, tables


@settings(max_examples=400, deadline=None)
@given(st.lists(operations, max_size=25))
def test_reads_from_the_batch_rows_are_what_the_store_would_answer(
    operations: list[tuple[Any, ...]],
) -> None:
    try:
        expected = run(operations, setwise=False)
    except sqlite3.IntegrityError:  # a key moved onto another row: not a view's write
        assume(False)
    assert run(operations, setwise=True) == expected


@pytest.mark.parametrize("setwise", [True, False])
def test_a_row_the_batch_read_or_wrote_is_not_read_again(setwise: bool) -> None:
    _, cursor = database()
    tx = Tx(cursor, Dialect("sqlite"), NAMES, setwise=setwise, keys=KEYS)

    def reads() -> int:
        return tx.reads

    tx.prefetch("t", "a", ["p", "r"], ("y",))
    assert tx.row("t", {"a": "p", "b": 1}, ("y",)) == {"y": "seed"}
    assert tx.row("t", {"a": "r", "b": 1}, ("y",)) is None  # prefetched: known absent
    tx.insert_ignore("t", {"a": "r", "b": 1, "y": "new"})
    assert tx.row("t", {"a": "r", "b": 1}, ("y",)) == {"y": "new"}
    tx.update("t", {"a": "r", "b": 1}, {"y": "newer"})
    tx.execute("UPDATE {t} SET x=x+1 WHERE a=?", ["r"])  # names no watched column
    assert tx.row("t", {"a": "r", "b": 1}, ("y",)) == {"y": "newer"}
    tx.delete("t", {"a": "p"})
    assert tx.row("t", {"a": "p", "b": 1}, ("y",)) is None
    if setwise:
        assert reads() == 1  # the prefetch
        assert tx.statements == 4 + 1  # four writes queued, the prefetch read
        tx.execute("UPDATE {t} SET y=? WHERE a=?", ["set", "r"])  # a watched column
        assert tx.row("t", {"a": "r", "b": 1}, ("y",)) == {"y": "set"}
        assert reads() == 2  # forgotten, read again
    else:
        assert reads() == 5  # every row read is a query; the prefetch is none


def test_a_row_is_read_by_its_whole_primary_key() -> None:
    _, cursor = database()
    tx = Tx(cursor, Dialect("sqlite"), NAMES, setwise=True, keys=KEYS)
    with pytest.raises(ValueError, match="primary key"):
        tx.row("t", {"a": "p"}, ("y",))
    with pytest.raises(ValueError, match="primary key"):
        tx.prefetch("t", "y", ["seed"], ("y",))
