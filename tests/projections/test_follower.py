"""Following the log: SQLite by polling, PostgreSQL by LISTEN/NOTIFY with a poll beside it."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from pathlib import Path

import psycopg
import pytest

from projections.runtime import ReadModels, close_read_models, read_models
from projections.status import readiness
from security.bootstrap import Ledger, build_ledger
from tests.conftest import PG_DSN, make_config
from tests.domain.factories import Clock
from tests.projections.world import populate, register

pytestmark = pytest.mark.integration


def eventually(check: Callable[[], bool], within: float = 10.0) -> float:
    """Seconds until `check()` held; fails after `within`."""
    started = time.monotonic()
    while not check():
        assert time.monotonic() - started < within, "did not happen in time"
        time.sleep(0.02)
    return time.monotonic() - started


def at_head(ledger: Ledger, models: ReadModels) -> bool:
    head = ledger.app.recorder.max_notification_id() or 0
    return all(s.position >= head for s in models.statuses())


def test_a_follower_brings_new_events_to_the_views_unasked(
    ledger: Ledger, clock: Clock, models: ReadModels
) -> None:
    populate(ledger.app, clock)
    follower = models.follow()
    assert models.follow() is follower  # one per process
    eventually(lambda: at_head(ledger, models))
    newcomer = register(ledger.app, "New Comer", "13700000001")
    took = eventually(lambda: at_head(ledger, models), within=5)
    assert took < 3
    assert models.customers.customer_360(str(newcomer))["name"] == "*** Comer"
    assert models.readiness().ready
    follower.stop()
    assert not follower.running


@pytest.fixture
def pg_ledger(pg_schema: str, tmp_path: Path, clock: Clock) -> Iterator[Ledger]:
    built = build_ledger(make_config("postgres", tmp_path, pg_schema), clock=clock)
    yield built
    close_read_models(built)
    built.close()


@pytest.mark.postgres
def test_postgres_wakes_the_follower_by_notify_well_before_the_poll(pg_ledger: Ledger) -> None:
    models = read_models(pg_ledger)
    follower = models.follow(poll_interval=30.0)  # only a notification can be this quick
    assert follower.listener is not None
    assert follower.listener.connected.wait(5)
    register(pg_ledger.app, "Quick One", "13700000002")
    assert eventually(lambda: at_head(pg_ledger, models), within=10) < 5


@pytest.mark.postgres
def test_a_lost_listener_does_not_stall_the_views(pg_ledger: Ledger) -> None:
    models = read_models(pg_ledger)
    follower = models.follow(poll_interval=0.3)
    listener = follower.listener
    assert listener is not None and listener.connected.wait(5)
    lost = listener.backend_pid
    with psycopg.connect(PG_DSN, autocommit=True) as conn:
        conn.execute("SELECT pg_terminate_backend(%s)", (lost,))
    register(pg_ledger.app, "While Deaf", "13700000003")
    eventually(lambda: at_head(pg_ledger, models), within=5)  # the poll carried on
    eventually(lambda: listener.connected.is_set() and listener.backend_pid != lost)
    assert follower.running


def test_readiness_names_each_view_that_lags(
    ledger: Ledger, clock: Clock, models: ReadModels
) -> None:
    populate(ledger.app, clock)
    statuses = models.statuses()
    assert all(s.lag_events > 0 and s.lag_seconds == float("inf") for s in statuses)
    result = readiness(statuses, max_lag_events=5)
    assert not result.ready and len(result.reasons) == 8  # one per view
    models.catch_up()
    statuses = models.statuses()
    assert all(s.lag_events == 0 and s.lag_seconds == 0 for s in statuses)
    register(ledger.app, "One More", "13700000004")
    behind = models.statuses()
    assert all(s.lag_events == 2 and s.lag_seconds < 5 for s in behind)  # customer + KYC
    assert readiness(behind, max_lag_events=5).ready
    assert not readiness(behind, max_lag_events=1).ready
