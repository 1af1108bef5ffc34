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


def test_every_pooled_session_cut_at_once_the_next_use_succeeds(
    pg_schema: str, tmp_path: Path
) -> None:
    """A pg_terminate_backend of all the pool's sessions (a failover, an operator's cut):
    psycopg_pool checks one pooled connection at a time and waits 1 s, 2 s, 4 s... after
    each failed check, so with three dead ones the next use ran past the pool's 5 s
    timeout (a 503 for a request made after the cut). The first failed check now has the
    pool check all its idle connections, so the dead ones go at once and the next use
    gets a new session."""
    ledger = build_ledger(make_config("postgres", tmp_path, pg_schema))
    try:
        pool = ledger.datastore.pool
        pool.open(wait=True)
        held = [pool.getconn() for _ in range(pool.get_stats()["pool_size"])]
        pids = {conn.info.backend_pid for conn in held}
        for conn in held:
            pool.putconn(conn)
        assert len(pids) >= 3
        for pid in pids:
            terminate(pid)
        time.sleep(0.2)  # the server's notices reach the sockets
        with pool.connection() as conn:  # PoolTimeout before: 1 + 2 + 4 s of waits > 5 s
            conn.execute("SELECT 1")
            assert conn.info.backend_pid not in pids
        assert pool.get_stats()["connections_lost"] == len(pids)  # all dropped, at once
        with pool.connection() as conn:
            conn.execute("SELECT 1")
    finally:
        ledger.close()
