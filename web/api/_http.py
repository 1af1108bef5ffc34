"""What every resource module needs from the request: the acting caller, If-Match,
the ETag, and the parameters documented in the OpenAPI document."""

from __future__ import annotations

import re
from dataclasses import asdict, is_dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any
from urllib.parse import unquote
from uuid import UUID

from flask import g, request

from domain.actor import Actor
from domain.errors import ValidationFailed, VersionConflict
from security.integrity.access_log import PURPOSES
from web.auth import acting_role, current_principal
from web.errors import BadPrecondition, PreconditionRequired

CHANNEL = "api"
REASON_HEADER = "X-Reason"
REASON_MAX = 500
_ETAG = re.compile(r'^"([0-9]{1,18})"$|^([0-9]{1,18})$')
# one line of text: no control characters at all (not even tab or newline), no surrogates
_NOT_ONE_LINE = re.compile(r"[\x00-\x1f\x7f\ud800-\udfff]")


def stated_reason() -> str | None:
    """The request's `X-Reason`: one line of at most REASON_MAX characters, UTF-8
    percent-encoded where not ASCII (a header carries no other text safely); None
    without one; 422 when malformed. Read once per request."""
    if "stated_reason" in g:
        cached: str | None = g.stated_reason
        return cached
    header = request.headers.get(REASON_HEADER)
    reason = None if header is None else _decoded_reason(header)
    g.stated_reason = reason
    return reason


def _decoded_reason(header: str) -> str:
    def refused(why: str) -> ValidationFailed:
        return ValidationFailed({REASON_HEADER: why})

    if not header.isascii():
        raise refused("must be ASCII: percent-encode UTF-8 text")
    try:
        text = unquote(header, errors="strict")
    except UnicodeDecodeError:
        raise refused("must be UTF-8, percent-encoded where not ASCII") from None
    if _NOT_ONE_LINE.search(text):
        raise refused("must be one line without control characters")
    text = text.strip()
    if not text:
        raise refused("must not be blank")
    if len(text) > REASON_MAX:
        raise refused(f"at most {REASON_MAX} characters")
    return text


def actor() -> Actor:
    """The caller as the domain records it: token subject, acting role, channel `api`,
    and why. The reason is the request's `X-Reason`, after the stated purpose (from the
    fixed vocabulary) when there is one ("emergency_access: INC-42"); either alone
    when only one is given. Every event the request records carries it."""
    principal = current_principal()
    purpose = request.headers.get("X-Purpose")
    parts = [purpose if purpose in PURPOSES else None, stated_reason()]
    reason = ": ".join(part for part in parts if part) or None
    return Actor(principal.actor_id, acting_role(), CHANNEL, reason)


def etag(version: int) -> str:
    """The strong ETag of an aggregate version."""
    return f'"{version}"'


def expected_version(*, required: bool) -> int | None:
    """The aggregate version named by If-Match; None for `*` or (when optional) none.

    Missing and required: 428. A weak tag never matches (RFC 9110 compares If-Match
    strongly): 412. Anything else that is not one ETag of ours: 400.
    """
    header = request.headers.get("If-Match")
    if header is None or not header.strip():
        if required:
            raise PreconditionRequired("this update needs If-Match with the version's ETag")
        return None
    value = header.strip()
    if value == "*":
        return None
    if value.startswith("W/"):
        raise VersionConflict("a weak ETag never matches If-Match")
    match = _ETAG.match(value)
    if match is None:
        raise BadPrecondition('If-Match must be one ETag of this API, like "3"')
    return int(match.group(1) or match.group(2))


def jsonable(value: Any) -> Any:
    """Domain values as JSON values: dates ISO 8601, decimals and UUIDs as strings."""
    if value is None or isinstance(value, bool | int | str | float):
        return value
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal | UUID):
        return str(value)
    if is_dataclass(value) and not isinstance(value, type):
        return {key: jsonable(item) for key, item in asdict(value).items()}
    if isinstance(value, dict):
        return {str(key): jsonable(item) for key, item in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [jsonable(item) for item in value]
    return str(value)


# --- documented parameters ------------------------------------------------------------

PURPOSE_PARAM = {
    "in": "header",
    "name": "X-Purpose",
    "required": False,
    "schema": {"type": "string", "enum": list(PURPOSES)},
    "description": "Why personal data is read. With a role allowed to see it, the "
    "answer is unmasked and the read is recorded in the access log; an unknown purpose "
    "is a 422 validation problem. `emergency_access` (break glass: a customer outside "
    "the caller's book) needs an `X-Reason` header with the incident or ticket "
    "reference, and is alerted.",
}
IF_MATCH_REQUIRED = {
    "in": "header",
    "name": "If-Match",
    "required": True,
    "schema": {"type": "string", "pattern": '^"[0-9]{1,18}"$'},
    "description": 'The ETag (aggregate version, like "3") the update is based on: '
    "missing 428, stale 412.",
}
IF_MATCH_OPTIONAL = {
    **IF_MATCH_REQUIRED,
    "required": False,
    "description": "Optional ETag (aggregate version) the command is based on: stale 412.",
}
IDEMPOTENCY_PARAM = {
    "in": "header",
    "name": "Idempotency-Key",
    "required": False,
    "schema": {"type": "string", "minLength": 1, "maxLength": 200, "pattern": "^[!-~]+$"},
    "description": "A replay with the same key and body returns the first answer "
    "(`Idempotent-Replayed: true`) and records nothing new; the same key with another "
    "body is a 422 problem.",
}
REASON_PARAM = {
    "in": "header",
    "name": REASON_HEADER,
    "required": False,
    "schema": {
        "type": "string",
        "minLength": 1,
        "maxLength": 12 * REASON_MAX,
        "pattern": "^[!-~][ -~]*$",
    },
    "description": "Why this change is made: recorded on every event the request records "
    f"(after the `X-Purpose`, if any). One line, at most {REASON_MAX} characters, UTF-8 "
    "percent-encoded where not ASCII; it may be personal, so it is encrypted with the "
    "events, masked in the timeline unless disclosed, and never logged.",
}
ETAG_HEADER = {"ETag": {"description": "the aggregate version", "schema": {"type": "string"}}}
