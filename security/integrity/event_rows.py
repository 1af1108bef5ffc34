"""The event store as a leaf source that survives malformed rows.

The library's recorders parse each row as they read it (SQLite: the originator id
into a UUID), so one hand-edited row would crash the sealer and `ledger verify`
on the whole batch. `TolerantEventSource` reads through the recorder as usual and,
only when that fails, reads the same rows with plain SQL: a row that cannot be
parsed becomes a `MalformedEventRow`, whose `leaf()` raises `MalformedEntry`
naming its notification id, so the verification reports that row and goes on.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from eventsourcing.persistence import ApplicationRecorder

from security.dialect import Dialect
from security.integrity.sealed_log import EventRow, EventSource, SourceRow


class MalformedEntry(ValueError):
    """A stored row that cannot be turned into a leaf."""


@dataclass(frozen=True)
class MalformedEventRow:
    """An event row whose columns cannot be parsed: it has an id and nothing else."""

    id: int
    reason: str

    def leaf(self, seq: int) -> bytes:
        raise MalformedEntry(f"notification {self.id}: {self.reason}")


def _event_row(row: Any) -> EventRow | MalformedEventRow:
    nid = int(row["id"])
    originator = row["originator_id"]
    try:
        originator_id = originator if isinstance(originator, UUID) else UUID(str(originator))
    except ValueError:
        return MalformedEventRow(nid, "its originator id is not a UUID")
    try:
        version = int(row["originator_version"])
    except (TypeError, ValueError):
        return MalformedEventRow(nid, "its originator version is not an integer")
    return EventRow(nid, originator_id, version, row["topic"], row["state"])


class TolerantEventSource:
    """`EventSource`, falling back to plain SQL row by row when the recorder fails."""

    def __init__(self, recorder: ApplicationRecorder, datastore: Any, dialect: Dialect) -> None:
        self.recorder = recorder
        self.datastore = datastore
        self.dialect = dialect
        self.events = EventSource(recorder)

    def max_id(self) -> int | None:
        return self.events.max_id()

    def rows_after(
        self, last_id: int | None, limit: int, stop: int | None = None
    ) -> Sequence[SourceRow]:
        try:
            return self.events.rows_after(last_id, limit, stop)
        except (ValueError, TypeError):
            return self.raw_rows_after(last_id, limit, stop)

    def raw_rows_after(
        self, last_id: int | None, limit: int, stop: int | None = None
    ) -> list[EventRow | MalformedEventRow]:
        """The rows after `last_id`, read with plain SQL and parsed one by one."""
        name = str(getattr(self.recorder, "events_table_name", "stored_events"))
        if self.dialect.name == "sqlite":
            table, column = name, "rowid"
        else:
            table, column = self.dialect.table(name), "notification_id"
        params: list[Any] = [-1 if last_id is None else last_id]
        bound = ""
        if stop is not None:
            bound = f"AND {column}<=? "
            params.append(stop)
        with self.datastore.transaction(commit=False) as cursor:
            self.dialect.execute(
                cursor,
                f"SELECT {column} AS id, originator_id, originator_version, topic, state "
                f"FROM {table} WHERE {column}>? {bound}ORDER BY {column} LIMIT ?",
                (*params, limit),
            )
            return [_event_row(row) for row in cursor.fetchall()]


def one_line(exc: BaseException) -> str:
    """An exception as one short line (its first line, or its type's name)."""
    text = str(exc).strip().splitlines()
    return text[0][:200] if text else type(exc).__name__


def event_row(row: SourceRow) -> EventRow | None:
    """The row as an event, or None for a malformed one (the event log names those)."""
    return row if isinstance(row, EventRow) else None
