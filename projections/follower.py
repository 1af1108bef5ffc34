"""Following the log in the background: a poll, and on PostgreSQL LISTEN/NOTIFY beside it.

SQLite recorders cannot subscribe, so the follower polls `select_notifications`
(every `POLL_SQLITE` seconds when idle). On PostgreSQL the library's recorder sends
`NOTIFY <events table>` with every write; a listener thread turns each notification
into an immediate wake-up, and the poll (every `POLL_POSTGRES` seconds) goes on
beside it, so a lost listener connection can delay a view but never stall it.
"""

from __future__ import annotations

import logging
import threading
from typing import Any

from projections.projector import Projector, SchemaChanged
from projections.tracking import PositionConflict

log = logging.getLogger("projections.follower")

POLL_SQLITE = 0.2
POLL_POSTGRES = 2.0
RETRY_SECONDS = 1.0
MAX_RETRY_SECONDS = 30.0


class Listener:
    """Sets `wake` whenever PostgreSQL notifies the events channel; reconnects on error."""

    def __init__(self, recorder: Any, wake: threading.Event, stopping: threading.Event) -> None:
        self.recorder = recorder
        self.wake = wake
        self.stopping = stopping
        self.connected = threading.Event()
        self.backend_pid: int | None = None
        self.thread = threading.Thread(target=self._run, name="projections-listen", daemon=True)

    def start(self) -> None:
        """Start listening in a daemon thread."""
        self.thread.start()

    def _run(self) -> None:
        from psycopg.sql import SQL, Identifier

        while not self.stopping.is_set():
            try:
                with self.recorder.datastore.get_connection() as conn:
                    conn.execute(SQL("LISTEN {0}").format(Identifier(self.recorder.channel_name)))
                    self.backend_pid = conn.info.backend_pid
                    self.connected.set()
                    try:
                        while not self.stopping.is_set():
                            for _ in conn.notifies(timeout=0.5, stop_after=1):
                                self.wake.set()
                    finally:
                        self.connected.clear()
                        conn.execute("UNLISTEN *")
            except Exception as exc:  # the poll goes on; reconnect after a pause
                log.warning("projection listener lost its connection: %s", type(exc).__name__)
                self.stopping.wait(RETRY_SECONDS)


class Follower:
    """Runs a projector in a daemon thread until stopped.

    Guarantees: every event committed to the log reaches the views within about one
    poll interval (sooner on PostgreSQL, woken by NOTIFY), unless reading an event
    fails; errors are logged by type (never by message, which could hold data),
    recorded in the tracking table, and retried with a growing pause.
    """

    def __init__(self, projector: Projector, poll_interval: float | None = None) -> None:
        self.projector = projector
        kind = projector.store.kind
        self.poll_interval = poll_interval or (POLL_SQLITE if kind == "sqlite" else POLL_POSTGRES)
        self.wake = threading.Event()
        self.stopping = threading.Event()
        self.listener: Listener | None = None
        if kind == "postgres":
            self.listener = Listener(projector.ledger.app.recorder, self.wake, self.stopping)
        self.thread = threading.Thread(target=self._run, name="projections-follow", daemon=True)
        self.last_error: str | None = None

    def start(self) -> Follower:
        """Start following (and listening, on PostgreSQL)."""
        if self.listener is not None:
            self.listener.start()
        self.thread.start()
        return self

    def notify(self) -> None:
        """Ask for a run now (e.g. right after this process wrote to the log)."""
        self.wake.set()

    def stop(self, timeout: float = 10.0) -> None:
        """Stop following and wait for the threads to finish."""
        self.stopping.set()
        self.wake.set()
        if self.thread.is_alive():
            self.thread.join(timeout)
        if self.listener is not None and self.listener.thread.is_alive():
            self.listener.thread.join(timeout)

    @property
    def running(self) -> bool:
        """True while the follower thread is alive."""
        return self.thread.is_alive()

    def _run(self) -> None:
        pause = RETRY_SECONDS
        while not self.stopping.is_set():
            try:
                count = self.projector.run_once()
            except PositionConflict:
                continue  # another projector moved first: read the new positions
            except Exception as exc:
                self.last_error = type(exc).__name__
                log.error("projection run failed: %s", self.last_error)
                self._record_error(exc)
                self.stopping.wait(pause)
                pause = min(pause * 2, MAX_RETRY_SECONDS)
                continue
            pause = RETRY_SECONDS
            self.last_error = None
            if count < self.projector.batch_size:
                self.wake.wait(self.poll_interval)
                self.wake.clear()

    def _record_error(self, exc: Exception) -> None:
        code = getattr(exc, "code", None)
        detail = type(exc).__name__ + (f" ({code})" if code else "")
        if isinstance(exc, SchemaChanged):
            detail = str(exc)  # our own message: names the view, holds no data
        try:
            for projection in self.projector.projections:
                self.projector.tracking.record_error(
                    self.projector.tracking_name(projection), detail
                )
        except Exception as inner:  # the store itself is unreachable: only log
            log.error("could not record the projection error: %s", type(inner).__name__)
