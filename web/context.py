"""What the blueprints share, per app: the ledger, its read models, the token settings,
the idempotency store.

Blueprints import these from here, never from the app factory, so that imports in
web/ point one way: `web.app` → `web.api` → `web.context`. The ledger is built
lazily, on the first request that needs it, so that under gunicorn each worker builds
its own after the fork; tests pass a built ledger in `config["LEDGER"]`.
"""

from __future__ import annotations

from flask import current_app

from projections.runtime import ReadModels, read_models
from security.bootstrap import Ledger, Settings, build_ledger
from web.auth import TokenSettings
from web.idempotency import IdempotencyStore


def get_ledger() -> Ledger:
    """The ledger of this app (built once per process, on first use)."""
    app = current_app
    ledger: Ledger | None = app.config.get("LEDGER")
    if ledger is None:
        with app.extensions["ledger_lock"]:
            ledger = app.config.get("LEDGER")
            if ledger is None:
                config = app.config.get("LEDGER_CONFIG") or Settings.from_env()
                ledger = build_ledger(config)
                app.config["LEDGER"] = ledger
    return ledger


def token_settings() -> TokenSettings:
    """The bearer-token settings of this app (read once, keyed by the ledger's index key)."""
    cached: TokenSettings | None = current_app.extensions.get("token_settings_value")
    if cached is None:
        ledger = get_ledger()
        cached = TokenSettings.from_settings(ledger.config, ledger.keyring.index_key())
        current_app.extensions["token_settings_value"] = cached
    return cached


def idempotency_store() -> IdempotencyStore:
    """This app's store of idempotency keys and first answers."""
    store: IdempotencyStore | None = current_app.extensions.get("idempotency_store")
    if store is None:
        ledger = get_ledger()
        store = IdempotencyStore(ledger.datastore, ledger.keystore.dialect)
        current_app.extensions["idempotency_store"] = store
    return store


def models_for_request() -> ReadModels:
    """This process's read models. Its background projector starts on first use unless
    the app's `VIEWS_FOLLOW` (else the settings' `views_follow`) is off; off under TESTING."""
    ledger = get_ledger()
    models = read_models(ledger)
    follow = current_app.config.get("VIEWS_FOLLOW")
    if follow is None:
        follow = ledger.config.views_follow and not current_app.testing
    if follow:
        models.follow()
    return models
