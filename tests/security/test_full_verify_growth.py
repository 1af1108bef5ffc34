"""`ledger verify --full` reads the store in work linear in the log (issue 12 item 5).

A full verify read the stored tree nodes in keyset batches whose condition
(`level>? OR (level=? AND idx>?)`) neither PostgreSQL nor SQLite turns into an index
range: each batch scanned the index from its start, and the rows read per verified
event grew with the log (the scale benchmark's full verify went 57 -> 107 us an event
from 100k to 1M events). These tests count the rows each statement of the verify
reads (PostgreSQL: `EXPLAIN ANALYZE`, rows returned plus rows removed by a filter;
SQLite: virtual machine steps) at two log sizes: per verified event it must not grow.
No timing is asserted. The statements counted are the ledger's own (`Dialect.execute`:
leaves, tree nodes, checkpoints, key store); the events are read through the event
sourcing library's `select_notifications`, a keyset read on the notification id index.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from security.bootstrap import Ledger, Settings, build_ledger
from security.dialect import Dialect
from security.integrity import sealed_log
from tests.support.sample import SampleApp

pytestmark = pytest.mark.integration

BATCH = 8  # rows a batch, so a small log takes many batches
SMALL, LARGE = 96, 384


@pytest.fixture
def ledger(ledger_config: Settings) -> Iterator[Ledger]:
    built = build_ledger(ledger_config, app_class=SampleApp)
    yield built
    built.close()


def grow(ledger: Ledger, events: int) -> None:
    written = ledger.sealed_log.sealed_size()
    while written < events:
        for _ in range(min(16, events - written)):
            ledger.app.register(f"P{written}", "13900000000", f"ID{written}")
            written += 1
        ledger.seal()


def _pg_rows(plan: dict[str, Any]) -> int:
    """Rows a PostgreSQL plan node and its children produced or filtered away."""
    loops = int(plan.get("Actual Loops", 1))
    rows = (int(plan.get("Actual Rows", 0)) + int(plan.get("Rows Removed by Filter", 0))) * loops
    return rows + sum(_pg_rows(child) for child in plan.get("Plans", []))


class RowsRead:
    """Wraps Dialect.execute: before each SELECT runs, the same statement is measured
    (the rows it reads, per statement kind)."""

    def __init__(self) -> None:
        self.by_table: dict[str, int] = {}
        self.statements = 0

    def measure(
        self, dialect: Dialect, cursor: Any, statement: str, params: tuple[Any, ...]
    ) -> int:
        if dialect.name == "postgres":
            cursor.execute(
                "EXPLAIN (ANALYZE, FORMAT JSON) " + dialect.sql(statement), params, prepare=False
            )
            raw = cursor.fetchone()
            value = next(iter(raw.values())) if isinstance(raw, dict) else raw[0]
            plan = value if isinstance(value, list) else json.loads(value)
            return _pg_rows(plan[0]["Plan"])
        inner = getattr(cursor, "sqlite_cursor", cursor)
        connection = inner.connection
        steps = [0]

        def step() -> int:
            steps[0] += 1
            return 0

        connection.set_progress_handler(step, 1)
        try:
            connection.execute(statement, params).fetchall()
        finally:
            connection.set_progress_handler(None, 1)
        return steps[0]

    def install(self, monkeypatch: pytest.MonkeyPatch) -> None:
        original = Dialect.execute

        def execute(
            dialect: Dialect, cursor: Any, statement: str, params: tuple[Any, ...] = ()
        ) -> None:
            if statement.lstrip().upper().startswith("SELECT"):
                self.statements += 1
                table = (
                    statement.split(" FROM ", 1)[-1].split()[0].rstrip(")")
                    if " FROM " in statement
                    else "-"
                )
                self.by_table[table] = self.by_table.get(table, 0) + self.measure(
                    dialect, cursor, statement, params
                )
            original(dialect, cursor, statement, params)

        monkeypatch.setattr(Dialect, "execute", execute)


def rows_read_by_full_verify(ledger: Ledger, monkeypatch: pytest.MonkeyPatch) -> dict[str, int]:
    counter = RowsRead()
    with monkeypatch.context() as patch:
        counter.install(patch)
        report = ledger.verify(full=True)
    assert report.ok, report.problems[:3]
    assert counter.statements > 0
    return counter.by_table


def test_rows_read_per_verified_event_do_not_grow_with_the_log(
    ledger: Ledger, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sealed_log, "BATCH", BATCH)
    grow(ledger, SMALL)
    small = rows_read_by_full_verify(ledger, monkeypatch)
    grow(ledger, LARGE)
    large = rows_read_by_full_verify(ledger, monkeypatch)
    assert set(small) == set(large)
    grew = {}
    for table, rows in large.items():
        per_small, per_large = small[table] / SMALL, rows / LARGE
        # linear reading keeps the rows an event alike at 4x the log; a scan from the
        # start of the index each batch makes them grow with the log (about 4x here)
        if per_large > 1.5 * per_small + 2:
            grew[table] = (round(per_small, 1), round(per_large, 1))
    assert not grew, f"rows read per verified event grew from {SMALL} to {LARGE} events: {grew}"
