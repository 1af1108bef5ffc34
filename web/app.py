"""The Flask app factory: configuration, hooks and blueprints.

What the blueprints share (the ledger, token settings, the idempotency store) lives
in `web.context`; nothing imports this module but its callers (the CLI, tests).
"""

from __future__ import annotations

import contextlib
import json
import os
import threading
import weakref
from collections.abc import Callable, Mapping
from inspect import iscoroutinefunction
from pathlib import Path
from typing import Any

import swagger_ui_bundle
from flask import Flask, Response, abort, jsonify, request, send_from_directory
from werkzeug.datastructures import Headers

from security.store_faults import as_store_fault
from web import auth, console, idempotency, logs
from web.api import _book as book
from web.console.settings import console_config
from web.context import get_ledger, idempotency_store, models_for_request, token_settings
from web.problems import LedgerApi, problem, register_problem_handlers

MAX_BODY_BYTES = 1 * 1024 * 1024

SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Permissions-Policy": "geolocation=(), camera=(), microphone=()",
}
# the API docs page: Swagger UI served from the installed swagger-ui-bundle package,
# its start-up script a file of ours; Swagger UI sets inline styles, nothing else inline
DOCS_CSP = (
    "default-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
    "frame-ancestors 'none'"
)
DOCS_ASSETS = frozenset(
    {"swagger-ui.css", "swagger-ui-bundle.js", "swagger-ui-standalone-preset.js"}
)
DEFAULT_CSP = "default-src 'self'; img-src 'self' data:; frame-ancestors 'none'"
# the headers an answer gets where its view set none: the API's, its docs page's, pages'
API_HEADERS = {
    **SECURITY_HEADERS,
    "Content-Security-Policy": DEFAULT_CSP,
    "Cache-Control": "no-store",
}
DOCS_HEADERS = {
    **SECURITY_HEADERS,
    "Content-Security-Policy": DOCS_CSP,
    "Cache-Control": "no-store",
}
PAGE_HEADERS = {**SECURITY_HEADERS, "Content-Security-Policy": DEFAULT_CSP}


def add_missing(headers: Headers, defaults: Mapping[str, str]) -> None:
    """Add each of `defaults` that `headers` lacks (names compared without case); one
    that is there stays as its view set it. One pass over the headers: werkzeug's
    `setdefault` scans them for each name (about 5% of a masked customer read's CPU)."""
    present = {name.lower() for name, _ in headers}
    for name, value in defaults.items():
        if name.lower() not in present:
            headers.add(name, value)


class LedgerFlask(Flask):
    """Flask, asking once per function whether it is a coroutine function: Flask asks
    `inspect.iscoroutinefunction` for every hook and view of every request (about 5%
    of a masked customer read's CPU). What is remembered is only that answer, weakly
    keyed by the function (a function's code does not change from sync to async)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._plain: weakref.WeakKeyDictionary[Callable[..., Any], bool] = (
            weakref.WeakKeyDictionary()
        )

    def ensure_sync(self, func: Callable[..., Any]) -> Callable[..., Any]:
        try:
            plain = self._plain[func]
        except (KeyError, TypeError):  # not seen yet, or not weakly referenceable
            plain = not iscoroutinefunction(func)
            with contextlib.suppress(TypeError):
                self._plain[func] = plain
        return func if plain else self.async_to_sync(func)


def create_app(config: Mapping[str, Any] | None = None) -> Flask:
    """Build the app; `config` may carry LEDGER (a built Ledger) or LEDGER_CONFIG.

    The console's settings come from the environment (web.console.settings: its session
    key, the cookie's Secure flag, its time zone); `config` wins over them."""
    app = LedgerFlask(__name__)
    app.config.update(
        API_TITLE="crm-ledger",
        API_VERSION="v1",
        OPENAPI_VERSION="3.0.3",
        OPENAPI_URL_PREFIX="/api/v1",
        OPENAPI_JSON_PATH="openapi.json",
        OPENAPI_SWAGGER_UI_PATH="docs",
        OPENAPI_SWAGGER_UI_URL="/docs-assets/",
        MAX_CONTENT_LENGTH=MAX_BODY_BYTES,
        JSON_SORT_KEYS=False,
    )
    app.config.from_mapping(console_config(os.environ))
    app.config.from_mapping(config or {})
    app.extensions["ledger_lock"] = threading.Lock()
    logs.configure_logging()
    logs.install(app)

    api = LedgerApi(
        app,
        spec_kwargs={
            "components": {
                "securitySchemes": {
                    "bearer": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}
                }
            },
            "security": [{"bearer": []}],
        },
    )
    app.extensions["ledger_api"] = api
    app.extensions["token_settings"] = token_settings
    register_problem_handlers(app)
    auth.install(app)  # before idempotency: a replay needs the caller's token and role
    install_json_guard(app)
    book.install(app)  # the book of business: after roles and JSON, before idempotency
    idempotency.install(app, idempotency_store)
    register_blueprints(api)
    install_docs_assets(app)
    console.install(app)  # /console: server-rendered pages over the same API

    @app.get("/healthz")
    def healthz() -> Any:
        return jsonify(status="ok")

    @app.get("/readyz")
    def readyz() -> Any:
        checks = {"store": "ok", "keyring": "ok"}
        try:
            ledger = get_ledger()
            ledger.app.recorder.max_notification_id()
        except Exception as exc:  # any failure to reach the store means not ready
            return jsonify(status="not ready", checks={"store": store_reason(exc)}), 503
        checks["keyring"] = ledger.keyring.readiness()
        from projections.runtime import views_ready

        models_for_request()  # starts this worker's projector unless configured off
        views = views_ready(ledger)
        checks["views"] = "ok" if views.ready else "lagging: " + "; ".join(views.reasons)
        checks["calendars"] = calendars_check(ledger.app)
        ready = all(v == "ok" or v.startswith(WARNING) for v in checks.values())
        # reported only: a witness that lags or is down must never make the instance
        # unready, since readiness gates the writes a witness must not block
        if ledger.config.witnesses:
            missing = ledger.missing_cosignatures()
            checks["witnesses"] = "ok" if not missing else "missing: " + "; ".join(missing)
        return jsonify(status="ok" if ready else "not ready", checks=checks), 200 if ready else 503

    @app.after_request
    def security_headers(response: Response) -> Response:
        path = request.path
        if path.startswith("/api/v1/docs"):
            add_missing(response.headers, DOCS_HEADERS)
        else:
            add_missing(response.headers, API_HEADERS if path.startswith("/api/") else PAGE_HEADERS)
        return response

    return app


WARNING = "warning: "  # a /readyz check that reports without making the instance unready


def calendars_check(app: Any) -> str:
    """ "ok"; which business calendars lack the current year (not ready: the rules
    counting business days would fail, never guess); or a warning naming those that lack
    the next year (ready: dates in it fail until the year is added)."""
    from security.calendars import coverage_problems, coverage_reason, coverage_warnings

    calendars = getattr(app, "calendars", None)
    if calendars is None:  # an application without business-day rules
        return "ok"
    today = app.now().date()
    problems = coverage_problems(calendars, today)
    if problems:
        return coverage_reason(problems)
    warnings = coverage_warnings(calendars, today)
    return "ok" if not warnings else WARNING + coverage_reason(warnings)


def store_reason(error: Exception) -> str:
    """Why /readyz finds the store not ready, without the driver's text (which may
    quote parameters): the fault's code and the error's class."""
    fault = as_store_fault(error)
    code = fault.code if fault is not None else "store_unavailable"
    return f"unavailable: {code} ({type(error).__name__})"


def install_docs_assets(app: Flask) -> None:
    """Serve Swagger UI's files from the pinned swagger-ui-bundle package and our start-up
    script, so /api/v1/docs works with no network and loads nothing from another origin.
    Outside /api/: they are the viewer's static files, not API endpoints, and public."""

    @app.get("/docs-assets/<name>")
    def docs_asset(name: str) -> Response:
        if name not in DOCS_ASSETS:
            abort(404)
        return send_from_directory(swagger_ui_bundle.swagger_ui_path, name, max_age=3600)

    @app.get("/docs-assets/init.js")
    def docs_init_script() -> Response:
        return send_from_directory(Path(app.root_path) / "static", "swagger-init.js")


def install_json_guard(app: Flask) -> None:
    """A body the API cannot take is refused before anything runs or is reserved: one
    that is not JSON is a 415, JSON the parser cannot take (nested too deep, a number
    too long) a 400, rather than an error deep inside argument parsing."""

    @app.before_request
    def refuse_what_is_not_json() -> Response | None:
        if not request.path.startswith("/api/") or request.routing_exception is not None:
            return None
        data = request.get_data(cache=True)
        if not data:
            return None
        if not request.is_json:
            return problem(
                415,
                "unsupported_media_type",
                "the body must be JSON, sent as application/json",
            )
        try:
            json.loads(data)
        except (ValueError, RecursionError):
            return problem(400, "bad_request", "the body is not valid JSON")
        return None


def register_blueprints(api: LedgerApi) -> None:
    """Every API blueprint; each module declares the roles of its endpoints."""
    from web.api import blueprints

    for blueprint in blueprints():
        api.register_blueprint(blueprint)
