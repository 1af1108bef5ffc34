"""What the console's modules share: its prefix and languages, its CSP, the CSRF and
translation extensions, the session cookie, the locale and the firm's time zone."""

from __future__ import annotations

import hashlib
import hmac
import logging
from pathlib import Path
from typing import Any

from flask import Flask, Request, current_app, request, session
from flask.sessions import SecureCookieSessionInterface
from flask_babel import Babel
from flask_wtf.csrf import CSRFProtect

PREFIX = "/console"
LANGUAGES = {"en": "English", "zh_CN": "简体中文"}
CONSOLE_CSP = (
    "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
    "form-action 'self'; base-uri 'none'; object-src 'none'; frame-ancestors 'none'"
)
HERE = Path(__file__).parent
log = logging.getLogger(__name__)
csrf = CSRFProtect()
babel = Babel()


class ConsoleSessions(SecureCookieSessionInterface):
    """Flask's signed-cookie session, for the console's pages only (the API takes
    bearer tokens and no cookie); its key is derived from the token secret unless
    SECRET_KEY is configured, so every worker sharing a keyring agrees."""

    def open_session(self, app: Flask, request: Request) -> Any:
        if not request.path.startswith(PREFIX):
            return None  # a null session: nothing read, nothing set
        if not app.secret_key:
            app.secret_key = session_secret()
        return super().open_session(app, request)

    def get_cookie_secure(self, app: Flask) -> bool:
        """Secure when configured, and always on a request that came over HTTPS (also
        through a trusted proxy: gunicorn takes X-Forwarded-Proto from
        `forwarded_allow_ips`), so a TLS deployment needs no setting for it."""
        return bool(app.config["SESSION_COOKIE_SECURE"]) or request.is_secure


def session_secret() -> bytes:
    from web.context import token_settings

    return hmac.new(
        token_settings().secret, b"crm-ledger/console-session/v1", hashlib.sha256
    ).digest()


def select_locale() -> str:
    """The language switch's choice, else the browser's (Accept-Language), else English."""
    chosen = session.get("lang") if request.path.startswith(PREFIX) else None
    if chosen in LANGUAGES:
        return str(chosen)
    best = request.accept_languages.best_match(["en", "zh-CN", "zh"], default="en")
    return "zh_CN" if best.startswith("zh") else "en"


def firm_timezone() -> str:
    """The firm's time zone: CONSOLE_TIMEZONE, else the scheduler's
    (LEDGER_SCHEDULER_TIMEZONE / the scheduler file), whose days the jobs count."""
    configured = current_app.config.get("CONSOLE_TIMEZONE")
    if configured:
        return str(configured)
    cached = current_app.extensions.get("console_timezone")
    if cached is None:
        from scheduler.config import SchedulerConfigError, load_scheduler_settings
        from scheduler.registry import DEFAULT_CRONS
        from web.context import get_ledger

        try:
            cached = load_scheduler_settings(DEFAULT_CRONS, get_ledger().config.scheduler_env)
            cached = cached.timezone
        except SchedulerConfigError as exc:  # `ledger scheduler` refuses to start on it
            log.warning("the scheduler configuration is refused (%s): console times in UTC", exc)
            cached = "UTC"
        current_app.extensions["console_timezone"] = cached
    return str(cached)
