"""The Flask app factory.

The ledger is built lazily, on the first request that needs it, so that under
gunicorn each worker builds its own after the fork.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from typing import Any

from flask import Flask, current_app, jsonify

from security.bootstrap import Ledger, LedgerConfig, build_ledger


def create_app(config: Mapping[str, Any] | None = None) -> Flask:
    """Build the app; `config` may carry LEDGER (a built Ledger) or LEDGER_CONFIG."""
    app = Flask(__name__)
    app.config.from_mapping(config or {})
    app.extensions["ledger_lock"] = threading.Lock()

    @app.get("/healthz")
    def healthz() -> Any:
        return jsonify(status="ok")

    @app.get("/readyz")
    def readyz() -> Any:
        ledger = get_ledger()
        checks = {"store": "ok", "keyring": "ok"}
        status = 200
        try:
            ledger.app.recorder.max_notification_id()
        except Exception:  # any failure to reach the store means not ready
            checks["store"] = "unreachable"
            status = 503
        try:
            ledger.keyring.kek(ledger.keyring.active_kek_id())
        except Exception:
            checks["keyring"] = "not loaded"
            status = 503
        return jsonify(status="ok" if status == 200 else "not ready", checks=checks), status

    return app


def get_ledger() -> Ledger:
    """The ledger of this app (built once per process, on first use)."""
    app = current_app
    ledger: Ledger | None = app.config.get("LEDGER")
    if ledger is None:
        with app.extensions["ledger_lock"]:
            ledger = app.config.get("LEDGER")
            if ledger is None:
                config = app.config.get("LEDGER_CONFIG") or LedgerConfig.from_env()
                ledger = build_ledger(config)
                app.config["LEDGER"] = ledger
    return ledger
