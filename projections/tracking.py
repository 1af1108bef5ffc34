"""The position of every view in the log, kept in the views' own store.

Table `pv_tracking`: one row per view (and one per rebuild in progress, named
`<view>@next`): the notification id of the last event it reflects, the generation of
its tables, how many undecryptable (erased) events it skipped, and when it last
reached the head of the log.

Exactly once: a projector moves a position only with a compare-and-set
(`advance`), inside the transaction that writes the view change, and the statement
is the transaction's first write. Two projectors racing on one view cannot both
apply the same events: the loser's update matches no row and its transaction rolls
back. A redelivered event is at or below the position and is never applied again.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from eventsourcing.persistence import IntegrityError

from projections.store import ViewStore

TRACKING = "pv_tracking"
APPLICATION_NAME = "Ledger"


class PositionConflict(IntegrityError):
    """Another projector moved the view first; this transaction must roll back."""


@dataclass(frozen=True)
class Position:
    """Where one view stands in the log."""

    name: str
    position: int
    generation: int
    schema_hash: str
    skipped: int
    last_skipped: int | None
    synced_at: str | None
    updated_at: str | None
    error: str | None


def now_text() -> str:
    """The current wall-clock time as fixed-width UTC ISO 8601 (sorts as text)."""
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def tracking_ddl(store: ViewStore) -> list[str]:
    """The tracking table's DDL."""
    bigint = store.dialect.bigint
    return [
        f"CREATE TABLE IF NOT EXISTS {store.table(TRACKING)} ("
        "name TEXT PRIMARY KEY, application_name TEXT NOT NULL, "
        f"position {bigint} NOT NULL, generation {bigint} NOT NULL, "
        "schema_hash TEXT NOT NULL, "
        f"skipped {bigint} NOT NULL, last_skipped {bigint}, "
        "synced_at TEXT, updated_at TEXT, error TEXT)"
    ]


def _position(row: Any) -> Position:
    return Position(
        name=row["name"],
        position=int(row["position"]),
        generation=int(row["generation"]),
        schema_hash=row["schema_hash"],
        skipped=int(row["skipped"]),
        last_skipped=None if row["last_skipped"] is None else int(row["last_skipped"]),
        synced_at=row["synced_at"],
        updated_at=row["updated_at"],
        error=row["error"],
    )


class Tracking:
    """Reads and moves positions. Every write happens on a caller's cursor."""

    def __init__(self, store: ViewStore) -> None:
        self.store = store
        self.table = store.table(TRACKING)

    def positions(self) -> dict[str, Position]:
        """Every tracked view and rebuild, by name."""
        rows = self.store.rows(f"SELECT * FROM {self.table}")
        return {row["name"]: _position(row) for row in rows}

    def get(self, name: str, cursor: Any | None = None) -> Position | None:
        """One view's position (on `cursor` when given, so inside its transaction)."""
        statement = f"SELECT * FROM {self.table} WHERE name=?"
        if cursor is None:
            row = self.store.row(statement, (name,))
        else:
            self.store.dialect.execute(cursor, statement, (name,))
            row = cursor.fetchone()
        return None if row is None else _position(row)

    def create(self, cursor: Any, name: str, generation: int, schema_hash: str) -> None:
        """Start tracking `name` at position 0 (no-op if it is tracked already)."""
        self.store.dialect.execute(
            cursor,
            f"INSERT INTO {self.table} (name, application_name, position, generation, "
            "schema_hash, skipped, last_skipped, synced_at, updated_at, error) "
            "VALUES (?,?,0,?,?,0,NULL,NULL,?,NULL) ON CONFLICT (name) DO NOTHING",
            (name, APPLICATION_NAME, generation, schema_hash, now_text()),
        )

    def advance(
        self,
        cursor: Any,
        seen: Position,
        to: int,
        *,
        skipped: int = 0,
        last_skipped: int | None = None,
        synced: bool = False,
    ) -> None:
        """Move `seen.name` from `seen.position` to `to`; PositionConflict if it moved.

        Compare-and-set on (position, generation): call it first in the transaction
        that writes the view change, so the change and the position commit together.
        """
        stamp = now_text()
        self.store.dialect.execute(
            cursor,
            f"UPDATE {self.table} SET position=?, skipped=skipped+?, "
            "last_skipped=COALESCE(?, last_skipped), synced_at=?, updated_at=?, error=NULL "
            "WHERE name=? AND position=? AND generation=?",
            (
                to,
                skipped,
                last_skipped,
                stamp if synced else seen.synced_at,
                stamp,
                seen.name,
                seen.position,
                seen.generation,
            ),
        )
        if self.store.dialect.rowcount(cursor) != 1:
            raise PositionConflict(f"view {seen.name} moved past {seen.position} meanwhile")

    def mark_synced(self, seen: list[Position]) -> None:
        """Record that the views `seen` were found at the head of the log just now."""
        stamp = now_text()
        with self.store.transaction(commit=True) as cursor:
            for position in seen:
                self.store.dialect.execute(
                    cursor,
                    f"UPDATE {self.table} SET synced_at=?, error=NULL "
                    "WHERE name=? AND position=? AND generation=?",
                    (stamp, position.name, position.position, position.generation),
                )

    def record_error(self, name: str, error: str) -> None:
        """Remember why a view could not move (shown by `ledger projections status`)."""
        with self.store.transaction(commit=True) as cursor:
            self.store.dialect.execute(
                cursor, f"UPDATE {self.table} SET error=? WHERE name=?", (error[:200], name)
            )

    def wait_for(self, names: list[str], position: int, timeout: float) -> int:
        """Block until every view in `names` reflects `position` or `timeout` runs out.

        Returns the lowest of their positions (>= `position` on success; lower when
        the time ran out: the caller decides what a timeout means).
        """
        deadline = time.monotonic() + max(0.0, timeout)
        interval = 0.01
        while True:
            found = self.positions()
            lowest = min((found[n].position if n in found else 0) for n in names)
            if lowest >= position or time.monotonic() >= deadline:
                return lowest
            time.sleep(min(interval, max(0.0, deadline - time.monotonic())))
            interval = min(interval * 2, 0.2)
