"""The compliance console under /console: server-rendered pages (Jinja), zh-CN and en
(Flask-Babel), a session cookie and CSRF tokens (Flask-WTF), every asset served from
this package under a CSP that names no other origin.

Sign-in takes a token from `ledger token issue` (development; docs/console.md designs
the OIDC sign-in for production); every page asks the REST API in process with that
token (web/console/_api.py), so the console acts with exactly the token's role and
book and every disclosure goes through the API's purpose and access-log path.
"""

from __future__ import annotations

from flask import Flask

from web.console._extensions import (
    HERE,
    PREFIX,
    ConsoleSessions,
    babel,
    csrf,
    firm_timezone,
    select_locale,
)


def install(app: Flask) -> None:
    """Sessions, CSRF, translations and the console's blueprint."""
    from web.console.views import bp

    app.session_interface = ConsoleSessions()
    # the console's cookie only: not readable by scripts, never sent on a cross-site
    # request, only to /console; Secure over HTTPS (ConsoleSessions.get_cookie_secure)
    app.config.update(
        SESSION_COOKIE_NAME="ledger_console",
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Strict",
        SESSION_COOKIE_PATH=PREFIX,
    )
    # the API is called with bearer tokens, not cookies: CSRF is checked on the
    # console's own forms (views.bp), not on every POST of the app
    app.config.setdefault("WTF_CSRF_CHECK_DEFAULT", False)
    app.config.setdefault("BABEL_DEFAULT_LOCALE", "en")
    app.config["BABEL_TRANSLATION_DIRECTORIES"] = str(HERE / "translations")
    csrf.init_app(app)
    babel.init_app(app, locale_selector=select_locale, timezone_selector=firm_timezone)
    app.register_blueprint(bp)
