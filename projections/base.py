"""What every view projection shares: its tables, its handlers, and the transaction
helpers its handlers write through.

A projection is a plain object: `tables` (its schema), and `handlers()` mapping event
classes to functions `(tx, event, ctx) -> None`. Handlers write only through `Tx`,
on the cursor of the transaction that also moves the view's tracked position, and
they must be deterministic in the events (times come from the events, never from
the clock), so a rebuild from zero produces the very same rows.
"""

from __future__ import annotations

import hashlib
import json
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from functools import lru_cache
from typing import Any, ClassVar
from uuid import UUID

from eventsourcing.utils import get_topic

from projections.batch_rows import BatchRows
from projections.field_encryption import BlindIndex, FieldCipher
from projections.store import Table, ViewStore
from security.dialect import Dialect


def when(moment: datetime | None) -> str | None:
    """A time as fixed-width UTC ISO 8601 text (sorts correctly as text)."""
    if moment is None:
        return None
    return _utc_text(moment, moment.fold)


@lru_cache(maxsize=4096)
def _utc_text(moment: datetime, fold: int) -> str:
    # memoised: a handler stamps its event's time on several rows. `fold` is part of the
    # key because equal datetimes (same wall time in one zone) may differ only by it.
    del fold
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def day(value: date | datetime | None) -> str | None:
    """A date as ISO 8601 text."""
    if value is None:
        return None
    return (value.date() if isinstance(value, datetime) else value).isoformat()


def month(moment: datetime | date | None) -> str | None:
    """The calendar month (`YYYY-MM`) a time falls in: the KPI period."""
    if moment is None:
        return None
    if isinstance(moment, datetime):
        moment = moment.astimezone(UTC)
    return f"{moment.year:04d}-{moment.month:02d}"


def as_json(value: Any) -> str:
    """Compact, key-sorted JSON of C1 structures (lists of codes, metric maps)."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), default=str)


def plain(value: Any) -> Any:
    """A value in a JSON-friendly form for sealing (dates, decimals, UUIDs as text)."""
    if isinstance(value, datetime):
        return when(value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal | UUID):
        return str(value)
    if isinstance(value, Mapping):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    return value


@dataclass(frozen=True)
class EventContext:
    """What a handler knows about the event beside its fields."""

    position: int
    originator_id: str
    originator_version: int
    key_ref: str
    cipher: FieldCipher
    index: BlindIndex

    @property
    def evidence_ref(self) -> str:
        """A reference to this event in the log: `<originator id>@v<version>`."""
        return f"{self.originator_id}@v{self.originator_version}"


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
    ) -> None:
        self.cursor = cursor
        self.dialect = dialect
        self.names = dict(names)
        self.setwise = setwise
        self.statements = 0  # statements run or queued (after merging) through this transaction
        self.merged = 0  # updates merged into the update of the same row before them
        self.reads = 0  # queries of the store (`all`, `one`, `row` when not known, `prefetch`)
        # the rows this transaction knows (set-wise, with the tables' primary keys)
        self.rows = BatchRows(keys) if setwise and keys is not None else None
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
        if self.setwise and self.dialect.name == "postgres":
            # a cursor of its own on the transaction's connection, so its fetch can only
            # see its own result: in psycopg's pipeline mode a cursor that also ran an
            # `executemany` was seen (rarely, under load) to fetch a queued write's result
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


Handler = Callable[[Tx, Any, EventContext], None]


class ViewProjection(ABC):
    """A read model: its tables and how each event class changes them."""

    name: ClassVar[str] = ""
    tables: ClassVar[tuple[Table, ...]] = ()

    def __init__(self) -> None:
        self._handlers: dict[type, Handler] = dict(self.handlers())
        self.topics: tuple[str, ...] = tuple(sorted(get_topic(c) for c in self._handlers))

    @abstractmethod
    def handlers(self) -> Mapping[type, Handler]:
        """The event classes this view follows and what each does to it."""

    def apply(self, tx: Tx, event: Any, ctx: EventContext) -> bool:
        """Apply one event; False when this view does not follow its class."""
        handler = self._handlers.get(type(event))
        if handler is None:
            return False
        handler(tx, event, ctx)
        return True

    def prefetch(self, tx: Tx, events: Sequence[Any]) -> None:
        """Before a set-wise batch's `events` are applied: `tx.prefetch` the rows their
        handlers will read (nothing by default; a read of a row not prefetched costs a
        query of its own)."""
        del tx, events  # a view whose handlers read no rows prefetches nothing

    def keys(self) -> dict[str, tuple[str, ...]]:
        """Logical table name -> primary key columns."""
        return {t.name: t.key for t in self.tables}

    def ddl(self, dialect: Dialect, *, shadow: bool, generation: int) -> list[str]:
        """CREATE statements of every table (live or shadow)."""
        return [
            s for t in self.tables for s in t.ddl(dialect, shadow=shadow, generation=generation)
        ]

    def schema_hash(self) -> str:
        """Changes whenever the tables change: a view built to another schema needs a rebuild."""
        text = repr([(t.name, t.columns, t.key, t.indexes) for t in self.tables])
        return hashlib.sha256(text.encode()).hexdigest()[:16]

    def names(self, store: ViewStore, *, shadow: bool) -> dict[str, str]:
        """Logical table name -> physical, schema-qualified name."""
        return {t.name: store.table(t.physical(shadow)) for t in self.tables}

    def purge_customer(self, tx: Tx, customer_id: str, keep: Iterable[str] = ()) -> None:
        """Delete every row about a customer from this view's tables (erasure)."""
        kept = set(keep)
        for table in self.tables:
            if table.name not in kept and any(c.startswith("customer_id ") for c in table.columns):
                tx.delete(table.name, {"customer_id": customer_id})
