"""The transaction a view's handlers write through: `Tx`, its queued set-wise writes
grouped into `executemany` calls, and its reads of rows (projections.batch_rows).

Handlers name tables `{logical}` and use `?` placeholders; `Tx` resolves the physical
(live or shadow, schema-qualified) names of its transaction.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from functools import lru_cache
from typing import Any

from projections.batch_rows import BatchRows
from security.dialect import Dialect


class Tx:
    """Statements of one projector transaction, with table names resolved.

    Statements name tables as `{pv_customer}`; they are replaced by the physical
    (live or shadow, schema-qualified) names of this transaction.

    Set-wise (the projector's default): writes are queued, not run, and `flush` sends
    them in order, each run of consecutive identical statements as one `executemany`
    (on PostgreSQL inside the batch's pipeline). A read (`all`, `one`) flushes first,
    so it sees every earlier write; the projector flushes before it commits. The
    statements, their parameters and their order are those of one-by-one execution
    (`setwise=False`), with one exception that leaves the same rows: an `update` that
    follows an `update` of the same row (same table, same key values) with nothing in
    between is merged into it (one UPDATE setting both column sets, the later value
    winning), as when a handler re-encrypts a row's personal fields and then stamps
    its clear columns.

    Set-wise, a handler's reads of a row by its primary key (`row`) are answered from
    the rows the transaction already read or wrote (projections.batch_rows), and a view
    can `prefetch` the rows its batch will read with one query: a read of the store is
    made only for what the transaction does not know. One-by-one, `row` queries the
    store every time (and `prefetch` does nothing).
    """

    def __init__(
        self,
        cursor: Any,
        dialect: Dialect,
        names: Mapping[str, str],
        *,
        setwise: bool = False,
        keys: Mapping[str, tuple[str, ...]] | None = None,
        defaults: Mapping[str, Mapping[str, Any]] | None = None,
    ) -> None:
        self.cursor = cursor
        self.dialect = dialect
        self.names = dict(names)
        self.setwise = setwise
        self.statements = 0  # statements run or queued (after merging) through this transaction
        self.merged = 0  # updates merged into the update of the same row before them
        self.reads = 0  # queries of the store (`all`, `one`, `row` when not known, `prefetch`)
        # the rows this transaction knows (set-wise, with the tables' primary keys)
        self.rows = BatchRows(keys, defaults) if setwise and keys is not None else None
        self._keys = dict(keys or {})
        # queued: (statement, parameters, the row it writes or None when not known)
        self._queued: list[tuple[str, tuple[Any, ...], Footprint]] = []
        self._resolved: dict[str, str] = {}
        # the last queued statement, when it is an `update`: (table, key, values)
        self._last_update: tuple[str, dict[str, Any], dict[str, Any]] | None = None

    def _resolve(self, statement: str) -> str:
        resolved = self._resolved.get(statement)
        if resolved is None:
            resolved = self._resolved[statement] = statement.format_map(self.names)
        return resolved

    def execute(self, statement: str, params: Sequence[Any] = ()) -> None:
        """Run (set-wise: queue) one statement (tables named `{logical}`, `?` placeholders)."""
        if self.rows is not None:
            self.rows.executed(statement)
        self._write(statement, params)

    def _write(
        self,
        statement: str,
        params: Sequence[Any],
        row: tuple[str, Mapping[str, Any]] | None = None,  # (table, values naming its key)
    ) -> None:
        self.statements += 1
        self._last_update = None
        if self.setwise:
            footprint = None
            if row is not None and (key := self._keys.get(row[0])) and set(row[1]) >= set(key):
                footprint = (row[0], tuple(row[1][column] for column in key))
            self._queued.append((self._resolve(statement), tuple(params), footprint))
        else:
            self.dialect.execute(self.cursor, self._resolve(statement), tuple(params))

    def flush(self) -> int:
        """Run every queued write, in order, one `executemany` per run of identical
        statements; returns how many calls that took.

        Between two statements of unknown effect (a handler's own text, a delete by part
        of a key), the writes of one row each (by its primary key) are grouped: a row's
        writes keep their order, and writes of different rows, which commute, are sent
        as one `executemany` per statement."""
        queued, self._queued = self._queued, []
        self._last_update = None
        runs: list[tuple[str, list[tuple[Any, ...]]]] = []
        segment: list[tuple[str, tuple[Any, ...], Footprint]] = []
        for item in [*queued, ("", (), None)]:
            if item[2] is not None:
                segment.append(item)
                continue
            for statement, params in _grouped(segment):
                _extend(runs, statement, params)
            segment = []
            if item[0]:
                _extend(runs, item[0], [item[1]])
        for statement, rows in runs:
            if len(rows) == 1:
                self.dialect.execute(self.cursor, statement, rows[0])
            else:
                self.dialect.executemany(self.cursor, statement, rows)
        return len(runs)

    def all(self, statement: str, params: Sequence[Any] = ()) -> list[dict[str, Any]]:
        """Every row of one statement, as dicts (after every queued write)."""
        self.flush()
        self.statements += 1
        self.reads += 1
        cursor = self.cursor
        if self.dialect.name == "postgres":
            # a cursor of its own on the transaction's connection, so its fetch can only
            # see its own result: in psycopg's pipeline mode a cursor that also ran
            # writes was seen (rarely, under load) to fetch a queued write's result (set-wise
            # after an `executemany`; one-by-one after an UPDATE, once the pipeline
            # spanned every view of the batch)
            cursor = cursor.connection.cursor()
        self.dialect.execute(cursor, self._resolve(statement), tuple(params))
        return [dict(row) for row in cursor.fetchall()]

    def one(self, statement: str, params: Sequence[Any] = ()) -> dict[str, Any] | None:
        """The first row of one statement, or None."""
        found = self.all(statement, params)
        return found[0] if found else None

    def row(
        self, table: str, key: Mapping[str, Any], columns: Sequence[str] = ()
    ) -> dict[str, Any] | None:
        """The `columns` of the row of `table` with primary key `key`, or None when there
        is no such row (set-wise: from memory when this transaction knows the row)."""

        def read(wanted: Sequence[str]) -> dict[str, Any] | None:
            where = " AND ".join(f"{c}=?" for c in key)
            found = self.one(
                f"SELECT {', '.join(wanted) or '1 AS present'} FROM {{{table}}} WHERE {where}",
                list(key.values()),
            )
            return None if found is None else {c: found[c] for c in wanted}

        if self.rows is None:
            return read(columns)
        return self.rows.row(table, key, columns, read)

    def prefetch(
        self, table: str, column: str, values: Iterable[Any], columns: Sequence[str] = ()
    ) -> None:
        """Set-wise: read, with one query per PREFETCH_CHUNK values, the key and `columns`
        of every row of `table` whose key column `column` is one of `values`, so that
        `row` knows them (and that the others do not exist). One-by-one: nothing."""
        if self.rows is None:
            return
        known = self.rows.watch(table, columns)
        if column not in known.key:
            raise ValueError(f"{table} is prefetched by a column of its primary key")
        done = known.prefetched.get(column, set())
        wanted = sorted({value for value in values if value not in done})
        selected = ", ".join(sorted(set(known.key) | known.watched))
        for start in range(0, len(wanted), PREFETCH_CHUNK):
            chunk = wanted[start : start + PREFETCH_CHUNK]
            found = self.all(
                f"SELECT {selected} FROM {{{table}}} WHERE {column} IN "
                f"({', '.join('?' for _ in chunk)})",
                chunk,
            )
            self.rows.remember(table, found, column, chunk)

    def insert_ignore(self, table: str, values: Mapping[str, Any]) -> None:
        """Insert a row unless its key exists."""
        self._write(_insert_ignore(table, tuple(values)), list(values.values()), (table, values))
        if self.rows is not None:
            self.rows.inserted(table, values)

    def upsert(self, table: str, key: Sequence[str], values: Mapping[str, Any]) -> None:
        """Insert the row, or update its non-key columns when its key exists."""
        self._write(
            _upsert(table, tuple(key), tuple(values)),
            list(values.values()),
            (table, values) if set(key) == set(self._keys.get(table, ())) else None,
        )
        if self.rows is not None:
            self.rows.upserted(table, key, values)

    def update(self, table: str, key: Mapping[str, Any], values: Mapping[str, Any]) -> None:
        """Set `values` on the row(s) matching `key` (set-wise: merged into an update of
        the same row queued just before, see the class docstring)."""
        last = self._last_update
        if last is not None and last[0] == table and last[1] == key:
            self._queued.pop()
            self.statements -= 1
            self.merged += 1
            values = {**last[2], **values}
        moves = not set(values).isdisjoint(key)  # a key column changes: the row moves
        self._write(
            _update(table, tuple(key), tuple(values)),
            [*values.values(), *key.values()],
            (table, key) if set(key) == set(self._keys.get(table, ())) and not moves else None,
        )
        if self.rows is not None:
            self.rows.updated(table, key, values)
        if self.setwise and not moves:
            self._last_update = (table, dict(key), dict(values))

    def delete(self, table: str, key: Mapping[str, Any]) -> None:
        """Delete the rows matching `key`."""
        self._write(
            _delete(table, tuple(key)),
            list(key.values()),
            (table, key) if set(key) == set(self._keys.get(table, ())) else None,
        )
        if self.rows is not None:
            self.rows.deleted(table, key)


PREFETCH_CHUNK = 500  # values per prefetch query
Footprint = tuple[str, tuple[Any, ...]] | None  # (logical table, primary key) of one row


def _extend(runs: list[tuple[str, list[tuple[Any, ...]]]], statement: str, rows: Any) -> None:
    """Append parameter rows to the last run if it is of the same statement."""
    if runs and runs[-1][0] == statement:
        runs[-1][1].extend(rows)
    else:
        runs.append((statement, list(rows)))


def _grouped(
    segment: Sequence[tuple[str, tuple[Any, ...], Footprint]],
) -> Iterable[tuple[str, list[tuple[Any, ...]]]]:
    """Writes of one row each, in waves: the n-th write of each row in wave n (so a
    row's writes keep their order), each wave's writes grouped by statement."""
    wave_of: dict[Footprint, int] = {}
    waves: list[dict[str, list[tuple[Any, ...]]]] = []
    for statement, params, footprint in segment:
        wave = wave_of[footprint] = wave_of.get(footprint, -1) + 1
        if wave == len(waves):
            waves.append({})
        waves[wave].setdefault(statement, []).append(params)
    for grouped in waves:
        yield from grouped.items()


@lru_cache(maxsize=1024)
def _insert_ignore(table: str, columns: tuple[str, ...]) -> str:
    marks = ", ".join("?" for _ in columns)
    return f"INSERT INTO {{{table}}} ({', '.join(columns)}) VALUES ({marks}) ON CONFLICT DO NOTHING"


@lru_cache(maxsize=1024)
def _upsert(table: str, key: tuple[str, ...], columns: tuple[str, ...]) -> str:
    marks = ", ".join("?" for _ in columns)
    updates = ", ".join(f"{c}=excluded.{c}" for c in columns if c not in key)
    action = f"DO UPDATE SET {updates}" if updates else "DO NOTHING"
    return (
        f"INSERT INTO {{{table}}} ({', '.join(columns)}) VALUES ({marks}) "
        f"ON CONFLICT ({', '.join(key)}) {action}"
    )


@lru_cache(maxsize=1024)
def _update(table: str, key: tuple[str, ...], columns: tuple[str, ...]) -> str:
    sets = ", ".join(f"{c}=?" for c in columns)
    where = " AND ".join(f"{c}=?" for c in key)
    return f"UPDATE {{{table}}} SET {sets} WHERE {where}"


@lru_cache(maxsize=1024)
def _delete(table: str, key: tuple[str, ...]) -> str:
    where = " AND ".join(f"{c}=?" for c in key)
    return f"DELETE FROM {{{table}}} WHERE {where}"
