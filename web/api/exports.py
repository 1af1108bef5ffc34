"""Audit-trail exports over HTTP: compliance officers request, regulators download.

`POST /api/v1/exports` starts an export in the background and answers 202 with a
job id; the job's state lives in the store (`web_exports`), so any worker can
report it. The finished bundle (a .tar.gz, docs/export-format.md) is downloadable
by compliance officers, and by the regulator it is addressed to — and by no one
else: a regulator sees only the exports addressed to it.
"""

from __future__ import annotations

import json
import logging
import threading
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import marshmallow as ma
from flask import Response, send_file

from domain.errors import DomainError, NotFound
from security.bootstrap import Ledger
from security.dialect import Dialect
from security.export.exporter import ExportActor, ExportScope, export_bundle
from web.api._blueprint import Blueprint
from web.auth import current_principal, roles_allowed
from web.context import get_ledger
from web.errors import BundleExpired, ExportNotReady, ExportScopeProblem
from web.schemas.common import QueryMoment

blp = Blueprint("exports", __name__, url_prefix="/api/v1/exports", description="Audit exports")
log = logging.getLogger(__name__)

OFFICERS = ("compliance_officer",)
READERS = ("compliance_officer", "regulator")


class ExportRequestSchema(ma.Schema):
    customers = ma.fields.List(ma.fields.UUID(), load_default=list)
    # a window asked about, read as the CLI reads --since/--until (domain.moments)
    since = QueryMoment(allow_none=True, load_default=None)
    until = QueryMoment(allow_none=True, load_default=None)
    all = ma.fields.Boolean(load_default=False)
    addressed_to = ma.fields.String(
        load_default=None,
        allow_none=True,
        validate=ma.validate.Length(min=1, max=100),
        metadata={"description": "The regulator (token subject) who may download the bundle"},
    )
    reason = ma.fields.String(
        load_default=None, allow_none=True, validate=ma.validate.Length(max=500)
    )


class ExportJobSchema(ma.Schema):
    id = ma.fields.String()
    status = ma.fields.String(metadata={"description": "running, done or failed"})
    requested_by = ma.fields.String()
    addressed_to = ma.fields.String(allow_none=True)
    scope = ma.fields.Dict()
    created_at = ma.fields.String()
    finished_at = ma.fields.String(allow_none=True)
    bundle_digest = ma.fields.String(allow_none=True)
    events = ma.fields.Integer(allow_none=True)
    error = ma.fields.String(allow_none=True)


class ExportJobs:
    """Export jobs as rows; bundles under `<data dir>/exports/<id>.tar.gz`."""

    def __init__(self, ledger: Ledger) -> None:
        self.ledger = ledger
        self.dialect: Dialect = ledger.keystore.dialect
        self.table = self.dialect.table("web_exports")
        self.folder = Path(ledger.config.data_dir) / "exports"
        self.dialect.create_tables(
            ledger.datastore,
            [
                f"CREATE TABLE IF NOT EXISTS {self.table} (id TEXT PRIMARY KEY, "
                "requested_by TEXT NOT NULL, addressed_to TEXT, scope TEXT NOT NULL, "
                "status TEXT NOT NULL, created_at TEXT NOT NULL, finished_at TEXT, "
                "bundle_digest TEXT, events INTEGER, error TEXT)"
            ],
        )

    def create(self, requested_by: str, addressed_to: str | None, scope: ExportScope) -> str:
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
                    "running",
                    datetime.now(UTC).isoformat(),
                ),
            )
        return job_id

    def finish(self, job_id: str, **fields: Any) -> None:
        fields["finished_at"] = datetime.now(UTC).isoformat()
        columns = ", ".join(f"{name}=?" for name in fields)
        with self.ledger.datastore.transaction(commit=True) as cursor:
            self.dialect.execute(
                cursor,
                f"UPDATE {self.table} SET {columns} WHERE id=?",
                (*fields.values(), job_id),
            )

    def get(self, job_id: str) -> dict[str, Any] | None:
        rows = self._select("WHERE id=?", (job_id,))
        return rows[0] if rows else None

    def listing(self, addressed_to: str | None) -> list[dict[str, Any]]:
        if addressed_to is None:
            return self._select("ORDER BY created_at DESC LIMIT 200", ())
        return self._select(
            "WHERE addressed_to=? ORDER BY created_at DESC LIMIT 200", (addressed_to,)
        )

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
            self.dialect.execute(cursor, f"SELECT * FROM {self.table} {where}", params)
            rows = [dict(row) for row in cursor.fetchall()]
        for row in rows:
            row["scope"] = json.loads(row["scope"])
        return rows


def jobs() -> ExportJobs:
    ledger = get_ledger()
    cached: ExportJobs | None = getattr(ledger, "_export_jobs", None)
    if cached is None:
        cached = ExportJobs(ledger)
        ledger._export_jobs = cached  # type: ignore[attr-defined]
    return cached


def run_export(store: ExportJobs, job_id: str, scope: ExportScope, actor: ExportActor) -> None:
    """Write the bundle and record the outcome; never raises (it runs in a thread)."""
    try:
        store.folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        store.purge()
        result = export_bundle(store.ledger, store.bundle_path(job_id), scope, actor, tar=True)
        # the bundle holds decrypted personal data and keys: owner-only
        store.bundle_path(job_id).chmod(0o600)
        store.finish(
            job_id, status="done", bundle_digest=result.bundle_digest, events=result.events
        )
    except DomainError as exc:
        store.finish(job_id, status="failed", error=exc.message)
    except Exception as exc:  # the message may hold anything: keep only its type
        log.error("export %s failed: %s", job_id, type(exc).__name__)
        store.finish(job_id, status="failed", error="internal error; see the server log")


def visible(job: dict[str, Any] | None) -> dict[str, Any]:
    """The job if the caller may see it; 404 otherwise (no hint that it exists)."""
    principal = current_principal()
    if job is None:
        raise NotFound("no such export")
    if "compliance_officer" in principal.roles:
        return job
    if job["addressed_to"] != principal.actor_id:
        raise NotFound("no such export")
    return job


@blp.route("", methods=["POST"])
@blp.arguments(ExportRequestSchema)
@blp.response(202, ExportJobSchema)
@roles_allowed(*OFFICERS)
def request_export(args: dict[str, Any]) -> Any:
    """Start an export (customers, a time window, or everything); answers 202 with its job.

    Poll `GET /api/v1/exports/<id>`; when `status` is `done`, download
    `/api/v1/exports/<id>/bundle`. The export is recorded in the ledger and in the
    access log.
    """
    principal = current_principal()
    try:
        scope = ExportScope(
            customers=tuple(str(c) for c in args["customers"]),
            since=args["since"],
            until=args["until"],
            everything=args["all"],
        )
    except DomainError as exc:
        raise ExportScopeProblem(exc.message.replace("--", "")) from None
    store = jobs()
    job_id = store.create(principal.actor_id, args["addressed_to"], scope)
    actor = ExportActor(principal.actor_id, "compliance_officer", "api", args["reason"])
    threading.Thread(
        target=run_export, args=(store, job_id, scope, actor), name=f"export-{job_id}", daemon=True
    ).start()
    return store.get(job_id), 202, {"Location": f"{blp.url_prefix}/{job_id}"}


@blp.route("", methods=["GET"])
@blp.response(200, ExportJobSchema(many=True))
@roles_allowed(*READERS)
def list_exports() -> Any:
    """Exports, newest first: all for compliance officers, a regulator's own for it."""
    principal = current_principal()
    officer = "compliance_officer" in principal.roles
    return jobs().listing(None if officer else principal.actor_id)


@blp.route("/<uuid:export_id>", methods=["GET"])
@blp.response(200, ExportJobSchema)
@roles_allowed(*READERS)
def read_export(export_id: uuid.UUID) -> Any:
    """One export job's state."""
    return visible(jobs().get(str(export_id)))


@blp.route("/<uuid:export_id>/bundle", methods=["GET"])
@blp.response(200, content_type="application/gzip")
@roles_allowed(*READERS)
def download_bundle(export_id: uuid.UUID) -> Response:
    """The finished bundle as .tar.gz (verify it with `ledger verify-bundle`)."""
    store = jobs()
    job = visible(store.get(str(export_id)))
    if job["status"] != "done":
        raise ExportNotReady(f"the export is {job['status']}, not done")
    store.purge()
    path = store.bundle_path(str(export_id))
    if not path.exists():
        raise BundleExpired("the bundle is no longer kept on this server; export again")
    return send_file(
        path,
        mimetype="application/gzip",
        as_attachment=True,
        download_name=f"crm-ledger-export-{export_id}.tar.gz",
    )
