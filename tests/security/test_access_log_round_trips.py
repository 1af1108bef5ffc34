"""On PostgreSQL an access-log append is one round trip to the server (BEGIN, the
table lock, the INSERT and COMMIT sent together, in a pipeline), yet as durable as
before: `record` returns only once the COMMIT succeeded, and an append that fails
leaves nothing and the connection usable."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import psycopg
import pytest

from security.bootstrap import Ledger, Settings, build_ledger
from tests.conftest import PG_DSN, make_config
from tests.support.sample import SampleApp

pytestmark = [pytest.mark.integration, pytest.mark.postgres]


@pytest.fixture
def ledger(tmp_path: Any, pg_schema: str) -> Iterator[Ledger]:
    config: Settings = make_config("postgres", tmp_path, pg_schema)
    built = build_ledger(config, app_class=SampleApp)
    yield built
    built.close()


def record(ledger: Ledger, actor: Any = "alice", subject: str = "subject-1") -> None:
    ledger.access_log.record(
        actor_id=actor,
        role="compliance_officer",
        purpose="compliance_audit",
        subject_id=subject,
        what="customer.profile",
    )


def sync_points(ledger: Ledger, monkeypatch: pytest.MonkeyPatch, trace: Path) -> Callable[[], int]:
    """How many times, from now on, the access log's connections waited for the server
    to be ready for the next query (libpq's protocol trace: one ReadyForQuery per
    statement outside a pipeline, one per pipeline sync): its round trips."""
    datastore = ledger.access_log.datastore
    real = datastore.get_connection

    @contextmanager
    def traced() -> Iterator[Any]:
        with real() as conn, trace.open("a") as out:
            conn.pgconn.trace(out.fileno())
            try:
                yield conn
            finally:
                conn.pgconn.untrace()

    monkeypatch.setattr(datastore, "get_connection", traced)
    return lambda: trace.read_text().count("ReadyForQuery") if trace.exists() else 0


def committed_rows(ledger: Ledger, pg_schema: str) -> list[tuple[str, str]]:
    """The access log's rows as another session sees them."""
    with psycopg.connect(PG_DSN, autocommit=True) as conn:
        rows = conn.execute(
            f'SELECT actor_id, subject_id FROM "{pg_schema}".ledger_access_log ORDER BY id'
        ).fetchall()
    return [(str(a), str(s)) for a, s in rows]


def test_an_append_is_one_round_trip(
    ledger: Ledger, pg_schema: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    record(ledger)  # a pooled connection, checked on its first use
    ledger.access_log.datastore.pool._check.idle_seconds = 3600.0  # no pre-ping counted
    round_trips = sync_points(ledger, monkeypatch, tmp_path / "trace")
    record(ledger, subject="subject-2")
    assert round_trips() == 1
    assert committed_rows(ledger, pg_schema) == [("alice", "subject-1"), ("alice", "subject-2")]


def test_a_failed_append_leaves_nothing_and_the_next_one_is_recorded(
    ledger: Ledger, pg_schema: str
) -> None:
    record(ledger, subject="before")
    with pytest.raises(Exception) as failed:
        record(ledger, actor=None, subject="failed")  # actor_id is NOT NULL
    assert "null" in str(failed.value).lower()
    for _ in range(3):  # every pooled connection is usable again
        record(ledger, subject="after")
    assert committed_rows(ledger, pg_schema) == [("alice", "before")] + [("alice", "after")] * 3
    ledger.access_sealed.seal()
    assert ledger.verify_access_log().ok
