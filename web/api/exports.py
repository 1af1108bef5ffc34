"""Audit-trail exports over HTTP: compliance officers request, regulators download.

`POST /api/v1/exports` starts an export in the background and answers 202 with a
job id; the job's state lives in the store (`web_exports`), so any worker can
report it. The finished bundle (a .tar.gz, docs/export-format.md) is downloadable
by compliance officers, and by the regulator it is addressed to — and by no one
else: a regulator sees only the exports addressed to it.

Four eyes on bulk disclosure: a whole-ledger export, and any export not addressed to
a named regulator, waits in `pending_approval` until a second compliance officer (a
different token subject) approves it (`POST /api/v1/exports/<id>/approval`); only
then does it run. Every download of a bundle is recorded in the access log.
"""

from __future__ import annotations

import logging
import threading
import uuid
from typing import Any

import marshmallow as ma
from flask import Response, send_file

from domain.errors import DomainError, NotFound
from security.export.exporter import ExportActor, ExportScope, export_bundle
from security.integrity.access_log import NO_PURPOSE
from web.api._blueprint import Blueprint
from web.api._disclosure import stated_purpose
from web.api._export_jobs import PENDING, ExportJobs, scope_of
from web.api._http import PURPOSE_PARAM
from web.auth import acting_role, current_principal, roles_allowed
from web.context import get_ledger
from web.errors import (
    BundleExpired,
    ExportNotPending,
    ExportNotReady,
    ExportScopeProblem,
    SameApprover,
)
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
    status = ma.fields.String(metadata={"description": "pending_approval, running, done or failed"})
    requested_by = ma.fields.String()
    approved_by = ma.fields.String(
        allow_none=True, metadata={"description": "the second compliance officer, if needed"}
    )
    approved_at = ma.fields.String(allow_none=True)
    addressed_to = ma.fields.String(allow_none=True)
    scope = ma.fields.Dict()
    created_at = ma.fields.String()
    finished_at = ma.fields.String(allow_none=True)
    bundle_digest = ma.fields.String(allow_none=True)
    events = ma.fields.Integer(allow_none=True)
    error = ma.fields.String(allow_none=True)


def jobs() -> ExportJobs:
    ledger = get_ledger()
    cached: ExportJobs | None = getattr(ledger, "_export_jobs", None)
    if cached is None:
        cached = ExportJobs(ledger)
        ledger._export_jobs = cached  # type: ignore[attr-defined]
    return cached


def run_export(store: ExportJobs, job_id: str, scope: ExportScope, actor: ExportActor) -> None:
    """Write the bundle and record the outcome, beating the job's heartbeat meanwhile;
    never raises (it runs in a thread). If the outcome cannot be recorded (the store is
    closing or gone), the job's missing heartbeat settles it as interrupted later."""
    try:
        with store.heartbeat(job_id):
            outcome = _export(store, job_id, scope, actor)
        if not store.finish(job_id, **outcome) and outcome["status"] == "done":
            # settled as interrupted meanwhile: it stays failed, its bundle goes
            store.bundle_path(job_id).unlink(missing_ok=True)
    except Exception as exc:  # the message may hold anything: keep only its type
        log.error("export %s: its outcome was not recorded: %s", job_id, type(exc).__name__)


def _export(
    store: ExportJobs, job_id: str, scope: ExportScope, actor: ExportActor
) -> dict[str, Any]:
    """Write the bundle; the job's outcome as the fields to record."""
    try:
        store.folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        store.purge()
        result = export_bundle(store.ledger, store.bundle_path(job_id), scope, actor, tar=True)
        # the bundle holds decrypted personal data and keys: owner-only
        store.bundle_path(job_id).chmod(0o600)
        return {"status": "done", "bundle_digest": result.bundle_digest, "events": result.events}
    except DomainError as exc:
        return {"status": "failed", "error": exc.message}
    except Exception as exc:  # the message may hold anything: keep only its type
        log.error("export %s failed: %s", job_id, type(exc).__name__)
        return {"status": "failed", "error": "internal error; see the server log"}


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
    pending = needs_four_eyes(scope, args["addressed_to"])
    job_id = store.create(
        principal.actor_id,
        args["addressed_to"],
        scope,
        pending=pending,
        pending_reason=args["reason"],
    )
    if not pending:
        actor = ExportActor(principal.actor_id, "compliance_officer", "api", args["reason"])
        start(store, job_id, scope, actor)
    return store.get(job_id), 202, {"Location": f"{blp.url_prefix}/{job_id}"}


def needs_four_eyes(scope: ExportScope, addressed_to: str | None) -> bool:
    """A whole-ledger export, or one addressed to no named regulator, needs a second
    compliance officer's approval before it runs."""
    return scope.everything or addressed_to is None


def start(store: ExportJobs, job_id: str, scope: ExportScope, actor: ExportActor) -> None:
    threading.Thread(
        target=run_export, args=(store, job_id, scope, actor), name=f"export-{job_id}", daemon=True
    ).start()


@blp.route("/<uuid:export_id>/approval", methods=["POST"])
@blp.response(202, ExportJobSchema)
@roles_allowed(*OFFICERS)
def approve_export(export_id: uuid.UUID) -> Any:
    """Approve an export waiting in `pending_approval` (four eyes): the approver must be
    another compliance officer than the one who requested it (403 `same_approver`);
    an export not waiting is a 409 `export_not_pending`. The export then runs; the
    approval is recorded on the job and in the ledger's export record (its reason)."""
    principal = current_principal()
    store = jobs()
    job = visible(store.get(str(export_id)))
    if job["status"] != PENDING:
        raise ExportNotPending(f"the export is {job['status']}: there is nothing to approve")
    if job["requested_by"] == principal.actor_id:
        raise SameApprover("an export needs the approval of another compliance officer")
    approved, reason = store.approve(job["id"], principal.actor_id)
    if not approved:
        raise ExportNotPending("the export was approved meanwhile")
    recorded = f"{reason or 'no reason given'}; approved by {principal.actor_id}"
    actor = ExportActor(job["requested_by"], "compliance_officer", "api", recorded[:500])
    start(store, job["id"], scope_of(job["scope"]), actor)
    return store.get(job["id"]), 202, {"Location": f"{blp.url_prefix}/{job['id']}"}


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
@blp.doc(parameters=[PURPOSE_PARAM])
@roles_allowed(*READERS)
def download_bundle(export_id: uuid.UUID) -> Response:
    """The finished bundle as .tar.gz (verify it with `ledger verify-bundle`).

    Every download is recorded in the access log before the bundle leaves: who, which
    bundle (the export's id as the subject), when, and the purpose stated in `X-Purpose` (`none`
    without one); an export of named customers also adds one entry per customer."""
    store = jobs()
    job = visible(store.get(str(export_id)))
    if job["status"] != "done":
        raise ExportNotReady(f"the export is {job['status']}, not done")
    store.purge()
    path = store.bundle_path(str(export_id))
    if not path.exists():
        raise BundleExpired("the bundle is no longer kept on this server; export again")
    log_download(job)
    return send_file(
        path,
        mimetype="application/gzip",
        as_attachment=True,
        download_name=f"crm-ledger-export-{export_id}.tar.gz",
    )


def log_download(job: dict[str, Any]) -> None:
    """Record a bundle's download in the access log: the bundle, and each customer it
    was exported for."""
    principal, purpose = current_principal(), stated_purpose() or NO_PURPOSE
    what = f"export.bundle:{job['id']}"
    access_log = get_ledger().access_log
    for subject in (job["id"], *job["scope"]["customers"]):
        access_log.record(
            actor_id=principal.actor_id,
            role=acting_role(),
            purpose=purpose,
            subject_id=subject,
            what=what,
        )
