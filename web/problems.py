"""RFC 9457 problem details: every error of the API, mapped in one place.

Each problem has a stable `type` URI (`PROBLEM_BASE` + code), a `title`, the
`status`, a `detail` that never contains personal data, and for validation errors
an `errors` object listing every bad field.

Invalid input is one shape whoever found it, the request's schema or the domain: a
422 problem `validation_failed` whose `errors` maps each field's path to a list of
messages. A path is dotted through objects and list items (`id_document.expires_on`,
`data_categories.1`); query-string and header fields are named as sent (`as_of`,
`X-Min-Position`); errors of a whole object are under `_schema`.
"""

from __future__ import annotations

import http
import logging
import traceback
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import marshmallow as ma
from flask import Flask, Response, g, json
from flask_smorest import Api
from flask_smorest.utils import prepare_response
from werkzeug.exceptions import HTTPException

from domain.errors import DomainError, ValidationFailed
from security.store_faults import StoreFault, as_store_fault
from web.statuses import VALIDATION, status_of

PROBLEM_BASE = "https://crm-ledger.example/problems/"
PROBLEM_JSON = "application/problem+json"

log = logging.getLogger("web.problems")

HTTP_CODES = {
    400: "bad_request",
    401: "unauthenticated",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    406: "not_acceptable",
    409: "conflict",
    412: "precondition_failed",
    413: "payload_too_large",
    415: "unsupported_media_type",
    422: "validation_failed",
    428: "precondition_required",
    429: "too_many_requests",
    500: "internal_error",
    503: "unavailable",
    507: "insufficient_storage",
}


class ProblemSchema(ma.Schema):
    """RFC 9457 problem details (documentation of the error payload)."""

    type = ma.fields.String(metadata={"description": "Stable URI naming the problem kind"})
    title = ma.fields.String()
    status = ma.fields.Integer()
    detail = ma.fields.String()
    instance = ma.fields.String()
    code = ma.fields.String(metadata={"description": "Stable machine-readable code"})
    errors = ma.fields.Dict(
        keys=ma.fields.String(),
        values=ma.fields.List(ma.fields.String()),
        metadata={
            "description": "Every bad field by its path (`id_document.expires_on`, "
            "`data_categories.1`, a query or header name), with its messages",
            "example": {"kind": ["must be one of: individual, corporate"]},
        },
    )


def problem(
    status: int,
    code: str,
    detail: str,
    *,
    title: str | None = None,
    errors: dict[str, Any] | None = None,
    headers: dict[str, str] | None = None,
    extra: Mapping[str, Any] | None = None,
) -> Response:
    """A problem+json response; `extra` adds members (RFC 9457 extensions) that do not
    replace the standard ones."""
    body: dict[str, Any] = {
        "type": PROBLEM_BASE + code,
        "title": title or code.replace("_", " ").capitalize(),
        "status": status,
        "detail": detail,
        "code": code,
    }
    request_id = getattr(g, "request_id", None)
    if request_id:
        body["instance"] = f"urn:request:{request_id}"
    if errors:
        body["errors"] = errors
    for key, value in (extra or {}).items():
        body.setdefault(key, value)
    response = Response(json.dumps(body), status=status, mimetype=PROBLEM_JSON)
    for key, value in (headers or {}).items():
        response.headers[key] = value
    return response


class LedgerApi(Api):  # type: ignore[misc]
    """flask-smorest's Api, answering every HTTP error as problem+json."""

    ERROR_SCHEMA = ProblemSchema

    def _register_responses(self) -> None:
        """Document every error response as what it is: application/problem+json."""
        for status in http.HTTPStatus:
            response: dict[str, Any] = {"description": status.phrase}
            if status >= 400:
                response["schema"] = self.ERROR_SCHEMA
            prepare_response(response, self.spec, PROBLEM_JSON)
            self.spec.components.response(status.name, response, lazy=True)
        default = {"description": "A problem (RFC 9457)", "schema": self.ERROR_SCHEMA}
        prepare_response(default, self.spec, PROBLEM_JSON)
        self.spec.components.response(self.DEFAULT_ERROR_RESPONSE_NAME, default, lazy=True)

    def handle_http_exception(self, error: HTTPException) -> Response:
        status = error.code or 500
        data = getattr(error, "data", None) or {}
        messages = data.get("messages")
        if status == 422 and isinstance(messages, Mapping):
            # webargs nests the schema's messages under the location they came from
            errors: dict[str, list[str]] = {}
            for located in messages.values():
                errors.update(field_errors(located))
            return validation_problem(errors, data.get("headers"))
        detail = data.get("message") or error.description or error.name
        return problem(
            status,
            HTTP_CODES.get(status, "http_error"),
            str(detail),
            title=error.name,
            headers=data.get("headers"),
        )


def field_errors(messages: Any, path: str = "") -> dict[str, list[str]]:
    """Marshmallow's nested messages as one list of messages per dotted field path."""
    if isinstance(messages, Mapping):
        flat: dict[str, list[str]] = {}
        for key, value in messages.items():
            flat.update(field_errors(value, f"{path}.{key}" if path else str(key)))
        return flat
    if isinstance(messages, list | tuple):
        texts = [text for text in messages if isinstance(text, str)]
        nested = [item for item in messages if not isinstance(item, str)]
        flat = {path: texts} if texts else {}
        for item in nested:
            flat.update(field_errors(item, path))
        return flat
    return {path: [str(messages)]}


def validation_problem(
    errors: Mapping[str, list[str]], headers: dict[str, str] | None = None
) -> Response:
    """The one answer to invalid input: 422 `validation_failed` with every bad field."""
    return problem(
        VALIDATION,
        ValidationFailed.code,
        "the request has invalid fields: see errors",
        errors=dict(errors),
        headers=headers,
    )


def register_problem_handlers(app: Flask) -> None:
    """Domain errors and unexpected exceptions become problems too."""

    @app.errorhandler(DomainError)
    def on_domain_error(exc: DomainError) -> Response:
        if isinstance(exc, StoreFault):
            return store_fault_problem(exc)
        status = status_of(exc)
        if isinstance(exc, ValidationFailed) and status == VALIDATION:
            return validation_problem({path: [text] for path, text in exc.errors.items()})
        if status >= 500:
            log.error("domain error %s: %s", exc.code, exc.message)
        # extension members an endpoint attached for this caller (never personal data)
        return problem(status, exc.code, exc.message, extra=getattr(exc, "problem_fields", None))

    @app.errorhandler(Exception)
    def on_unexpected(exc: Exception) -> Response:
        if isinstance(exc, HTTPException):
            return app.extensions["ledger_api"].handle_http_exception(exc)  # type: ignore[no-any-return]
        # the message may hold anything, personal data included: log the type and
        # where it happened, never str(exc)
        where = fault_location(exc)
        fault = as_store_fault(exc)
        if fault is not None:
            log.warning("store %s (%s) at %s", fault.fault, type(exc).__name__, where)
            return store_fault_problem(fault)
        log.error("unhandled %s at %s", type(exc).__name__, where)
        return problem(500, "internal_error", "an internal error occurred; it was logged")


_ROOT = str(Path(__file__).resolve().parents[1])
OWN_CODE = tuple(
    f"{_ROOT}/{package}/" for package in ("domain", "security", "web", "projections", "scheduler")
)


def fault_location(exc: BaseException) -> str:
    """Where an unexpected exception happened, for the log (never its message): the
    innermost three frames, and, when none of them is ours, the innermost frame of our
    own code in it or in the exceptions it was raised from (a driver's error re-raised by
    the library's `get_connection` shows only library frames otherwise)."""

    def name(frame: traceback.FrameSummary) -> str:
        return f"{frame.filename.rsplit('/', 1)[-1]}:{frame.lineno}:{frame.name}"

    def ours(frame: traceback.FrameSummary) -> bool:
        return frame.filename.startswith(OWN_CODE)

    frames = traceback.extract_tb(exc.__traceback__)
    where = " <- ".join(name(f) for f in frames[-3:])
    if any(ours(f) for f in frames[-3:]):
        return where
    chain: list[BaseException] = []
    current: BaseException | None = exc
    while current is not None and current not in chain and len(chain) < 8:
        chain.append(current)
        current = current.__cause__ or current.__context__
    for link in reversed(chain):  # the innermost exception first
        own = [f for f in traceback.extract_tb(link.__traceback__) if ours(f)]
        if own:
            return f"{where} (in {' <- '.join(name(f) for f in own[-2:])})"
    return where


def store_fault_problem(fault: StoreFault) -> Response:
    """A store that is busy, unavailable (503) or full (507), with `Retry-After`: nothing
    of the request was recorded (its transaction was rolled back)."""
    return problem(
        status_of(fault),
        fault.code,
        fault.message,
        headers={"Retry-After": str(fault.retry_after)},
    )
