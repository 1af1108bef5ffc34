"""The access log: every read of personal data (actor, role, purpose, subject, what)."""

from __future__ import annotations

from datetime import UTC, datetime
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
    """Entries of the access log, newest first, filtered by subject, actor, purpose and
    time [since, until); a page of `limit` from `offset`, `next_offset` the next page's.

    Entries name subjects by id and what was read by a field-set name, never a value.
    """
    subject = args.get("subject")
    limit, offset = args["limit"], args["offset"]
    entries = get_ledger().access_log.entries(
        subject_id=str(subject) if subject else None,
        actor_id=args.get("actor"),
        purpose=args.get("purpose"),
        since=_utc(args.get("since")),
        until=_utc(args.get("until")),
        limit=limit + 1,  # one more: is there a next page?
        offset=offset,
    )
    more = len(entries) > limit
    return {"entries": jsonable(entries[:limit]), "next_offset": offset + limit if more else None}


def _utc(moment: datetime | None) -> str | None:
    """A moment as the access log stores times (ISO 8601 in UTC), compared as text."""
    return moment.astimezone(UTC).isoformat() if moment is not None else None
