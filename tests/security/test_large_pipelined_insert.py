"""PostgreSQL: one large insert (tens of thousands of events, many MB) through the
ledger's recorder completes while another writer holds the events table's lock.

The library inserts in psycopg's pipeline mode: the SET/LOCK/NOTIFY/INSERT statements
are queued, then `Pipeline.sync()` waits for the results. psycopg's `sync()` (3.3.9,
and upstream since: `_sync_gen` fetches with `flush=False`) can start waiting for the
server's answer while part of the INSERT is still in libpq's output buffer, which it
sends only after the socket took what it could. When the server was not reading (it
waited for the table lock, or was still busy with the statements before) that
remainder is never sent: the server waits for the rest of the message (`ClientRead`,
state `active`, holding the lock) and the client waits for an answer that never comes.
Found by the scale loader at 10,000 events a transaction (CHANGELOG, issue 12).
"""

from __future__ import annotations

import os
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from eventsourcing.persistence import StoredEvent

from security.bootstrap import Ledger
from tests.conftest import PG_DSN
from tests.support.sample import sample_ledger_on_postgres

pytestmark = [pytest.mark.integration, pytest.mark.postgres]

EVENTS = 20_000
STATE_BYTES = 1_000  # 20 MB of payload in one INSERT
# how long the insert may take before the test calls it hung: it takes a few seconds
# (on a loaded machine); a hung one never ends
HUNG_AFTER = 120.0


@pytest.fixture
def ledger(tmp_path: Path, pg_schema: str) -> Iterator[Ledger]:
    yield from sample_ledger_on_postgres(tmp_path, pg_schema)


def big_batch() -> list[StoredEvent]:
    return [
        StoredEvent(uuid.uuid4(), 1, "tests.large:Event", os.urandom(STATE_BYTES))
        for _ in range(EVENTS)
    ]


def table_of(ledger: Ledger) -> str:
    recorder = ledger.app.recorder
    return f'"{recorder.datastore.schema}"."{recorder.events_table_name}"'


def waiting_for_lock(conn: psycopg.Connection, table: str) -> bool:
    """Whether some session waits for a lock on `table`."""
    row = conn.execute(
        "SELECT count(*) FROM pg_locks WHERE relation = %s::regclass AND NOT granted",
        (table,),
    ).fetchone()
    return bool(row and row[0])


def stuck_sessions(conn: psycopg.Connection, table: str) -> list[int]:
    """Sessions that hold `table`'s lock and wait for their client (ClientRead)."""
    rows = conn.execute(
        "SELECT DISTINCT a.pid FROM pg_stat_activity a JOIN pg_locks l ON l.pid = a.pid "
        "WHERE l.relation = %s::regclass AND l.granted AND a.wait_event = 'ClientRead'",
        (table,),
    ).fetchall()
    return [int(row[0]) for row in rows]


def test_a_large_insert_behind_another_writer_completes_and_is_all_there(
    ledger: Ledger,
) -> None:
    table = table_of(ledger)
    recorder = ledger.app.recorder
    events = big_batch()
    outcome: dict[str, object] = {}

    def write() -> None:
        try:
            outcome["ids"] = recorder.insert_events(events)
        except Exception as exc:  # reported by the assertions below
            outcome["error"] = exc

    with psycopg.connect(PG_DSN) as holder, psycopg.connect(PG_DSN, autocommit=True) as watch:
        holder.execute(f"LOCK TABLE {table} IN EXCLUSIVE MODE")  # another writer's lock
        writer = threading.Thread(target=write, daemon=True)
        writer.start()
        deadline = time.monotonic() + 60
        while not waiting_for_lock(watch, table) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert waiting_for_lock(watch, table), "the insert never reached the table lock"
        time.sleep(1.0)  # the client fills what the sockets hold while the server waits
        holder.commit()  # the other writer is done: the insert gets the lock
        writer.join(HUNG_AFTER)
        hung = writer.is_alive()
        stuck = stuck_sessions(watch, table) if hung else []
        # free the lock and the thread before failing: the library retries a cut
        # insert, and a retry can hang again
        deadline = time.monotonic() + 120
        while writer.is_alive() and time.monotonic() < deadline:
            for pid in stuck_sessions(watch, table):
                watch.execute("SELECT pg_terminate_backend(%s)", (pid,))
            writer.join(2)
    assert not hung, f"the insert hung holding the table lock (sessions in ClientRead: {stuck})"
    assert "error" not in outcome, outcome.get("error")
    ids = outcome["ids"]
    assert isinstance(ids, list) and len(ids) == EVENTS and len(set(ids)) == EVENTS
    with psycopg.connect(PG_DSN) as conn:
        row = conn.execute(f"SELECT count(*), sum(length(state)) FROM {table}").fetchone()
    assert row == (EVENTS, EVENTS * STATE_BYTES)


def test_a_large_insert_alone_completes_and_reads_back(ledger: Ledger) -> None:
    """Without another writer: the batch is inserted in one transaction and each event
    reads back byte for byte."""
    recorder = ledger.app.recorder
    events = big_batch()
    ids = recorder.insert_events(events)
    assert ids is not None and len(ids) == EVENTS
    for event in events[:: EVENTS // 50]:
        (stored,) = recorder.select_events(event.originator_id)
        assert stored.state == event.state
    assert recorder.max_notification_id() == max(ids)
