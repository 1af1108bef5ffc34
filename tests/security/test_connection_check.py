"""PostgreSQL's pre-ping without a round trip for a connection in use moments ago
(security.connection_check): a cut connection is still never handed out."""

from __future__ import annotations

import time
from pathlib import Path

import psycopg
import pytest

from security.bootstrap import build_ledger
from security.connection_check import PooledConnectionCheck
from tests.conftest import PG_DSN, make_config

pytestmark = [pytest.mark.integration, pytest.mark.postgres]


def terminate(pid: int) -> None:
    with psycopg.connect(PG_DSN, autocommit=True) as admin:
        admin.execute("SELECT pg_terminate_backend(%s)", (pid,))


def test_a_connection_terminated_while_pooled_is_replaced_not_handed_out(
    pg_schema: str, tmp_path: Path
) -> None:
    ledger = build_ledger(make_config("postgres", tmp_path, pg_schema))
    try:
        check = ledger.app.factory.connection_check
        assert isinstance(check, PooledConnectionCheck)
        pool = ledger.datastore.pool
        with pool.connection() as conn:  # handed out just now: the next check is quiet
            pid = conn.info.backend_pid
        terminate(pid)
        time.sleep(0.2)  # the server's notice reaches the socket
        # every pooled connection in turn: the cut one is dropped, none fails
        pids = set()
        for _ in range(pool.max_size + 1):
            with pool.connection() as conn:
                conn.execute("SELECT 1")
                pids.add(conn.info.backend_pid)
        assert pid not in pids
    finally:
        ledger.close()


def test_a_quiet_connection_used_moments_ago_skips_the_round_trip_an_idle_one_does_not(
    pg_schema: str, tmp_path: Path
) -> None:
    ledger = build_ledger(make_config("postgres", tmp_path, pg_schema))
    try:
        check = PooledConnectionCheck(idle_seconds=0.3)
        with psycopg.connect(PG_DSN, autocommit=True) as conn:
            check(conn)  # never seen: asks the server
            assert check.round_trips == 1
            check(conn)  # moments later, nothing on its socket: no round trip
            assert check.round_trips == 1
            time.sleep(0.4)
            check(conn)  # idle past idle_seconds: asks the server again
            assert check.round_trips == 2
            terminate(conn.info.backend_pid)
            time.sleep(0.2)
            with pytest.raises(psycopg.OperationalError):
                check(conn)  # the termination notice waits on the socket: asked, and fails
            assert check.round_trips == 3
    finally:
        ledger.close()
