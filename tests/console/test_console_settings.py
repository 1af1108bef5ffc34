"""The console's settings from the environment (web/console/settings.py), read by
create_app, so `ledger serve` (which passes no configuration) can set the session key,
the cookie's Secure flag and the time zone in production."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from itsdangerous import BadSignature, URLSafeTimedSerializer

from security.bootstrap import Settings
from security.errors import ConfigurationError
from tests.console.conftest import Console
from tests.domain.factories import Clock
from tests.web.conftest import make_api
from web.console.settings import console_config

KEY = b"k" * 40


def key_file(tmp_path: Path, content: bytes = KEY, mode: int = 0o600) -> Path:
    path = tmp_path / "console.key"
    path.write_bytes(content + b"\n")
    path.chmod(mode)
    return path


@pytest.mark.unit
def test_nothing_set_configures_nothing() -> None:
    assert console_config({}) == {}
    assert console_config({"LEDGER_CONSOLE_COOKIE_SECURE": " "}) == {}


@pytest.mark.unit
def test_each_variable_sets_its_flask_setting(tmp_path: Path) -> None:
    env = {
        "LEDGER_CONSOLE_SECRET_KEY_FILE": str(key_file(tmp_path)),
        "LEDGER_CONSOLE_COOKIE_SECURE": "TRUE",
        "LEDGER_CONSOLE_TIMEZONE": "Asia/Shanghai",
    }
    assert console_config(env) == {
        "SECRET_KEY": KEY,  # stripped of the trailing newline
        "SESSION_COOKIE_SECURE": True,
        "CONSOLE_TIMEZONE": "Asia/Shanghai",
    }
    assert console_config({"LEDGER_CONSOLE_COOKIE_SECURE": "off"}) == {
        "SESSION_COOKIE_SECURE": False
    }


@pytest.mark.unit
@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda p: {"LEDGER_CONSOLE_SECRET_KEY_FILE": str(key_file(p, mode=0o644))},
         "readable by group or others"),
        (lambda p: {"LEDGER_CONSOLE_SECRET_KEY_FILE": str(key_file(p, b"short"))},
         "at least 32 bytes"),
        (lambda p: {"LEDGER_CONSOLE_SECRET_KEY_FILE": str(p / "absent.key")}, "cannot be read"),
        (lambda p: {"LEDGER_CONSOLE_COOKIE_SECURE": "maybe"}, "must be true or false"),
        (lambda p: {"LEDGER_CONSOLE_TIMEZONE": "Mars/Olympus"}, "IANA time zone"),
    ],
)  # fmt: skip
def test_a_bad_value_is_one_line_naming_the_variable(
    tmp_path: Path, make: object, message: str
) -> None:
    env = make(tmp_path)  # type: ignore[operator]
    with pytest.raises(ConfigurationError) as refused:
        console_config(env)
    text = str(refused.value)
    assert message in text and "\n" not in text
    assert next(iter(env)) in text


@pytest.fixture
def configured(
    ledger_config: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Console]:
    """The app built as `ledger serve` builds it (create_app with no session settings)
    under the console's variables."""
    monkeypatch.setenv("LEDGER_CONSOLE_SECRET_KEY_FILE", str(key_file(tmp_path)))
    monkeypatch.setenv("LEDGER_CONSOLE_COOKIE_SECURE", "true")
    monkeypatch.setenv("LEDGER_CONSOLE_TIMEZONE", "Asia/Shanghai")
    for api in make_api(ledger_config, Clock()):
        yield Console(api, api.app.test_client())


@pytest.mark.integration
def test_create_app_takes_the_session_key_and_secure_cookie_from_the_environment(
    configured: Console,
) -> None:
    app = configured.api.app
    assert app.config["SECRET_KEY"] == KEY
    signed_in = configured.sign_in("compliance_officer")
    assert signed_in.status_code == 302
    cookie = signed_in.headers["Set-Cookie"]
    assert cookie.startswith("ledger_console=")
    assert "Secure" in [part.strip() for part in cookie.split(";")]
    value = cookie.split(";")[0].split("=", 1)[1]
    salt, key_derivation = "cookie-session", {"key_derivation": "hmac", "digest_method": "sha1"}
    with_key = URLSafeTimedSerializer(KEY, salt=salt, signer_kwargs=key_derivation)
    assert "token" in with_key.loads(value)  # signed with the file's key
    other = URLSafeTimedSerializer(b"x" * 40, salt=salt, signer_kwargs=key_derivation)
    with pytest.raises(BadSignature):
        other.loads(value)
    page = configured.get("/console/")
    assert page.status_code == 200 and "Asia/Shanghai" in page.text


@pytest.mark.integration
def test_the_apps_own_configuration_wins_over_the_environment(
    ledger_config: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LEDGER_CONSOLE_COOKIE_SECURE", "true")
    from security.bootstrap import build_ledger
    from web.app import create_app

    ledger = build_ledger(ledger_config, clock=Clock())
    try:
        app = create_app({"LEDGER": ledger, "SESSION_COOKIE_SECURE": False})
        assert app.config["SESSION_COOKIE_SECURE"] is False
    finally:
        ledger.close()
    monkeypatch.setenv("LEDGER_CONSOLE_COOKIE_SECURE", "sometimes")
    with pytest.raises(ConfigurationError, match="LEDGER_CONSOLE_COOKIE_SECURE"):
        create_app({})
