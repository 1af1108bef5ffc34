"""Set-wise batches: the projector queues each view's writes and sends runs of identical
statements with `executemany`, after preloading the batch's data keys in one query.
The rows must be exactly those of applying each event one statement at a time, and a
crash anywhere in a batch must leave nothing applied twice."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import pytest

from demo.year import generate_demo
from domain.errors import SubjectErased
from ledger_verify.leaf import hkdf_extract
from projections.projector import Projector
from projections.runtime import ReadModels, close_read_models, read_models
from projections.transaction import Tx
from security.bootstrap import Ledger, Settings, build_ledger
from security.dialect import Dialect
from tests.domain.factories import COMPLIANCE, FRONT, RM, Clock
from tests.projections.test_exactly_once import Crash, assert_counts_right, crash_at, reference
from tests.projections.world import dump, populate

CRASHES = (("flushed", 1), ("flushed", 3), ("applied", 9))


def one_by_one(models: ReadModels, batch_size: int) -> Projector:
    """A projector over every view that runs each statement as its event is applied."""
    return Projector(
        models.ledger, models.store, models.projections, batch_size=batch_size, setwise=False
    )


def demo_world(ledger: Ledger, clock: Clock) -> None:
    """The test world, a demo year of a few customers, and an erased customer."""
    app = ledger.app
    world = populate(app, clock)
    generate_demo(app, customers=10, seed=3, end=date(2026, 2, 28))
    app.request_erasure(world.elder, FRONT)
    app.end_relationship(world.elder, RM)
    clock.set(datetime(2036, 3, 3, 9, tzinfo=UTC))
    app.erase_customer(world.elder, COMPLIANCE)


@pytest.mark.integration
@pytest.mark.parametrize("batch_size", [1, 13, 10_000])
def test_set_wise_batches_give_exactly_the_rows_of_one_by_one_application(
    ledger: Ledger, clock: Clock, models: ReadModels, batch_size: int
) -> None:
    demo_world(ledger, clock)
    head = ledger.app.recorder.max_notification_id()
    assert one_by_one(models, batch_size).catch_up() == head
    single = dump(models)
    assert all(single.values()), [t for t, rows in single.items() if not rows]

    # the same log, every view rebuilt from zero set-wise, in batches of this size
    models.rebuild(batch_size=batch_size)
    assert models.projector(batch_size=batch_size).catch_up() == 0  # already at the head
    assert dump(models) == single


@pytest.mark.integration
def test_a_set_wise_batch_reads_the_rows_it_needs_once_and_the_rows_are_those_of_one_by_one(
    ledger: Ledger, clock: Clock, models: ReadModels
) -> None:
    demo_world(ledger, clock)
    head = ledger.app.recorder.max_notification_id()
    single = one_by_one(models, 10_000)
    assert single.catch_up() == head
    expected = dump(models)
    # every `reencrypt`, `contact`, consent grant and evaluation read a row of the store
    assert single.reads > 100

    # the same log, every view built from zero set-wise into shadow tables, in one batch
    setwise = Projector(ledger, models.store, models.projections, shadow=True, batch_size=10_000)
    setwise.install()
    assert setwise.catch_up() == head
    shadow = {
        table.name: [
            {k: bytes(v) if isinstance(v, memoryview) else v for k, v in row.items()}
            for row in models.store.dump(table.physical(True), table.key)
        ]
        for projection in models.projections
        for table in projection.tables
    }
    assert shadow == expected
    # one prefetch each of the customers', consents' and evaluations' rows (and a read
    # at most for a row whose watched values a write left unknown, e.g. a tombstone)
    assert setwise.reads <= 6, setwise.reads


@pytest.mark.integration
@pytest.mark.parametrize(
    "crash",
    [(stage, nth, size) for stage, nth in CRASHES for size in (7, 10_000)],
    ids=lambda crash: "-".join(map(str, crash)),
)
def test_a_crash_mid_batch_after_its_statements_ran_reapplies_nothing_twice(
    ledger: Ledger, ledger_config: Settings, clock: Clock, models: ReadModels, crash: Any
) -> None:
    """`flushed`: the view's queued statements of the batch have run in the store's
    transaction and the process dies before the commit; the batch is applied again
    after a restart, once."""
    stage, nth, batch_size = crash
    world = populate(ledger.app, clock)
    head = ledger.app.recorder.max_notification_id()
    before = dump(models)
    dying = models.projector(batch_size=batch_size, fault=crash_at(stage, nth))
    with pytest.raises(Crash):
        dying.catch_up()
    if batch_size >= head:  # the one batch rolled back: nothing of it is visible
        assert all(p.position == 0 for p in dying.positions().values())
        assert dump(models) == before

    restarted = build_ledger(ledger_config, clock=clock)
    try:
        again = read_models(restarted)
        again.projector(batch_size=batch_size).catch_up()
        assert_counts_right(again, world, head)
        assert dump(again) == reference(again)
    finally:
        close_read_models(restarted)
        restarted.close()


@pytest.mark.integration
def test_a_batch_preloads_its_keys_once_and_never_serves_a_shredded_one(
    ledger: Ledger, clock: Clock, models: ReadModels
) -> None:
    world = populate(ledger.app, clock)
    keystore = ledger.keystore
    refs = keystore.cached_refs(world.plain) + keystore.cached_refs(world.elder)
    keystore.drop_cache()  # a fresh process: nothing cached
    assert keystore.cached_refs(world.plain) == []
    assert keystore.preload(refs * 3) == len(set(refs))
    assert sorted(keystore.cached_refs(world.plain) + keystore.cached_refs(world.elder)) == sorted(
        set(refs)
    )
    assert keystore.preload(refs) == 0  # already cached: no query, nothing unwrapped
    for ref in refs:  # the event keys' HKDF extract is cached with its data key
        assert keystore.prk_by_ref(ref) == hkdf_extract(keystore.dek_by_ref(ref))

    elder_refs = keystore.cached_refs(world.elder)
    keystore.shred(world.elder)
    assert keystore.cached_refs(world.elder) == []
    assert keystore.preload(elder_refs) == 0  # a shredded key is never loaded
    assert keystore.cached_refs(world.elder) == []
    for ref in elder_refs:
        with pytest.raises(SubjectErased):
            keystore.dek_by_ref(ref)
        with pytest.raises(SubjectErased):
            keystore.prk_by_ref(ref)
    # the projector skips the erased subject's events and counts them
    models.catch_up()
    assert all(p.skipped > 0 for p in models.tracking.positions().values())


@pytest.mark.integration
def test_a_shred_during_a_preload_leaves_the_shredded_key_uncached(
    ledger: Ledger, clock: Clock, monkeypatch: pytest.MonkeyPatch
) -> None:
    world = populate(ledger.app, clock)
    keystore = ledger.keystore
    refs = keystore.cached_refs(world.elder)
    keystore.drop_cache()
    select = keystore._select

    def shred_meanwhile(statement: str, params: tuple[Any, ...]) -> list[Any]:
        rows = select(statement, params)  # the live key is read...
        monkeypatch.setattr(keystore, "_select", select)
        keystore.shred(world.elder)  # ...and shredded before it is cached
        return rows

    monkeypatch.setattr(keystore, "_select", shred_meanwhile)
    assert keystore.preload(refs) == 0
    assert keystore.cached_refs(world.elder) == []
    with pytest.raises(SubjectErased):
        keystore.dek_by_ref(refs[0])


class RecordingCursor:
    """Records what reaches the driver; answers every read with one row."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, str, list[tuple[Any, ...]]]] = []

    def execute(self, statement: str, params: tuple[Any, ...] = ()) -> None:
        self.calls.append(("execute", statement, [params]))

    def executemany(self, statement: str, rows: list[tuple[Any, ...]]) -> None:
        self.calls.append(("executemany", statement, list(rows)))

    def fetchall(self) -> list[dict[str, Any]]:
        return [{"x": 1}]


@pytest.mark.unit
def test_set_wise_statements_keep_their_order_and_a_read_sees_every_earlier_write() -> None:
    cursor = RecordingCursor()
    tx = Tx(cursor, Dialect("sqlite"), {"t": "pv_t", "u": "pv_u"}, setwise=True)
    tx.update("t", {"id": 1}, {"a": 1})
    tx.update("t", {"id": 2}, {"a": 2})
    tx.insert_ignore("u", {"id": 1})
    tx.update("t", {"id": 3}, {"a": 3})
    assert cursor.calls == []  # queued, not run
    assert tx.one("SELECT 1 AS x FROM {u} WHERE id=?", [1]) == {"x": 1}
    tx.delete("u", {"id": 1})
    tx.delete("u", {"id": 2})
    assert tx.flush() == 1
    assert tx.flush() == 0
    assert cursor.calls == [
        ("executemany", "UPDATE pv_t SET a=? WHERE id=?", [(1, 1), (2, 2)]),
        ("execute", "INSERT INTO pv_u (id) VALUES (?) ON CONFLICT DO NOTHING", [(1,)]),
        ("execute", "UPDATE pv_t SET a=? WHERE id=?", [(3, 3)]),
        ("execute", "SELECT 1 AS x FROM pv_u WHERE id=?", [(1,)]),
        ("executemany", "DELETE FROM pv_u WHERE id=?", [(1,), (2,)]),
    ]
    assert tx.statements == 7


@pytest.mark.unit
def test_one_by_one_statements_run_at_once() -> None:
    cursor = RecordingCursor()
    tx = Tx(cursor, Dialect("sqlite"), {"t": "pv_t"})
    tx.update("t", {"id": 1}, {"a": 1})
    tx.update("t", {"id": 2}, {"a": 2})
    assert [call[0] for call in cursor.calls] == ["execute", "execute"]
    assert tx.flush() == 0


@pytest.mark.unit
def test_an_update_of_the_row_just_updated_is_merged_into_it_later_values_winning() -> None:
    cursor = RecordingCursor()
    tx = Tx(cursor, Dialect("sqlite"), {"t": "pv_t"}, setwise=True)
    tx.update("t", {"id": 1}, {"a": 1, "b": 1})
    tx.update("t", {"id": 1}, {"c": 2, "b": 2})  # the same row: merged
    tx.update("t", {"id": 2}, {"a": 3})  # another row: not merged
    tx.execute("UPDATE {t} SET n=n+1 WHERE id=?", [2])
    tx.update("t", {"id": 2}, {"a": 4})  # a statement in between: not merged
    tx.flush()
    assert cursor.calls == [
        ("execute", "UPDATE pv_t SET a=?, b=?, c=? WHERE id=?", [(1, 2, 2, 1)]),
        ("execute", "UPDATE pv_t SET a=? WHERE id=?", [(3, 2)]),
        ("execute", "UPDATE pv_t SET n=n+1 WHERE id=?", [(2,)]),
        ("execute", "UPDATE pv_t SET a=? WHERE id=?", [(4, 2)]),
    ]
    assert (tx.statements, tx.merged) == (4, 1)
    tx.update("t", {"id": 2}, {"a": 5})  # after a flush: nothing queued to merge into
    assert tx.merged == 1


@pytest.mark.unit
def test_writes_of_different_rows_are_grouped_and_a_rows_writes_keep_their_order() -> None:
    cursor = RecordingCursor()
    keys = {"t": ("id",), "u": ("id",)}
    tx = Tx(cursor, Dialect("sqlite"), {"t": "pv_t", "u": "pv_u"}, setwise=True, keys=keys)
    tx.update("t", {"id": 1}, {"a": 1})
    tx.insert_ignore("u", {"id": 1})
    tx.update("t", {"id": 2}, {"a": 2})  # another row: joins the first update
    tx.delete("u", {"id": 1})  # the same row as the insert: after it
    tx.update("t", {"id": 1}, {"b": 1})  # not merged (a statement in between): after
    tx.execute("UPDATE {t} SET n=n+1 WHERE id=?", [2])  # its own text: nothing crosses it
    tx.update("t", {"id": 3}, {"a": 3})
    tx.update("t", {"id": 1}, {"a": 4, "id": 9})  # moves the row: nothing crosses it
    tx.update("t", {"id": 4}, {"a": 4})
    assert tx.flush() == 8
    assert cursor.calls == [
        ("executemany", "UPDATE pv_t SET a=? WHERE id=?", [(1, 1), (2, 2)]),
        ("execute", "INSERT INTO pv_u (id) VALUES (?) ON CONFLICT DO NOTHING", [(1,)]),
        ("execute", "DELETE FROM pv_u WHERE id=?", [(1,)]),
        ("execute", "UPDATE pv_t SET b=? WHERE id=?", [(1, 1)]),
        ("execute", "UPDATE pv_t SET n=n+1 WHERE id=?", [(2,)]),
        ("execute", "UPDATE pv_t SET a=? WHERE id=?", [(3, 3)]),
        ("execute", "UPDATE pv_t SET a=?, id=? WHERE id=?", [(4, 9, 1)]),
        ("execute", "UPDATE pv_t SET a=? WHERE id=?", [(4, 4)]),
    ]
