"""The console's one way to the ledger's data: the REST API, called in process with the
signed-in user's own token.

Every read or write of the console is an API request with the token of the session
(and, for a disclosure, its stated purpose in `X-Purpose`): roles, the book of
business, purpose-bound disclosure, the access log, search limits and four eyes are the
API's, enforced by the same code, so the console is no second path to personal data.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from flask import Response, current_app, g, request, session
from werkzeug.datastructures import Headers
from werkzeug.test import Client

API = "/api/v1"
TOKEN_KEY = "token"  # noqa: S105  (the session key that holds it, not a secret)


@dataclass(frozen=True)
class Answer:
    """The API's answer: status, JSON body (or text), headers."""

    status: int
    body: Any
    headers: Headers
    text: str

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300

    @property
    def problem(self) -> str:
        """What went wrong, as the API's problem says it, with the fields it names."""
        if isinstance(self.body, dict):
            said = str(self.body.get("detail") or self.body.get("title") or self.status)
            errors = field_errors(self.body.get("errors"))
            return f"{said} ({'; '.join(errors)})" if errors else said
        return str(self.status)


def field_errors(errors: Any, prefix: str = "") -> list[str]:
    """A problem's `errors` ({field: [message] or nested}) as "field: message" lines."""
    if isinstance(errors, dict):
        return [
            line
            for key, value in errors.items()
            for line in field_errors(
                value, f"{prefix}{key}." if isinstance(value, dict) else f"{prefix}{key}"
            )
        ]
    if isinstance(errors, list):
        return [f"{prefix}: {message}" for message in errors if isinstance(message, str)]
    return [f"{prefix}: {errors}"] if errors is not None else []


def caller_headers(purpose: str | None) -> dict[str, str]:
    """The session's token, the stated purpose, and the console request's id (so the
    API's request log lines share it with the page's)."""
    headers = {
        "Authorization": f"Bearer {session.get(TOKEN_KEY, '')}",
        "X-Request-Id": str(g.get("request_id", "")),
    }
    if purpose:
        headers["X-Purpose"] = purpose
    return headers


def call(
    method: str,
    path: str,
    *,
    purpose: str | None = None,
    query: Mapping[str, Any] | None = None,
    json: Any = None,
    headers: Mapping[str, str] | None = None,
) -> Answer:
    """`method` `/api/v1{path}` as the signed-in user (their token), stating `purpose`."""
    sent = {**caller_headers(purpose), **(headers or {})}
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    params = {key: value for key, value in (query or {}).items() if value not in (None, "")}
    # a fresh application context: the API request's `g` (its caller, role, book) must
    # not leak into the console's request or into the next call
    with app.app_context():
        response = Client(app).open(
            API + path,
            method=method,
            query_string=params,
            json=json,
            headers=sent,
            environ_base={"REMOTE_ADDR": request.remote_addr or "127.0.0.1"},
        )
        text = response.get_data(as_text=True)
        body = response.get_json(silent=True) if response.is_json else None
        answer = Answer(response.status_code, body, Headers(response.headers), text)
        response.close()
    return answer


def download(path: str, *, purpose: str | None = None) -> Response:
    """`GET /api/v1{path}` as the signed-in user, the API's answer passed on as it is
    (status, headers, body streamed: a bundle is not held in memory)."""
    headers = caller_headers(purpose)
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    with app.app_context():
        inner = Client(app, response_wrapper=Response).open(
            API + path,
            headers=headers,
            environ_base={"REMOTE_ADDR": request.remote_addr or "127.0.0.1"},
        )
    passed = ("Content-Type", "Content-Disposition", "Content-Length")
    return Response(
        inner.response,
        status=inner.status_code,
        headers={name: inner.headers[name] for name in passed if name in inner.headers},
        direct_passthrough=True,
    )


def get(path: str, **kwargs: Any) -> Answer:
    return call("GET", path, **kwargs)
