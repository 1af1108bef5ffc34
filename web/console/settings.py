"""The console's settings from the environment, read in one place (create_app), as
security.settings reads the ledger's: what `ledger serve` runs with in production.

- `LEDGER_CONSOLE_SECRET_KEY_FILE`: a file readable by its owner only (chmod 600)
  holding the session cookie's signing key, at least 32 bytes, the same for every
  worker and instance. Flask's `SECRET_KEY`. Unset: the key is derived from the token
  secret (HMAC), as in development.
- `LEDGER_CONSOLE_COOKIE_SECURE`: `true` or `false` (also 1/0, yes/no, on/off): send
  the session cookie over HTTPS only. Flask's `SESSION_COOKIE_SECURE`. Unset: Secure
  on a request that came over HTTPS only (also through a trusted proxy).
- `LEDGER_CONSOLE_TIMEZONE`: an IANA zone (e.g. `Asia/Shanghai`) in which the console
  shows and reads times (`CONSOLE_TIMEZONE`). Unset: the scheduler's time zone.

A bad value is a ConfigurationError with a one-line message naming the variable (the
app does not start). The app's own configuration (`create_app(config)`) wins over them.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from security.errors import ConfigurationError
from security.settings import refuse_shared_secret_file

SECRET_KEY_FILE = "LEDGER_CONSOLE_SECRET_KEY_FILE"  # noqa: S105  (a variable's name)
COOKIE_SECURE = "LEDGER_CONSOLE_COOKIE_SECURE"
TIMEZONE = "LEDGER_CONSOLE_TIMEZONE"
MIN_SECRET_KEY_BYTES = 32
TRUE, FALSE = ("true", "1", "yes", "on"), ("false", "0", "no", "off")


def console_config(env: Mapping[str, str]) -> dict[str, Any]:
    """The Flask configuration the console's variables set (only those that are set)."""
    config: dict[str, Any] = {}
    if file_name := (env.get(SECRET_KEY_FILE) or "").strip():
        config["SECRET_KEY"] = _secret_key(Path(file_name))
    if (raw := env.get(COOKIE_SECURE)) is not None and raw.strip():
        config["SESSION_COOKIE_SECURE"] = _flag(raw, COOKIE_SECURE)
    if zone := (env.get(TIMEZONE) or "").strip():
        config["CONSOLE_TIMEZONE"] = _zone(zone)
    return config


def _secret_key(path: Path) -> bytes:
    refuse_shared_secret_file(path, SECRET_KEY_FILE)
    try:
        key = path.read_bytes().strip()
    except OSError as exc:
        raise ConfigurationError(
            f"{SECRET_KEY_FILE} {str(path)!r} cannot be read: {exc.strerror}"
        ) from None
    if len(key) < MIN_SECRET_KEY_BYTES:
        raise ConfigurationError(
            f"{SECRET_KEY_FILE} {str(path)!r} must hold at least {MIN_SECRET_KEY_BYTES} bytes"
        )
    return key


def _flag(raw: str, name: str) -> bool:
    value = raw.strip().lower()
    if value in TRUE:
        return True
    if value in FALSE:
        return False
    raise ConfigurationError(f"{name} must be true or false, got {raw[:40]!r}")


def _zone(name: str) -> str:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ConfigurationError(
            f"{TIMEZONE} must name an IANA time zone (e.g. Asia/Shanghai), got {name[:60]!r}"
        ) from None
    return name
