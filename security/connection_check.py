"""The check a PostgreSQL connection passes when the pool hands it out (the ledger runs
with the library's `POSTGRES_PRE_PING` on, docs/operations.md "When the store goes away").

The library's pre-ping is psycopg_pool's `check_connection`: an empty query, one round
trip before every use of a pooled connection — on the append path one more round trip
per save than the plain library makes. `PooledConnectionCheck` asks the server only when
there is reason to:

- a connection that something arrived on while it sat in the pool (what a
  `pg_terminate_backend`, a server shutdown or an idle-session timeout sends before
  closing: an error message, then end-of-file), or whose socket reports an error or a
  hang-up, is checked by the round trip, and dropped by the pool if that fails;
- so is one not handed out within the last `idle_seconds` (default 1 s): a connection
  idle for longer may have been cut without a word (a failover that moved the address,
  a network drop), and only a round trip tells;
- a connection handed out less than `idle_seconds` ago with nothing waiting on its
  socket is given out without a round trip. A cut that happens in that window, or one
  that sends nothing, is met by the statement itself: the recorders retry an insert on a
  connection error (and recognise their own commit), and a read answers 503, as for a
  cut in the middle of a request.

Under load every pooled connection is reused within milliseconds, so the round trip is
left out almost always; an idle server checks each connection as before.

A connection that fails its check is seldom alone: a `pg_terminate_backend` of the
app's sessions, a failover or a restart cuts every pooled one at once. psycopg_pool
checks one connection per attempt and waits 1 s, 2 s, 4 s... between attempts, so with
three dead connections a request ran past the pool's 5 s timeout (a 503 made *after*
the cut). The first failed check therefore has the pool check all its idle connections
(`ConnectionPool.check`, one sweep at a time): the dead ones are dropped and replaced
together, and the request's next attempt gets a new session.
"""

from __future__ import annotations

import logging
import select
import threading
import time
import weakref
from typing import Any

import psycopg
from psycopg import pq
from psycopg_pool import ConnectionPool

IDLE_SECONDS = 1.0
log = logging.getLogger(__name__)
_WATCHED = select.POLLIN | select.POLLPRI | select.POLLERR | select.POLLHUP


def has_input(fd: int) -> bool:
    """True if the socket `fd` has data, an error or a hang-up waiting (no blocking)."""
    poller = select.poll()
    poller.register(fd, _WATCHED)
    return bool(poller.poll(0))


class PooledConnectionCheck:
    """The pool's `check` callback (see the module docstring): raises if the connection
    is not usable, so that the pool drops it and hands out another."""

    def __init__(self, idle_seconds: float = IDLE_SECONDS) -> None:
        self.idle_seconds = idle_seconds
        self.round_trips = 0  # how many checks asked the server (for tests and profiles)
        self._handed_out: weakref.WeakKeyDictionary[Any, float] = weakref.WeakKeyDictionary()
        self._lock = threading.Lock()
        self._sweeping = threading.Lock()
        self.pool: weakref.ref[Any] | None = None  # set by `install`

    def __call__(self, conn: Any) -> None:
        now = time.monotonic()
        with self._lock:
            last = self._handed_out.get(conn)
        if last is None or now - last >= self.idle_seconds or not self._quiet(conn):
            with self._lock:
                self.round_trips += 1
            try:
                ConnectionPool.check_connection(conn)
            except Exception:
                self._sweep()
                raise
        with self._lock:
            self._handed_out[conn] = now

    def _sweep(self) -> None:
        """Have the pool check every idle connection now (see the module docstring); one
        sweep at a time, and never one that fails the caller's own check."""
        pool = self.pool() if self.pool is not None else None
        if pool is None or not self._sweeping.acquire(blocking=False):
            return
        try:
            pool.check()
        except Exception:  # the caller's failed check is what it reports
            log.warning("checking the pool's idle connections failed", exc_info=True)
        finally:
            self._sweeping.release()

    @staticmethod
    def _quiet(conn: Any) -> bool:
        """Open, idle, and nothing waiting on its socket."""
        pgconn = conn.pgconn
        if conn.closed or pgconn.status != pq.ConnStatus.OK:
            return False
        if pgconn.transaction_status != pq.TransactionStatus.IDLE:
            return False
        try:
            return not has_input(pgconn.socket)
        except (OSError, ValueError, psycopg.Error):  # no socket any more: ask the server
            return False


def install(pool: Any, check: PooledConnectionCheck | None = None) -> PooledConnectionCheck:
    """Make `check` the check of a psycopg_pool `ConnectionPool` whose pre-ping is on
    (the library builds the pool and has no setting for the callback)."""
    if not hasattr(pool, "_check"):
        raise TypeError("not a psycopg_pool ConnectionPool: it has no check callback")
    check = check or PooledConnectionCheck()
    check.pool = weakref.ref(pool)
    pool._check = check
    return check
