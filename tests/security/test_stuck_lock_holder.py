"""PostgreSQL: a session stuck inside a transaction while holding the events table's
lock, as the pipelined-insert hang left one (server in `ClientRead`, state `active`:
it waits for the rest of a pipeline that never comes).

The server's own timeouts do not end such a session (no Sync was sent, so it is not
"idle in transaction"; it is reading a message, not running a statement), so the
ledger bounds how long its writers wait for the lock (`POSTGRES_LOCK_TIMEOUT`): a
write behind a stuck holder fails as `busy` (503 store_busy) instead of hanging, and
writes proceed once the session is gone (terminated by an operator, or the client's
connection closed)."""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from security import recorders
from security.bootstrap import Ledger
from security.store_faults import classify
from tests.conftest import PG_DSN
from tests.support.sample import sample_ledger_on_postgres

pytestmark = [pytest.mark.integration, pytest.mark.postgres]

# how long the write may wait before the test calls it unbounded: 2 attempts of the
# lock timeout and the retry's pause, with room for a loaded machine
BOUND = 60.0


@pytest.fixture
def ledger(tmp_path: Path, pg_schema: str) -> Iterator[Ledger]:
    yield from sample_ledger_on_postgres(tmp_path, pg_schema)


def session_state(watch: psycopg.Connection, pid: int) -> tuple[str, str] | None:
    row = watch.execute(
        "SELECT state, wait_event FROM pg_stat_activity WHERE pid = %s", (pid,)
    ).fetchone()
    return None if row is None else (str(row[0]), str(row[1]))


def test_a_writer_behind_a_stuck_lock_holder_fails_as_busy_then_proceeds(
    ledger: Ledger, monkeypatch: pytest.MonkeyPatch
) -> None:
    recorder = ledger.app.recorder
    table = f'"{recorder.datastore.schema}"."{recorder.events_table_name}"'
    monkeypatch.setattr(recorders, "INSERT_ATTEMPTS", 2)  # the test's time, not the bound
    ledger.app.register("Before", "13800000000", "B1")
    stuck = psycopg.connect(PG_DSN, autocommit=True)
    watch = psycopg.connect(PG_DSN, autocommit=True)
    outcome: dict[str, BaseException | None] = {}

    def write_behind() -> None:
        try:
            ledger.app.register("Behind", "13800000001", "B2")
            outcome["error"] = None
        except Exception as exc:
            outcome["error"] = exc

    try:
        stuck.execute("SET idle_in_transaction_session_timeout = '1s'")
        stuck.execute("SET statement_timeout = '1s'")
        pid = stuck.info.backend_pid
        with contextlib.suppress(psycopg.OperationalError), stuck.pipeline():
            stuck.execute("BEGIN")
            stuck.execute(f"LOCK TABLE {table} IN EXCLUSIVE MODE")
            # the statements are sent; no Sync follows: the server waits for more
            time.sleep(3)
            # the server's timeouts (1 s) did not end it: still there, holding the lock
            assert session_state(watch, pid) == ("active", "ClientRead")
            writer = threading.Thread(target=write_behind, daemon=True)
            writer.start()
            writer.join(BOUND)  # bounded by the lock timeout, not by the stuck session
            hung = writer.is_alive()
            watch.execute("SELECT pg_terminate_backend(%s)", (pid,))
            deadline = time.monotonic() + 30
            while session_state(watch, pid) is not None and time.monotonic() < deadline:
                time.sleep(0.1)
            writer.join(30)
    finally:
        stuck.close()
        watch.close()
    assert not hung, "a write behind the stuck lock holder waited without bound"
    error = outcome["error"]
    assert error is not None and classify(error) == "busy", repr(error)
    person = ledger.app.register("After", "13800000002", "B3")
    assert ledger.app.repository.get(person).name == "After"
