"""The API's export jobs as rows of the store; bundles under `<data dir>/exports/`.

`web_exports` holds each job's state (any worker can report it); `web_export_approvals`
the four-eyes part of a job that needs a second compliance officer: the request's
reason until the job runs, who approved it and when; `web_export_runs` the heartbeat
of a running job's thread.

A job runs in a thread of the worker that started it. If that worker stops (a
restart, a crash, a kill) the thread dies with it and nothing would ever finish the
job: a job `running` whose heartbeat (or, before its first one, its creation) is older
than STALE_SECONDS is therefore settled as `failed` (INTERRUPTED) the next time
anyone reads it, so that a client polling it learns to request it again instead of
waiting forever.
"""

from __future__ import annotations

import json
import logging
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from security.bootstrap import Ledger
from security.dialect import Dialect
from security.export.exporter import ExportScope

log = logging.getLogger(__name__)

PENDING = "pending_approval"
RUNNING = "running"
STALE_SECONDS = 60.0  # no heartbeat for this long: the job's worker stopped
HEARTBEAT_SECONDS = 10.0
INTERRUPTED = "interrupted: the server stopped while the export ran; request it again"


def _stamp(moment: datetime) -> str:
    """A time as text that sorts as time does (always with microseconds)."""
    return moment.isoformat(timespec="microseconds")


def scope_of(recorded: dict[str, Any]) -> ExportScope:
    """The ExportScope of a job's recorded `scope` (ExportScope.as_dict)."""
    return ExportScope(
        customers=tuple(recorded["customers"]),
        since=datetime.fromisoformat(recorded["since"]) if recorded["since"] else None,
        until=datetime.fromisoformat(recorded["until"]) if recorded["until"] else None,
        everything=bool(recorded["all"]),
    )


class ExportJobs:
    """Export jobs as rows; bundles under `<data dir>/exports/<id>.tar.gz`."""

    def __init__(self, ledger: Ledger) -> None:
        self.ledger = ledger
        self.dialect: Dialect = ledger.keystore.dialect
        self.table = self.dialect.table("web_exports")
        self.approvals = self.dialect.table("web_export_approvals")
        self.runs = self.dialect.table("web_export_runs")
        self.folder = Path(ledger.config.data_dir) / "exports"
        self.dialect.create_tables(
            ledger.datastore,
            [
                f"CREATE TABLE IF NOT EXISTS {self.table} (id TEXT PRIMARY KEY, "
                "requested_by TEXT NOT NULL, addressed_to TEXT, scope TEXT NOT NULL, "
                "status TEXT NOT NULL, created_at TEXT NOT NULL, finished_at TEXT, "
                "bundle_digest TEXT, events INTEGER, error TEXT)",
                f"CREATE TABLE IF NOT EXISTS {self.approvals} (export_id TEXT PRIMARY KEY, "
                "reason TEXT, approved_by TEXT, approved_at TEXT)",
                f"CREATE TABLE IF NOT EXISTS {self.runs} (export_id TEXT PRIMARY KEY, "
                "heartbeat_at TEXT NOT NULL)",
            ],
        )

    def create(
        self,
        requested_by: str,
        addressed_to: str | None,
        scope: ExportScope,
        *,
        pending_reason: str | None = None,
        pending: bool = False,
    ) -> str:
        """A new job: `running`, or with `pending` waiting for a second officer (its
        reason kept until then)."""
        job_id = str(uuid.uuid4())
        with self.ledger.datastore.transaction(commit=True) as cursor:
            self.dialect.execute(
                cursor,
                f"INSERT INTO {self.table} (id, requested_by, addressed_to, scope, status, "
                "created_at) VALUES (?,?,?,?,?,?)",
                (
                    job_id,
                    requested_by,
                    addressed_to,
                    json.dumps(scope.as_dict()),
                    PENDING if pending else RUNNING,
                    datetime.now(UTC).isoformat(),
                ),
            )
            if pending:
                self.dialect.execute(
                    cursor,
                    f"INSERT INTO {self.approvals} (export_id, reason) VALUES (?,?)",
                    (job_id, pending_reason),
                )
        return job_id

    def approve(self, job_id: str, approver: str) -> tuple[bool, str | None]:
        """Move a pending job to `running`, approved by `approver`: (True, the request's
        reason, which is not kept once the job runs); (False, None) if it was not pending
        any more (another officer came first)."""
        with self.ledger.datastore.transaction(commit=True) as cursor:
            self.dialect.execute(
                cursor,
                f"UPDATE {self.table} SET status='running' WHERE id=? AND status=?",
                (job_id, PENDING),
            )
            if self.dialect.rowcount(cursor) != 1:
                return False, None
            self.dialect.execute(
                cursor, f"SELECT reason FROM {self.approvals} WHERE export_id=?", (job_id,)
            )
            row = cursor.fetchone()
            self.dialect.execute(
                cursor,
                f"UPDATE {self.approvals} SET approved_by=?, approved_at=?, reason=NULL "
                "WHERE export_id=?",
                (approver, datetime.now(UTC).isoformat(), job_id),
            )
        return True, None if row is None else row["reason"]

    def finish(self, job_id: str, **fields: Any) -> bool:
        """Record a running job's outcome; False if it was no longer running (settled as
        interrupted meanwhile: it stays failed)."""
        fields["finished_at"] = datetime.now(UTC).isoformat()
        columns = ", ".join(f"{name}=?" for name in fields)
        with self.ledger.datastore.transaction(commit=True) as cursor:
            self.dialect.execute(
                cursor,
                f"UPDATE {self.table} SET {columns} WHERE id=? AND status=?",
                (*fields.values(), job_id, RUNNING),
            )
            finished = self.dialect.rowcount(cursor) == 1
            self.dialect.execute(cursor, f"DELETE FROM {self.runs} WHERE export_id=?", (job_id,))
        return finished

    def beat(self, job_id: str) -> None:
        """Record that the job's thread is alive now."""
        with self.ledger.datastore.transaction(commit=True) as cursor:
            self.dialect.execute(
                cursor,
                f"INSERT INTO {self.runs} (export_id, heartbeat_at) VALUES (?,?) "
                "ON CONFLICT (export_id) DO UPDATE SET heartbeat_at=excluded.heartbeat_at",
                (job_id, _stamp(datetime.now(UTC))),
            )

    @contextmanager
    def heartbeat(self, job_id: str, every: float | None = None) -> Iterator[None]:
        """Beat now and every `every` seconds (HEARTBEAT_SECONDS) until the block ends."""
        period = HEARTBEAT_SECONDS if every is None else every
        stop = threading.Event()

        def beat() -> None:
            try:
                self.beat(job_id)
            except Exception:  # a closed or busy store: the next beat may succeed
                log.warning("export %s: heartbeat not recorded", job_id)

        def loop() -> None:
            while not stop.wait(period):
                beat()

        beat()

        beating = threading.Thread(target=loop, name=f"export-heartbeat-{job_id}", daemon=True)
        beating.start()
        try:
            yield
        finally:
            stop.set()
            beating.join()

    def get(self, job_id: str) -> dict[str, Any] | None:
        rows = self._select("WHERE e.id=?", (job_id,))
        return rows[0] if rows else None

    def listing(self, addressed_to: str | None) -> list[dict[str, Any]]:
        if addressed_to is None:
            return self._select("ORDER BY e.created_at DESC LIMIT 200", ())
        return self._select(
            "WHERE e.addressed_to=? ORDER BY e.created_at DESC LIMIT 200", (addressed_to,)
        )

    def settle_interrupted(self, row: dict[str, Any], now: datetime | None = None) -> None:
        """If `row` is a running job not heard of for STALE_SECONDS, record it as failed
        (INTERRUPTED) and update `row`. The update is conditional: a heartbeat or an
        outcome recorded meanwhile wins."""
        if row["status"] != RUNNING:
            return
        now = now or datetime.now(UTC)
        cutoff = now - timedelta(seconds=STALE_SECONDS)
        heard = row.get("heartbeat_at") or row["created_at"]
        if datetime.fromisoformat(heard) >= cutoff:
            return
        finished_at = now.isoformat()
        with self.ledger.datastore.transaction(commit=True) as cursor:
            self.dialect.execute(
                cursor,
                f"UPDATE {self.table} SET status='failed', error=?, finished_at=? "
                f"WHERE id=? AND status=? AND NOT EXISTS (SELECT 1 FROM {self.runs} "
                "WHERE export_id=? AND heartbeat_at >= ?)",
                (INTERRUPTED, finished_at, row["id"], RUNNING, row["id"], _stamp(cutoff)),
            )
            settled = self.dialect.rowcount(cursor) == 1
        if settled:
            row.update(status="failed", error=INTERRUPTED, finished_at=finished_at)

    def bundle_path(self, job_id: str) -> Path:
        return self.folder / f"{job_id}.tar.gz"

    def purge(self, now: float | None = None) -> int:
        """Delete bundles older than the settings' `export_keep_days`; returns how many
        were deleted."""
        if not self.folder.exists():
            return 0
        limit = (now or time.time()) - self.ledger.config.export_keep_days * 86400
        gone = 0
        for path in self.folder.glob("*.tar.gz"):
            if path.stat().st_mtime < limit:
                path.unlink(missing_ok=True)
                gone += 1
        return gone

    def _select(self, where: str, params: tuple[Any, ...]) -> list[dict[str, Any]]:
        with self.ledger.datastore.transaction(commit=False) as cursor:
            self.dialect.execute(
                cursor,
                f"SELECT e.*, a.approved_by, a.approved_at, r.heartbeat_at FROM {self.table} e "
                f"LEFT JOIN {self.approvals} a ON a.export_id=e.id "
                f"LEFT JOIN {self.runs} r ON r.export_id=e.id {where}",
                params,
            )
            rows = [dict(row) for row in cursor.fetchall()]
        for row in rows:
            row["scope"] = json.loads(row["scope"])
            self.settle_interrupted(row)
            row.pop("heartbeat_at", None)
        return rows
