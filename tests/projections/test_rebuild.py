"""Rebuilding from zero: the same rows as incremental processing, and no gap in service."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime

import pytest

from demo.year import generate_demo
from projections.runtime import ReadModels
from security.bootstrap import Ledger
from tests.domain.factories import COMPLIANCE, FRONT, RM, Clock
from tests.projections.world import dump, populate, register

pytestmark = pytest.mark.integration


def test_a_rebuild_from_zero_gives_every_row_incremental_processing_gave(
    ledger: Ledger, clock: Clock, models: ReadModels
) -> None:
    app = ledger.app
    world = populate(app, clock)
    models.projector(batch_size=3).catch_up()
    generate_demo(app, customers=12, seed=5, end=date(2026, 2, 28))
    models.projector(batch_size=17).catch_up()
    app.request_erasure(world.elder, FRONT)
    app.end_relationship(world.elder, RM)
    clock.set(datetime(2036, 3, 3, 9, tzinfo=UTC))
    app.erase_customer(world.elder, COMPLIANCE)  # its earlier events become unreadable
    models.projector(batch_size=500).catch_up()
    incremental = dump(models)
    assert all(incremental.values()), [t for t, rows in incremental.items() if not rows]

    installed = secondary_indexes(models)
    assert sum(len(found) for found in installed.values()) == sum(
        len(table.indexes) for projection in models.projections for table in projection.tables
    )

    for batch_size in (64, None):  # None: the rebuild's own (REBUILD_BATCH)
        done = models.rebuild(batch_size=batch_size) if batch_size is not None else models.rebuild()
        assert done.position == app.recorder.max_notification_id()
        rebuilt = dump(models)
        for table, rows in incremental.items():
            assert len(rebuilt[table]) == len(rows), table
            for before, after in zip(rows, rebuilt[table], strict=True):
                assert before == after, table
        assert rebuilt == incremental
        # the shadows were filled without their secondary indexes: built before the swap
        assert secondary_indexes(models) == installed


def secondary_indexes(models: ReadModels) -> dict[str, list[str]]:
    """Each view table's secondary indexes, as the columns they cover."""
    store = models.store
    if store.kind == "sqlite":
        rows = store.rows(
            "SELECT tbl_name AS t, sql AS d FROM sqlite_master "
            "WHERE type='index' AND sql IS NOT NULL"
        )
    else:
        rows = store.rows(
            "SELECT tablename AS t, indexdef AS d FROM pg_indexes "
            "WHERE schemaname = COALESCE(NULLIF(?, ''), current_schema()) "
            "AND position('UNIQUE' in indexdef) = 0",  # not the primary keys
            (store.dialect.schema,),
        )
    found: dict[str, list[str]] = {}
    for row in rows:
        if str(row["t"]).startswith("pv_") and "__next" not in str(row["t"]):
            columns = re.search(r"\(([^()]*)\)\s*$", str(row["d"]))
            assert columns is not None, row
            found.setdefault(str(row["t"]), []).append(columns.group(1).replace(" ", ""))
    return {table: sorted(columns) for table, columns in sorted(found.items())}


def test_the_old_views_serve_until_the_rebuilt_ones_are_swapped_in(
    ledger: Ledger, clock: Clock, models: ReadModels
) -> None:
    app = ledger.app
    world = populate(app, clock)
    models.catch_up()
    follower = models.follow(poll_interval=0.05)  # the live views keep moving meanwhile
    before = models.customers.search().items
    seen_during: list[tuple[int, int]] = []
    newcomers = []

    def during(position: int, head: int) -> None:
        served = models.customers.search()
        assert served.total >= len(before)  # the old tables answer, complete
        seen_during.append((position, models.tracking.positions()["customers"].generation))
        if len(newcomers) < 2:  # writes keep arriving during the rebuild
            newcomers.append(register(app, f"Newcomer {len(newcomers)}", "13700000000"))

    done = models.rebuild(["customers"], batch_size=4, progress=during)
    assert len(seen_during) > 3
    *building, (_, swapped) = seen_during  # the last report comes after the swap
    assert {generation for _, generation in building} == {1} and swapped == 2
    assert done.generation == 2 and done.views == ("customers",)
    head = app.recorder.max_notification_id()
    models.wait_for(["customers", "cases", "consents", "kpis", "crises"], head, 10)
    follower.stop()
    status = {s.name: s for s in models.statuses()}
    assert status["customers"].generation == 2 and status["customers"].rebuilding_at is None
    assert status["cases"].generation == 1
    for customer_id in (*newcomers, world.elder):
        assert models.customers.customer_360(str(customer_id))["status"] == "active"
    after_swap = dump(models)
    models.rebuild()
    assert dump(models) == after_swap


def test_a_view_built_for_another_schema_is_set_aside_until_rebuilt(
    ledger: Ledger, clock: Clock, models: ReadModels
) -> None:
    populate(ledger.app, clock)
    models.catch_up()
    with models.store.transaction(commit=True) as cursor:
        models.store.dialect.execute(
            cursor,
            f"UPDATE {models.tracking.table} SET schema_hash='older' WHERE name='cases'",
        )
    register(ledger.app, "Late Comer", "13700000009")
    assert "cases" not in [p.name for p in models.projector().projections]
    models.catch_up()
    readiness = models.readiness()
    assert not readiness.ready
    assert readiness.reasons == ("cases: built for another schema, rebuild it",)
    models.rebuild(["cases"])
    assert models.readiness().ready
