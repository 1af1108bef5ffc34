"""The access log: every read of personal data (actor, role, purpose, subject, what)."""

from __future__ import annotations

from datetime import UTC
from typing import Any

from web.api._blueprint import Blueprint
from web.api._http import jsonable
from web.auth import roles_allowed
from web.context import get_ledger
from web.schemas.access_log import AccessLogQuery, AccessLogSchema

blp = Blueprint(
    "access_log", __name__, url_prefix="/api/v1/access-log", description="Reads of personal data"
)


@blp.route("", methods=["GET"])
@blp.arguments(AccessLogQuery, location="query")
@blp.response(200, AccessLogSchema)
@roles_allowed("compliance_officer", "security_officer")
def access_entries(args: dict[str, Any]) -> dict[str, Any]:
    """Entries of the access log, newest first, filtered by subject, actor and time.

    Entries name subjects by id and what was read by a field-set name, never a value.
    """
    subject = args.get("subject")
    since = args.get("since")
    entries = get_ledger().access_log.entries(
        subject_id=str(subject) if subject else None,
        actor_id=args.get("actor"),
        since=since.astimezone(UTC).isoformat() if since else None,
        limit=args["limit"],
        offset=args["offset"],
    )
    return {"entries": jsonable(entries)}
