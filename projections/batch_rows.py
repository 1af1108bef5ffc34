"""The rows a set-wise batch reads, held in memory for the batch: a handler that needs a
row the batch already read or wrote gets it without a query (on PostgreSQL each query in
a handler is a round trip the pipeline cannot hide).

`BatchRows` belongs to one `Tx` (one view, one batch, one transaction). It knows each
table's primary key and, per row, whether it exists and the values of the columns the
handlers asked for ("watched" columns). Every write of the transaction goes through the
`Tx` and updates what it knows, conservatively: a write whose effect it cannot follow
exactly makes it forget the table, and the next read goes to the store again. So a read
answered from memory is always what a query at that point of the transaction would
return, given that each column is written in its own type (TEXT as str, INT as int,
BLOB as bytes, as every view does): a value the store would coerce (SQLite's affinity
turning 0 into '0' in a TEXT column) is held as written. It holds what the view tables
hold (C1 values and encrypted blobs), nothing decrypted, and is dropped with the batch.

- `row(table, key, columns)`: the row's columns, or None when it does not exist;
- `remember(table, rows, column, values)`: what one prefetch query found (every row
  whose `column` is one of `values`), so a row not found is known not to exist;
- `updated`, `deleted`, `inserted`, `upserted`, `executed`: the effect of each write.

Rules of the writes it follows (rows identified by the full primary key):
- an UPDATE never creates or removes a row; it changes a watched value it names
  (full key) or, when it names watched columns of rows not identified by their full
  key or changes a key column, the table is forgotten;
- a DELETE by (part of) the primary key removes the rows it matches;
- INSERT ... ON CONFLICT DO NOTHING: the row exists after; its values are known only
  if it was known not to exist before;
- an upsert (ON CONFLICT on the primary key DO UPDATE the given columns): the given
  columns hold the given values after, whether it inserted or updated;
- any other statement on a table (`Tx.execute` with text of its own) is followed only
  when it is `UPDATE {table} SET ... WHERE ...` whose SET clause names no watched or
  key column; otherwise the table is forgotten.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from functools import lru_cache
from typing import Any

Row = dict[str, Any]
ABSENT = None  # a row known not to exist
_TABLE = re.compile(r"\{(\w+)\}")
_WORD = re.compile(r"\w+")


class TableRows:
    """What a batch knows of one table's rows."""

    def __init__(self, key: tuple[str, ...]) -> None:
        self.key = key
        self.watched: set[str] = set()
        self.rows: dict[tuple[Any, ...], Row | None] = {}
        self.prefetched: dict[str, set[Any]] = {}  # column -> values fully known

    def key_of(self, values: Mapping[str, Any]) -> tuple[Any, ...] | None:
        """The primary key of a row given by `values` (None if not all key columns)."""
        if not all(column in values for column in self.key):
            return None
        return tuple(values[column] for column in self.key)

    def known(self, key: tuple[Any, ...]) -> tuple[bool, Row | None]:
        """(known, row): the row (None: absent) if this batch knows whether it exists."""
        if key in self.rows:
            return True, self.rows[key]
        for column, values in self.prefetched.items():
            if key[self.key.index(column)] in values:
                return True, ABSENT
        return False, ABSENT

    def forget(self) -> None:
        self.rows.clear()
        self.prefetched.clear()


class BatchRows:
    """Rows known to one transaction (see the module docstring)."""

    def __init__(
        self,
        keys: Mapping[str, tuple[str, ...]],
        defaults: Mapping[str, Mapping[str, Any]] | None = None,
    ) -> None:
        self.keys = dict(keys)
        # table -> column -> its value in a row inserted without it (None: not known)
        self.defaults = {name: dict(values) for name, values in (defaults or {}).items()}
        self.tables: dict[str, TableRows] = {}
        self.hits = 0  # reads answered from memory
        self.misses = 0  # reads that had to query the store

    def table(self, name: str) -> TableRows:
        found = self.tables.get(name)
        if found is None:
            if name not in self.keys:
                raise KeyError(f"table {name} is not one of this view's tables")
            found = self.tables[name] = TableRows(self.keys[name])
        return found

    def row(
        self,
        name: str,
        key: Mapping[str, Any],
        columns: Sequence[str],
        read: Callable[[Sequence[str]], Row | None],
    ) -> Row | None:
        """The row's `columns` (None when it does not exist); `read(columns)` queries the
        store when this batch does not know them."""
        table = self.table(name)
        if set(key) != set(table.key):
            raise ValueError(f"a row of {name} is read by its primary key {table.key}")
        identity = table.key_of(key)
        assert identity is not None
        table.watched.update(columns)
        known, found = table.known(identity)
        if known and (found is None or all(c in found for c in columns)):
            self.hits += 1
            return None if found is None else {c: found[c] for c in columns}
        self.misses += 1
        fetched = read(sorted(table.watched))
        table.rows[identity] = None if fetched is None else dict(fetched)
        return None if fetched is None else {c: fetched[c] for c in columns}

    def remember(
        self, name: str, rows: Iterable[Mapping[str, Any]], column: str, values: Iterable[Any]
    ) -> None:
        """Record one prefetch: `rows` are every row whose `column` is in `values` (with
        the key and watched columns)."""
        table = self.table(name)
        for found in rows:
            identity = table.key_of(found)
            assert identity is not None
            known = table.rows.get(identity)
            table.rows[identity] = {**(known or {}), **{c: found[c] for c in table.watched}}
        table.prefetched.setdefault(column, set()).update(values)

    def watch(self, name: str, columns: Iterable[str]) -> TableRows:
        """Watch `columns` of a table (before a prefetch)."""
        table = self.table(name)
        table.watched.update(columns)
        return table

    # --- the writes ----------------------------------------------------------------------

    def updated(self, name: str, key: Mapping[str, Any], values: Mapping[str, Any]) -> None:
        table = self.tables.get(name)
        if table is None:
            return
        touched = set(values) & (table.watched | set(table.key))
        if not touched:
            return
        identity = table.key_of(key) if set(key) == set(table.key) else None
        if identity is None or set(values) & set(table.key):
            table.forget()
            return
        found = table.rows.get(identity)
        if found is not None:
            found.update({c: values[c] for c in touched})
        # a row known absent stays absent; an unknown row stays unknown

    def deleted(self, name: str, key: Mapping[str, Any]) -> None:
        table = self.tables.get(name)
        if table is None:
            return
        if not set(key) <= set(table.key):
            table.forget()
            return
        identity = table.key_of(key)
        if identity is not None:
            table.rows[identity] = ABSENT
            return
        positions = [(table.key.index(c), v) for c, v in key.items()]
        for known in table.rows:
            if all(known[i] == v for i, v in positions):
                table.rows[known] = ABSENT

    def inserted(self, name: str, values: Mapping[str, Any]) -> None:
        """INSERT ... ON CONFLICT DO NOTHING."""
        table = self.tables.get(name)
        if table is None:
            return
        identity = table.key_of(values)
        if identity is None:
            table.forget()
            return
        known, found = table.known(identity)
        if found is not None:
            return  # the insert was ignored
        if not known:
            table.rows[identity] = {}
            return
        # a new row: a watched column not given holds its default, when that is known
        defaults = self.defaults.get(name, {})
        table.rows[identity] = {
            c: values[c] if c in values else defaults[c]
            for c in table.watched
            if c in values or c in defaults
        }

    def upserted(self, name: str, key: Sequence[str], values: Mapping[str, Any]) -> None:
        """INSERT ... ON CONFLICT (key) DO UPDATE SET every given non-key column."""
        table = self.tables.get(name)
        if table is None:
            return
        if set(key) != set(table.key):
            table.forget()
            return
        if not set(values) - set(key):
            self.inserted(name, values)  # DO NOTHING
            return
        identity = table.key_of(values)
        assert identity is not None
        _, found = table.known(identity)
        given = {c: values[c] for c in table.watched if c in values}
        table.rows[identity] = {**(found or {}), **given}

    def executed(self, statement: str) -> None:
        """A statement of a handler's own text (tables named `{logical}`)."""
        for name, assigned in _assignments(statement):
            table = self.tables.get(name)
            if table is not None and (
                assigned is None or not assigned.isdisjoint(table.watched | set(table.key))
            ):
                table.forget()


@lru_cache(maxsize=1024)
def _assignments(statement: str) -> tuple[tuple[str, frozenset[str] | None], ...]:
    """Each table a statement names, with the words of its SET clause when the statement
    is `UPDATE {table} SET ... WHERE ...` (None otherwise: it may do anything there)."""
    found = []
    for name in sorted(set(_TABLE.findall(statement))):
        # greedy: the SET clause runs to the last WHERE, any subquery's included
        match = re.match(
            r"\s*UPDATE\s+\{" + name + r"\}\s+SET\s+(.*)\s+WHERE\s", statement, re.S | re.I
        )
        found.append((name, frozenset(_WORD.findall(match.group(1))) if match else None))
    return tuple(found)
