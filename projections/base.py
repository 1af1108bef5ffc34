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

from projections.field_encryption import BlindIndex, FieldCipher
from projections.store import Table, ViewStore
from projections.transaction import Tx as Tx  # re-exported: the views import it from here
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

    def defaults(self) -> dict[str, dict[str, Any]]:
        """Logical table name -> each column's value in a row inserted without it."""
        return {t.name: t.defaults() for t in self.tables}

    def ddl(
        self, dialect: Dialect, *, shadow: bool, generation: int, indexes: bool = True
    ) -> list[str]:
        """CREATE statements of every table (live or shadow); `indexes=False`: without
        their secondary indexes (`index_ddl`)."""
        return [
            s
            for t in self.tables
            for s in t.ddl(dialect, shadow=shadow, generation=generation, indexes=indexes)
        ]

    def index_ddl(self, dialect: Dialect, *, shadow: bool, generation: int) -> list[str]:
        """CREATE statements of every table's secondary indexes."""
        return [
            s
            for t in self.tables
            for s in t.index_ddl(dialect, shadow=shadow, generation=generation)
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
