"""Structured JSON logs with a request id, and no personal data.

Only the method, the path (ids in paths are pseudonymous UUIDs), the status, the
duration, the actor id and the request id are logged — never query strings,
bodies or headers, which may carry personal data. The servers' own request lines
lose their query strings too, in every mode: Flask's development server (the
`werkzeug` logger) and gunicorn (`gunicorn.error`, and `gunicorn.access` should an
access log be configured; its format, `GUNICORN_ACCESS_FORMAT`, has the path only).
"""

from __future__ import annotations

import json
import logging
import re
import sys
import time
import uuid
from typing import Any

from flask import Flask, Response, g, request

access_log = logging.getLogger("web.requests")
SERVER_LOGGERS = ("werkzeug", "gunicorn.error", "gunicorn.access")
# gunicorn's access-log atoms without %(r)s and %(q)s: the path (%(U)s), never the query
GUNICORN_ACCESS_FORMAT = '%(h)s %(t)s "%(m)s %(U)s %(H)s" %(s)s %(B)s %(M)sms'
_QUERY = re.compile(r"(/[^\s?\"']*)\?[^\s\"']*")


def without_query(text: str) -> str:
    """`text` with the query string of every path in it dropped."""
    return _QUERY.sub(r"\1", text)


class RedactQueryStrings(logging.Filter):
    """Drop query strings from a record's message (request lines carry them)."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        redacted = without_query(message)
        if redacted != message:
            record.msg, record.args = redacted, ()
        return True


def redact_server_logs() -> None:
    """Put `RedactQueryStrings` on the servers' loggers (once each)."""
    for name in SERVER_LOGGERS:
        logger = logging.getLogger(name)
        if not any(isinstance(f, RedactQueryStrings) for f in logger.filters):
            logger.addFilter(RedactQueryStrings())


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": self.formatTime(record, "%Y-%m-%dT%H:%M:%S%z"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        for key in ("request_id", "method", "path", "status", "duration_ms", "actor_id"):
            if hasattr(record, key):
                entry[key] = getattr(record, key)
        return json.dumps(entry, ensure_ascii=False)


def configure_logging(level: int = logging.INFO) -> None:
    """Send every log record to stderr as one JSON object per line; the servers'
    request lines without their query strings."""
    redact_server_logs()
    root = logging.getLogger()
    if any(isinstance(h.formatter, JsonFormatter) for h in root.handlers):
        return
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter())
    root.handlers = [handler]
    root.setLevel(level)


def install(app: Flask) -> None:
    """Request ids (X-Request-Id in and out) and one log line per request."""

    @app.before_request
    def start() -> None:
        given = request.headers.get("X-Request-Id", "")
        valid = given if given and len(given) <= 64 and given.isprintable() else ""
        g.request_id = valid or uuid.uuid4().hex
        g.started = time.perf_counter()

    @app.after_request
    def finish(response: Response) -> Response:
        response.headers["X-Request-Id"] = g.get("request_id", "")
        principal = g.get("principal")
        access_log.info(
            "request",
            extra={
                "request_id": g.get("request_id"),
                "method": request.method,
                "path": request.path,
                "status": response.status_code,
                "duration_ms": round((time.perf_counter() - g.get("started", 0)) * 1000, 2),
                "actor_id": principal.actor_id if principal else None,
            },
        )
        return response
