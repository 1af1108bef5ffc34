"""The ledger's configuration, read once: `Settings.from_env`.

The composition root (`security.bootstrap.build_ledger`) and every process that starts
from it (the web app, the scheduler, the CLI) take one `Settings`; no other module reads
the environment or a configuration file. Each part is handed what it needs: the store
and keyring to the persistence module, the rule numbers to the application, the token
settings to the API, the scheduler's section to the scheduler. See docs/operations.md.

- `LEDGER_DATA_DIR` (default `./var`): the SQLite file and the development keyring;
- `LEDGER_DATABASE_URL` (unset: SQLite): `postgresql://user@host:port/db[?schema=S]`;
- `LEDGER_LOG_ORIGIN` (default `crm-ledger.local/ledger`): checkpoint origin, key name;
- `LEDGER_ANCHOR_FILE` (default `<data dir>/anchors/checkpoints.log`): where every signed
  checkpoint is also appended, outside the database (security.integrity.anchors);
- `LEDGER_WITNESSES` (default none): C2SP tlog-witnesses each checkpoint is submitted to,
  entries separated by `;`, each `<witness vkey> <url>` (security.witness.client);
- `LEDGER_KEYRING`, `LEDGER_KEYRING_FILE`: the keyring (security.keys.keyring);
- `LEDGER_PKCS11_MODULE`, `LEDGER_PKCS11_TOKEN`, `LEDGER_PKCS11_PIN_FILE`: keys in an
  HSM over PKCS#11 (security.keys.pkcs11);
- `LEDGER_RULES_FILE`, `LEDGER_RULE_<FIELD>`: rule settings (domain.settings);
- `LEDGER_JWT_SECRET` or `LEDGER_JWT_SECRET_FILE` (a file readable by its owner only;
  default: derived from the keyring; at least 32 bytes), `LEDGER_JWT_ISSUER`,
  `LEDGER_JWT_AUDIENCE`, `LEDGER_TOKEN_MAX_LIFETIME` (seconds, default 43200 = 12 h):
  the API's tokens;
- `LEDGER_EXPORT_KEEP_DAYS` (default 7): days an export bundle stays downloadable;
- `LEDGER_VIEWS_FOLLOW` (default `on`): web workers keep the views current;
- `LEDGER_VIEWS_MAX_WAIT` (default 2, at most 30): seconds a read may wait for its
  `min_position` (`X-Min-Position`) before a 503 `view_lagging`;
- `LEDGER_SEARCH_LIMIT` (default 30): identifier searches per actor per minute, across
  every process sharing the store;
- `LEDGER_SCHEDULER_*`, `LEDGER_JOB_*`: the scheduler's section (scheduler.config).
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote, urlparse

from domain.settings import RuleSettings, parse_rule_settings
from security.errors import ConfigurationError
from security.witness.client import WitnessEndpoint, parse_witnesses

DEFAULT_ORIGIN = "crm-ledger.local/ledger"
KEYRING_VARIABLES = (
    "LEDGER_KEYRING",
    "LEDGER_KEYRING_FILE",
    "LEDGER_PKCS11_MODULE",
    "LEDGER_PKCS11_TOKEN",
    "LEDGER_PKCS11_PIN_FILE",
)
SCHEDULER_PREFIXES = ("LEDGER_SCHEDULER_", "LEDGER_JOB_")
MIN_JWT_SECRET_BYTES = 32
DEFAULT_TOKEN_MAX_LIFETIME = 12 * 3600
MAX_TOKEN_MAX_LIFETIME = 30 * 86400
PG_LOCK_TIMEOUT = 3  # seconds a PostgreSQL writer waits for the events table's lock, per attempt


def refuse_shared_secret_file(path: Path, what: str) -> None:
    """ConfigurationError when the file at `path` may be read by its group or by others:
    a secret (keyring, token secret) must be readable by its owner only (chmod 600)."""
    try:
        mode = path.stat().st_mode
    except OSError as exc:
        raise ConfigurationError(f"{what} {str(path)!r} cannot be read: {exc.strerror}") from None
    if mode & 0o077:
        raise ConfigurationError(
            f"{what} {str(path)!r} is readable by group or others (mode {mode & 0o777:03o}); "
            f"run: chmod 600 {path}"
        )


def _jwt_secret(source: Mapping[str, str]) -> bytes:
    """The token secret of LEDGER_JWT_SECRET or the file of LEDGER_JWT_SECRET_FILE (empty:
    none configured)."""
    inline = source.get("LEDGER_JWT_SECRET", "").encode()
    file_name = (source.get("LEDGER_JWT_SECRET_FILE") or "").strip()
    if inline and file_name:
        raise ConfigurationError("set LEDGER_JWT_SECRET or LEDGER_JWT_SECRET_FILE, not both")
    if not file_name:
        secret, what = inline, "LEDGER_JWT_SECRET"
    else:
        path = Path(file_name)
        refuse_shared_secret_file(path, "LEDGER_JWT_SECRET_FILE")
        try:
            secret = path.read_bytes().strip()
        except OSError as exc:
            raise ConfigurationError(
                f"LEDGER_JWT_SECRET_FILE {file_name!r} cannot be read: {exc.strerror}"
            ) from None
        what = "LEDGER_JWT_SECRET_FILE"
        if not secret:
            raise ConfigurationError(f"LEDGER_JWT_SECRET_FILE {file_name!r} is empty")
    if secret and len(secret) < MIN_JWT_SECRET_BYTES:
        raise ConfigurationError(f"{what} must be at least {MIN_JWT_SECRET_BYTES} bytes")
    return secret


def _lifetime(raw: str) -> int:
    try:
        value = int(raw)
    except ValueError:
        value = 0
    if not 1 <= value <= MAX_TOKEN_MAX_LIFETIME:
        raise ConfigurationError(
            f"LEDGER_TOKEN_MAX_LIFETIME must be a number of seconds from 1 to "
            f"{MAX_TOKEN_MAX_LIFETIME}, got {raw!r}"
        )
    return value


def read_json_object(path: str | Path, what: str) -> dict[str, Any]:
    """The JSON object in the file at `path` (decimals kept exact); ConfigurationError
    with a one-line message naming `what` and the path otherwise."""
    try:
        with open(path, encoding="utf-8") as handle:
            data = json.load(handle, parse_float=Decimal)
    except OSError as exc:
        raise ConfigurationError(f"{what} {str(path)!r} cannot be read: {exc.strerror}") from None
    except json.JSONDecodeError as exc:
        raise ConfigurationError(f"{what} {str(path)!r} is not valid JSON: {exc.msg}") from None
    if not isinstance(data, dict):
        raise ConfigurationError(f"{what} {str(path)!r} must hold a JSON object")
    return data


def load_rule_settings(env: Mapping[str, str]) -> RuleSettings:
    """The rule settings of `env`: defaults, then `LEDGER_RULES_FILE`, then `LEDGER_RULE_*`."""
    path = env.get("LEDGER_RULES_FILE")
    file_values = read_json_object(path, "rule settings file") if path else None
    return parse_rule_settings(file_values, env, file_name=repr(path))


def _flag(name: str, raw: str) -> bool:
    value = raw.strip().lower()
    if value in ("1", "on", "true", "yes"):
        return True
    if value in ("0", "off", "false", "no"):
        return False
    raise ConfigurationError(f"{name} must be on or off, got {raw!r}")


def _number(name: str, raw: str, low: float, high: float) -> float:
    try:
        value = float(raw)
    except ValueError:
        value = low - 1
    if not low <= value <= high:
        raise ConfigurationError(f"{name} must be a number from {low:g} to {high:g}, got {raw!r}")
    return value


def _days(name: str, raw: str) -> float:
    try:
        value = float(raw)
    except ValueError:
        value = -1.0
    if not 0 <= value < 36500:
        raise ConfigurationError(f"{name} must be a number of days (0 or more), got {raw!r}")
    return value


@dataclass(frozen=True)
class PostgresTarget:
    """Where LEDGER_DATABASE_URL points: connection settings and the schema."""

    host: str
    port: int
    user: str
    password: str
    dbname: str
    schema: str

    @property
    def schema_name(self) -> str:
        """The schema the tables live in: the one named, else `public`."""
        return self.schema or "public"

    @property
    def location(self) -> str:
        """The database and schema, never the password."""
        return (
            f"postgresql://{self.user}@{self.host}:{self.port}/{self.dbname}"
            f"?schema={self.schema_name}"
        )


@dataclass(frozen=True)
class Settings:
    """Everything the ledger's processes are configured with (see the module docstring)."""

    data_dir: Path = Path("./var")
    database_url: str | None = None
    log_origin: str = DEFAULT_ORIGIN
    anchor_file_path: Path | None = None
    witnesses: tuple[WitnessEndpoint, ...] = ()
    rules: RuleSettings = field(default_factory=RuleSettings)
    keyring_env: Mapping[str, str] = field(default_factory=dict)
    jwt_secret: bytes | None = None
    jwt_issuer: str = "crm-ledger"
    jwt_audience: str = "crm-ledger-api"
    token_max_lifetime: int = DEFAULT_TOKEN_MAX_LIFETIME
    export_keep_days: float = 7.0
    views_follow: bool = True
    views_max_wait: float = 2.0
    search_limit: int = 30
    scheduler_env: Mapping[str, str] = field(default_factory=dict)
    # the firm's business-calendar override file (security.calendars, docs/rules.md)
    calendar_overrides: Path | None = None

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        """Read the LEDGER_* variables (default: the process environment) and the files
        they name, once. Raises ConfigurationError (or the domain's SettingsError) with a
        one-line message naming the variable or key at fault."""
        source = dict(os.environ if env is None else env)
        secret = _jwt_secret(source)
        return cls(
            data_dir=Path(source.get("LEDGER_DATA_DIR") or "./var"),
            database_url=(source.get("LEDGER_DATABASE_URL") or "").strip() or None,
            log_origin=(source.get("LEDGER_LOG_ORIGIN") or DEFAULT_ORIGIN).strip(),
            anchor_file_path=Path(anchor) if (anchor := source.get("LEDGER_ANCHOR_FILE")) else None,
            witnesses=parse_witnesses(source.get("LEDGER_WITNESSES") or ""),
            rules=load_rule_settings(source),
            keyring_env={k: v for k, v in source.items() if k in KEYRING_VARIABLES},
            jwt_secret=secret or None,
            jwt_issuer=source.get("LEDGER_JWT_ISSUER") or "crm-ledger",
            jwt_audience=source.get("LEDGER_JWT_AUDIENCE") or "crm-ledger-api",
            token_max_lifetime=_lifetime(
                source.get("LEDGER_TOKEN_MAX_LIFETIME") or str(DEFAULT_TOKEN_MAX_LIFETIME)
            ),
            export_keep_days=_days(
                "LEDGER_EXPORT_KEEP_DAYS", source.get("LEDGER_EXPORT_KEEP_DAYS") or "7"
            ),
            views_follow=_flag("LEDGER_VIEWS_FOLLOW", source.get("LEDGER_VIEWS_FOLLOW") or "on"),
            views_max_wait=_number(
                "LEDGER_VIEWS_MAX_WAIT", source.get("LEDGER_VIEWS_MAX_WAIT") or "2", 0, 30
            ),
            search_limit=int(
                _number("LEDGER_SEARCH_LIMIT", source.get("LEDGER_SEARCH_LIMIT") or "30", 1, 10**6)
            ),
            scheduler_env={k: v for k, v in source.items() if k.startswith(SCHEDULER_PREFIXES)},
            calendar_overrides=Path(p) if (p := source.get("LEDGER_CALENDAR_OVERRIDES")) else None,
        )

    @property
    def store_kind(self) -> str:
        return "postgres" if self.database_url else "sqlite"

    @property
    def anchor_file(self) -> Path:
        """Where signed checkpoints are anchored: LEDGER_ANCHOR_FILE, else
        `<data dir>/anchors/checkpoints.log`."""
        return self.anchor_file_path or self.data_dir / "anchors" / "checkpoints.log"

    @property
    def verify_state_dir(self) -> Path:
        """Where `ledger verify` keeps each log's last verified state, outside the
        database: `<data dir>/verify`."""
        return self.data_dir / "verify"

    @property
    def sqlite_path(self) -> Path:
        return self.data_dir / "ledger.sqlite3"

    def library_env(self) -> dict[str, str]:
        """The eventsourcing library's env for this configuration."""
        env: dict[str, str] = {"LEDGER_DATA_DIR": str(self.data_dir), **self.keyring_env}
        if not self.database_url:
            self.data_dir.mkdir(parents=True, exist_ok=True)
            env.update(
                PERSISTENCE_MODULE="security.recorders:LedgerSQLiteFactory",
                SQLITE_DBNAME=str(self.sqlite_path),
                SQLITE_LOCK_TIMEOUT="30",
            )
            return env
        env.update(self.postgres_env())
        return env

    def postgres_target(self) -> PostgresTarget:
        """Where `database_url` points (`schema` empty when the URL names none);
        ConfigurationError when it is malformed."""
        url = urlparse(self.database_url or "")
        if url.scheme not in ("postgresql", "postgres") or not url.hostname:
            raise ConfigurationError(
                "LEDGER_DATABASE_URL must look like postgresql://user@host:port/dbname"
            )
        dbname = url.path.lstrip("/")
        if not dbname:
            raise ConfigurationError("LEDGER_DATABASE_URL names no database")
        schema = parse_qs(url.query).get("schema", [""])[0].strip()
        return PostgresTarget(
            host=url.hostname,
            port=url.port or 5432,
            user=unquote(url.username or "postgres"),
            password=unquote(url.password or ""),
            dbname=dbname,
            schema=schema,
        )

    def postgres_env(self) -> dict[str, str]:
        """The library's PostgreSQL variables for `database_url`."""
        target = self.postgres_target()
        return {
            "PERSISTENCE_MODULE": "security.recorders:LedgerPostgresFactory",
            "POSTGRES_DBNAME": target.dbname,
            "POSTGRES_HOST": target.host,
            "POSTGRES_PORT": str(target.port),
            "POSTGRES_USER": target.user,
            "POSTGRES_PASSWORD": target.password,
            "POSTGRES_SCHEMA": target.schema,
            "POSTGRES_POOL_SIZE": "5",
            "POSTGRES_MAX_OVERFLOW": "10",
            "POSTGRES_CONNECT_TIMEOUT": "5",
            # a pooled connection is checked before use, so one cut by a restart or
            # pg_terminate_backend is dropped and replaced instead of failing a request
            "POSTGRES_PRE_PING": "yes",
            # pinned: with the library's insert functions, writers skip the table lock
            # and notification ids can interleave, so a seal could pass an event by
            "POSTGRES_ENABLE_DB_FUNCTIONS": "no",
            # a writer waits at most this long (seconds) for the events table's lock,
            # per attempt (the recorder's 10): behind a holder that never ends (a
            # session stuck in its transaction, which PostgreSQL 15's timeouts do not
            # end) a write fails as busy (503 store_busy) within about 32 s, under
            # gunicorn's 60 s, instead of every writer hanging (docs/operations.md)
            "POSTGRES_LOCK_TIMEOUT": str(PG_LOCK_TIMEOUT),
        }
