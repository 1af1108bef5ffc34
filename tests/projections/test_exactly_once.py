"""Exactly once: a projector killed anywhere resumes without losing or doubling a fact,
a redelivered notification changes nothing, and racing projectors apply each event once."""

from __future__ import annotations

import subprocess
import sys
import threading
from collections.abc import Callable
from pathlib import Path

import pytest

from projections.projector import Fault
from projections.runtime import ReadModels, close_read_models, read_models
from projections.tracking import PositionConflict
from security.bootstrap import Ledger, Settings, build_ledger
from tests.domain.factories import FRONT, Clock
from tests.projections.world import World, dump, populate, rows_of

pytestmark = pytest.mark.integration


class Crash(Exception):
    """Stands for the projector process dying at the injected point."""


def crash_at(stage: str, nth: int) -> Fault:
    """A fault that raises the `nth` time the projector reaches `stage`."""
    reached: list[int] = []

    def fault(at: str, view: str, position: int) -> None:
        if at == stage:
            reached.append(position)
            if len(reached) == nth:
                raise Crash(f"killed at {stage} #{nth} (position {position})")

    return fault


def assert_counts_right(models: ReadModels, world: World, head: int) -> None:
    """Every counter the world's events move, at the value applying each event once gives."""
    assert all(p == head for p in (models.position_of([v.name]) for v in models.projections))
    elder = str(world.elder)
    assert models.customers.customer_360(elder)["interactions"] == 3
    assert len(rows_of(models, "pv_interaction", customer_id=elder)) == 3
    assert [r["records"] for r in rows_of(models, "pv_consent", customer_id=elder)] == [1, 1]
    assert len(rows_of(models, "pv_customer")) == 3
    assert len(rows_of(models, "pv_case")) == 2
    kpis = models.kpis.kpi_table("2026-03", "2026-03")
    assert (kpis[0]["cases_received"], kpis[0]["csat_answers"], kpis[0]["new_customers"]) == (
        2,
        1,
        3,
    )


def reference(models: ReadModels) -> dict[str, list[dict[str, object]]]:
    """What the views hold when rebuilt from zero in one go."""
    models.rebuild()
    return dump(models)


@pytest.mark.parametrize("batch_size", [1, 7])
@pytest.mark.parametrize(("stage", "nth"), [("applied", 5), ("committed", 3)])
def test_a_projector_killed_mid_way_resumes_without_losing_or_doubling_a_fact(
    ledger: Ledger,
    ledger_config: Settings,
    clock: Clock,
    models: ReadModels,
    stage: str,
    nth: int,
    batch_size: int,
) -> None:
    world = populate(ledger.app, clock)
    head = ledger.app.recorder.max_notification_id()
    dying = models.projector(batch_size=batch_size, fault=crash_at(stage, nth))
    with pytest.raises(Crash):
        dying.catch_up()
    reached = min(p.position for p in dying.positions().values())
    assert reached < head
    if stage == "committed":
        assert reached > 0  # what committed before the crash stays committed

    # a new process: a new ledger and new read models on the same stores
    restarted = build_ledger(ledger_config, clock=clock)
    try:
        again = read_models(restarted)
        again.catch_up()
        assert_counts_right(again, world, head)
        incremental = dump(again)
        assert incremental == reference(again)
    finally:
        close_read_models(restarted)
        restarted.close()


def test_a_crash_late_in_one_large_batch_applies_the_whole_batch_or_nothing(
    ledger: Ledger, ledger_config: Settings, clock: Clock, models: ReadModels
) -> None:
    """The whole log in one batch (on PostgreSQL, its view statements pipelined): a
    crash after most of its changes leaves every view and position as before."""
    world = populate(ledger.app, clock)
    head = ledger.app.recorder.max_notification_id()
    before = dump(models)
    applied: list[int] = []

    def fault(stage: str, view: str, position: int) -> None:
        if stage == "applied":
            applied.append(position)
            if len(applied) == 12:
                raise Crash("killed late in the batch")

    dying = models.projector(batch_size=10_000, fault=fault)
    with pytest.raises(Crash):
        dying.catch_up()
    assert max(applied) > 0
    assert all(p.position == 0 for p in dying.positions().values())
    assert dump(models) == before  # nothing of the batch reached the views

    restarted = build_ledger(ledger_config, clock=clock)
    try:
        again = read_models(restarted)
        again.projector(batch_size=10_000).catch_up()
        assert_counts_right(again, world, head)
        assert dump(again) == reference(again)
    finally:
        close_read_models(restarted)
        restarted.close()


DIE_MID_BATCH = """
import os, sys
from pathlib import Path
from projections.runtime import read_models
from security.bootstrap import Settings, build_ledger

ledger = build_ledger(Settings(data_dir=Path(sys.argv[1]), database_url=sys.argv[2] or None))
seen = []

def fault(stage, view, position):
    if stage == "applied":
        seen.append(position)
        if len(seen) == int(sys.argv[3]):
            os._exit(9)  # no rollback, no cleanup: the process is gone

read_models(ledger).projector(batch_size=4, fault=fault).catch_up()
"""


def test_a_projector_process_killed_mid_batch_leaves_nothing_half_done(
    ledger: Ledger, ledger_config: Settings, clock: Clock, models: ReadModels
) -> None:
    world = populate(ledger.app, clock)
    head = ledger.app.recorder.max_notification_id()
    root = Path(__file__).resolve().parents[2]
    args = [str(ledger_config.data_dir), ledger_config.database_url or "", "10"]
    killed = subprocess.run(
        [sys.executable, "-c", DIE_MID_BATCH, *args],
        cwd=root,
        env={"PYTHONPATH": str(root), "PATH": "/usr/bin:/bin"},
        capture_output=True,
        timeout=60,
    )
    assert killed.returncode == 9, killed.stderr.decode()[-2000:]
    reached = min(p.position for p in models.tracking.positions().values())
    assert 0 < reached < head  # some batches committed, the one in flight did not
    models.catch_up()
    assert_counts_right(models, world, head)
    assert dump(models) == reference(models)


def test_a_redelivered_notification_changes_nothing(
    ledger: Ledger, clock: Clock, models: ReadModels
) -> None:
    world = populate(ledger.app, clock)
    models.catch_up()
    before, positions = dump(models), models.tracking.positions()
    projector = models.projector()
    log = ledger.app.recorder.select_notifications(1, 10_000)
    assert projector.process(log[-3:]) == 0
    assert projector.process(log) == 0
    assert dump(models) == before
    assert {n: p.position for n, p in models.tracking.positions().items()} == {
        n: p.position for n, p in positions.items()
    }
    assert_counts_right(models, world, log[-1].id)

    ledger.app.log_interaction(world.elder, "sms", "outbound", "service", "reply", "ok", FRONT)
    ledger.app.log_interaction(world.elder, "sms", "outbound", "service", "again", "ok", FRONT)
    new = ledger.app.recorder.select_notifications(log[-1].id + 1, 10)
    with pytest.raises(ValueError, match="skips"):
        projector.process(new[1:])  # would jump over an event the views have not seen
    assert projector.process(new) > 0
    assert projector.process(new) == 0
    assert models.customers.customer_360(str(world.elder))["interactions"] == 5


def test_projectors_racing_on_the_same_views_apply_each_event_once(
    ledger: Ledger, ledger_config: Settings, clock: Clock, models: ReadModels
) -> None:
    world = populate(ledger.app, clock)
    head = ledger.app.recorder.max_notification_id()
    other = build_ledger(ledger_config, clock=clock)  # a second process
    try:
        rivals = [models.projector(batch_size=2), read_models(other).projector(batch_size=3)]
        conflicts: list[int] = []
        failures: list[BaseException] = []

        def follow(run: Callable[[], int]) -> None:
            try:
                while True:
                    try:
                        if run() == 0:
                            return
                    except PositionConflict:
                        conflicts.append(1)
            except BaseException as exc:  # surfaced below
                failures.append(exc)

        threads = [threading.Thread(target=follow, args=(p.run_once,)) for p in rivals]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(60)
        assert not failures, failures
        assert_counts_right(models, world, head)
        assert dump(models) == reference(models)
    finally:
        close_read_models(other)
        other.close()
