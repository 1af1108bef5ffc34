"""Continuous sealing: every committed event is covered by a signed checkpoint within 1 s.

A `Sealer` loops for the life of its process: when the event log or the access log
holds unsealed entries it seals them (`SealedLog.seal`), polling every `interval`
seconds. One sealer per store signs at a time: the leader holds a lock for its whole
life, on PostgreSQL `pg_try_advisory_lock` on a dedicated connection (a key other than
the seal lock's), on SQLite an exclusive `flock` on `<data dir>/sealer.lock`. The
others stand by, retry every `standby_interval` seconds and take over when the leader
dies (the operating system releases both kinds of lock with the process) or is stopped
(`stop()` frees the lock before it returns, even while the thread finishes a seal). Leadership
saves work; safety does not rest on it (each seal takes the seal lock).

Errors are logged and retried with backoff; the loop never dies of one. A log that is
not a consistent extension of its anchored checkpoint, or whose tables disagree
(`SealedLogInconsistent`), is never signed over again by this sealer: it is logged
as critical and that log's sealing stops until an operator has run `ledger verify`
and restarted the sealer.
"""

from __future__ import annotations

import contextlib
import fcntl
import logging
import os
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, Protocol

import psycopg

from security.bootstrap import Ledger, Settings, build_ledger
from security.integrity.sealed_log import SealedLog, SealedLogInconsistent

log = logging.getLogger("security.sealer")

INTERVAL = 0.15
STANDBY_INTERVAL = 1.0
MAX_BACKOFF = 10.0
LEADER_CHECK = 1.0
LOCK_FILE = "sealer.lock"


class Leadership(Protocol):
    """The lock a sealer holds for its life while it is the leader."""

    def try_acquire(self) -> bool: ...

    def still_held(self) -> bool: ...

    def release(self) -> None: ...


class FileLeadership:
    """SQLite: an exclusive, non-blocking `flock` on a lock file beside the database."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._fd: int | None = None

    def try_acquire(self) -> bool:
        if self._fd is not None:
            return True
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            return False
        except BaseException:
            os.close(fd)
            raise
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()}\n".encode())
        self._fd = fd
        return True

    def still_held(self) -> bool:
        return self._fd is not None

    def release(self) -> None:
        if self._fd is not None:
            fd, self._fd = self._fd, None
            with contextlib.suppress(OSError):
                fcntl.flock(fd, fcntl.LOCK_UN)
            os.close(fd)


class AdvisoryLeadership:
    """PostgreSQL: a session advisory lock held on a dedicated connection."""

    def __init__(self, config: Settings, key: str) -> None:
        self.config = config
        self.key = key
        self._conn: psycopg.Connection[Any] | None = None

    def try_acquire(self) -> bool:
        if self._conn is not None:
            return True
        target = self.config.postgres_target()
        conn = psycopg.connect(
            host=target.host,
            port=target.port,
            user=target.user,
            password=target.password or None,
            dbname=target.dbname,
            autocommit=True,
            connect_timeout=5,
            application_name="ledger-sealer",
        )
        try:
            row = conn.execute("SELECT pg_try_advisory_lock(hashtext(%s))", (self.key,)).fetchone()
        except BaseException:
            conn.close()
            raise
        if not (row and row[0]):
            conn.close()
            return False
        self._conn = conn
        return True

    def still_held(self) -> bool:
        """False once the lock's connection is gone (the server may have released it)."""
        if self._conn is None:
            return False
        try:
            self._conn.execute("SELECT 1")
        except psycopg.Error:
            self.release()
            return False
        return True

    def release(self) -> None:
        if self._conn is not None:
            conn, self._conn = self._conn, None
            with contextlib.suppress(psycopg.Error):
                # unlock first: closing alone frees the lock only once the server's
                # backend has exited, after close() returned, so a standby (or a test's
                # probe) asking at once could still find it held
                conn.execute("SELECT pg_advisory_unlock(hashtext(%s))", (self.key,))
            with contextlib.suppress(psycopg.Error):
                conn.close()


def leadership_for(config: Settings) -> Leadership:
    """The leader lock of the store `config` names."""
    if config.store_kind == "postgres":
        schema = config.postgres_target().schema_name
        return AdvisoryLeadership(config, f'"{schema}".ledger_sealer')
    return FileLeadership(config.data_dir / LOCK_FILE)


def has_unsealed(sealed: SealedLog) -> bool:
    """Whether the log's source holds an entry past the last sealed leaf (a cheap read,
    so an idle sealer does not take the seal lock on every poll)."""
    newest = sealed.source.max_id()
    if newest is None:
        return False
    with sealed.datastore.transaction(commit=False) as cursor:
        sealed.dialect.execute(
            cursor, f"SELECT MAX(notification_id) AS m FROM {sealed.leaves_table}", ()
        )
        row = cursor.fetchone()
    last = None if row is None else row["m"]
    return last is None or int(newest) > int(last)


class Sealer:
    """Seals the event log and the access log of one store whenever they have unsealed
    entries, while it holds the store's sealer lock."""

    def __init__(
        self,
        config: Settings,
        *,
        interval: float = INTERVAL,
        standby_interval: float = STANDBY_INTERVAL,
        build: Callable[[Settings], Ledger] = build_ledger,
    ) -> None:
        self.config = config
        self.interval = interval
        self.standby_interval = standby_interval
        self.build = build
        self.stop_event = threading.Event()
        self.leadership = leadership_for(config)
        self.halted: dict[str, str] = {}  # origin -> why sealing it stopped
        self.sizes: dict[str, int] = {}  # origin -> size of the newest checkpoint seen
        self.is_leader = False
        self._checked = 0.0
        self._catch_up = False
        self._ledger: Ledger | None = None
        self._thread: threading.Thread | None = None
        self._release_lock = threading.Lock()

    # --- running ---------------------------------------------------------------------

    def start(self) -> threading.Thread:
        """Run in a daemon thread (a web worker's); `stop()` ends it."""
        thread = threading.Thread(target=self.run, name="ledger-sealer", daemon=True)
        self._thread = thread
        thread.start()
        return thread

    def stop(self, timeout: float | None = 10.0) -> None:
        """Ask the loop to end and wait for it (when it runs in a thread). The leader
        lock is free when this returns, even if the thread is still busy past
        `timeout` (a seal blocked on the database): a standby takes over at once, and
        safety never rested on the lock (each seal takes the seal lock)."""
        self.stop_event.set()
        thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout)
            if thread.is_alive():
                log.warning(
                    "the sealer thread did not end within %s s: its leader lock is released "
                    "now, it stops after the seal in progress",
                    timeout,
                )
                self._release()

    def _release(self) -> None:
        with self._release_lock:
            self.leadership.release()
            self.is_leader = False

    def run(self) -> None:
        """The loop: stand by until leader, then seal whenever there is something to
        seal; until `stop()`. Never raises but on a programming error in itself."""
        backoff = self.interval
        try:
            while not self.stop_event.is_set():
                if not self._lead():
                    self.stop_event.wait(self.standby_interval)
                    continue
                try:
                    self.seal_pending()
                except Exception as exc:  # logged and retried: the loop must not die
                    log.error(
                        "sealing failed (retrying in %.1f s): %s", backoff, exc, exc_info=True
                    )
                    self.stop_event.wait(backoff)
                    backoff = min(backoff * 2, MAX_BACKOFF)
                    continue
                backoff = self.interval
                self.stop_event.wait(self.interval)
        finally:
            self._close()

    def _lead(self) -> bool:
        """Whether this sealer is the leader now (acquiring or re-checking the lock)."""
        try:
            if self.is_leader:
                if time.monotonic() - self._checked < LEADER_CHECK:
                    return True
                self._checked = time.monotonic()
                if not self.leadership.still_held():
                    log.error("the sealer lost its leader lock: standing by")
                    self.is_leader = False
                return self.is_leader
            if self.stop_event.is_set():
                return False
            if self.leadership.try_acquire():
                self.is_leader = True
                self._checked = time.monotonic()
                self._catch_up = True  # and anchor what a dead leader had not
                log.info("sealer %s is the leader: sealing", os.getpid())
            return self.is_leader
        except Exception as exc:
            log.error("the sealer could not take or check its lock: %s", exc)
            return False

    def seal_pending(self) -> None:
        """Seal each log that has unsealed entries (one pass of the loop); on becoming
        the leader, seal both regardless (a dead leader may not have anchored its last
        checkpoint)."""
        catch_up = self._catch_up
        for sealed in self._logs():
            if sealed.origin not in self.halted and (catch_up or has_unsealed(sealed)):
                self._seal(sealed)
        self._catch_up = False

    def _seal(self, sealed: SealedLog) -> None:
        if sealed.origin in self.halted:
            return
        try:
            stored = sealed.seal()
        except SealedLogInconsistent as exc:
            self.halted[sealed.origin] = exc.message
            log.critical("INTEGRITY: the sealer stopped signing %s: %s", sealed.origin, exc.message)
            return
        if stored is not None and self.sizes.get(sealed.origin) != stored.size:
            self.sizes[sealed.origin] = stored.size
            log.info("sealer %s sealed %s up to size %d", os.getpid(), sealed.origin, stored.size)

    def _logs(self) -> tuple[SealedLog, SealedLog]:
        if self._ledger is None:
            self._ledger = self.build(self.config)
        return self._ledger.sealed_log, self._ledger.access_sealed

    def _close(self) -> None:
        self._release()
        if self._ledger is not None:
            ledger, self._ledger = self._ledger, None
            with contextlib.suppress(Exception):
                ledger.close()


def start_sealer(config: Settings | None = None) -> Sealer:
    """A sealer for the configured store, running in a daemon thread of this process."""
    sealer = Sealer(config or Settings.from_env())
    sealer.start()
    return sealer
