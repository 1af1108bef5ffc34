"""The composition root: builds the ledger from configuration.

Used alike by the web app, the scheduler process and the `ledger` CLI. Configuration
comes from env vars (see docs/operations.md):

- `LEDGER_DATA_DIR` (default `./var`): the SQLite file, the development keyring;
- `LEDGER_DATABASE_URL`: unset for SQLite; `postgresql://user[:password]@host:port/db`
  (optional `?schema=NAME`) for the library's PostgreSQL module;
- `LEDGER_LOG_ORIGIN` (default `crm-ledger.local/ledger`): checkpoint origin and key name;
- `LEDGER_KEYRING` / `LEDGER_KEYRING_FILE`: the keyring (security/keys/keyring.py).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote, urlparse

from eventsourcing.application import Application

from security.errors import ConfigurationError
from security.integrity.access_log import AccessLog
from security.integrity.sealed_log import EventSource, SealedLog, StoredCheckpoint
from security.integrity.verification import VerifyReport, verify_log
from security.keys.data_keys import KeyStore
from security.keys.keyring import LocalKeyring
from security.recorders import LedgerPostgresFactory, LedgerSQLiteFactory

DEFAULT_ORIGIN = "crm-ledger.local/ledger"


@dataclass(frozen=True)
class LedgerConfig:
    """Everything the composition root reads from the environment."""

    data_dir: Path = Path("./var")
    database_url: str | None = None
    log_origin: str = DEFAULT_ORIGIN
    passthrough: Mapping[str, str] = field(default_factory=dict)

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> LedgerConfig:
        """Read the LEDGER_* variables (default: the process environment)."""
        source = os.environ if env is None else env
        keep = ("LEDGER_KEYRING", "LEDGER_KEYRING_FILE", "LEDGER_RULES_FILE")
        return cls(
            data_dir=Path(source.get("LEDGER_DATA_DIR") or "./var"),
            database_url=(source.get("LEDGER_DATABASE_URL") or "").strip() or None,
            log_origin=(source.get("LEDGER_LOG_ORIGIN") or DEFAULT_ORIGIN).strip(),
            passthrough={
                k: v
                for k, v in source.items()
                if k in keep or k.startswith("LEDGER_RULE_") or k.startswith("LEDGER_JWT_")
            },
        )

    @property
    def store_kind(self) -> str:
        return "postgres" if self.database_url else "sqlite"

    @property
    def sqlite_path(self) -> Path:
        return self.data_dir / "ledger.sqlite3"

    def library_env(self) -> dict[str, str]:
        """The eventsourcing library's env for this configuration."""
        env: dict[str, str] = {"LEDGER_DATA_DIR": str(self.data_dir), **self.passthrough}
        if not self.database_url:
            self.data_dir.mkdir(parents=True, exist_ok=True)
            env.update(
                PERSISTENCE_MODULE="security.recorders:LedgerSQLiteFactory",
                SQLITE_DBNAME=str(self.sqlite_path),
                SQLITE_LOCK_TIMEOUT="30",
            )
            return env
        url = urlparse(self.database_url)
        if url.scheme not in ("postgresql", "postgres") or not url.hostname:
            raise ConfigurationError(
                "LEDGER_DATABASE_URL must look like postgresql://user@host:port/dbname"
            )
        dbname = url.path.lstrip("/")
        if not dbname:
            raise ConfigurationError("LEDGER_DATABASE_URL names no database")
        query = parse_qs(url.query)
        env.update(
            PERSISTENCE_MODULE="security.recorders:LedgerPostgresFactory",
            POSTGRES_DBNAME=dbname,
            POSTGRES_HOST=url.hostname,
            POSTGRES_PORT=str(url.port or 5432),
            POSTGRES_USER=unquote(url.username or "postgres"),
            POSTGRES_PASSWORD=unquote(url.password or ""),
            POSTGRES_SCHEMA=query.get("schema", [""])[0],
            POSTGRES_POOL_SIZE="5",
            POSTGRES_MAX_OVERFLOW="10",
            POSTGRES_CONNECT_TIMEOUT="5",
            # pinned: with the library's insert functions, writers skip the table lock
            # and notification ids can interleave, so a seal could pass an event by
            POSTGRES_ENABLE_DB_FUNCTIONS="no",
        )
        return env


@dataclass
class Ledger:
    """The built ledger: the application service and the security services around it."""

    config: LedgerConfig
    app: Any
    keyring: LocalKeyring
    keystore: KeyStore
    sealed_log: SealedLog
    access_log: AccessLog
    access_sealed: SealedLog

    @property
    def datastore(self) -> Any:
        return self.app.factory.datastore

    def seal(self) -> StoredCheckpoint | None:
        """Seal every unsealed event and sign a checkpoint."""
        return self.sealed_log.seal()

    def verify(self) -> VerifyReport:
        """Recompute the whole log from the stored rows."""
        return verify_log(
            self.sealed_log,
            self.sealed_log.public_key,
            self.config.log_origin,
        )

    def verify_access_log(self) -> VerifyReport:
        """Recompute the access log's leaves and checkpoints."""
        return verify_log(
            self.access_sealed, self.access_sealed.public_key, self.access_sealed.origin
        )

    def close(self) -> None:
        self.app.close()


def build_ledger(
    config: LedgerConfig | None = None,
    *,
    app_class: type[Application[Any]] | None = None,
    clock: Callable[[], datetime] | None = None,
    settings: Any = None,
) -> Ledger:
    """Build the ledger from configuration (default: the process environment)."""
    config = config or LedgerConfig.from_env()
    if app_class is None:
        from domain.application import LedgerApplication

        app_class = LedgerApplication
    kwargs: dict[str, Any] = {}
    if clock is not None:
        kwargs["clock"] = clock
    if settings is not None:
        kwargs["settings"] = settings
    app = app_class(env=config.library_env(), **kwargs)
    factory = app.factory
    if not isinstance(factory, LedgerSQLiteFactory | LedgerPostgresFactory):
        raise ConfigurationError("the application was not built on a ledger persistence module")
    if hasattr(app, "subject_keys"):
        app.subject_keys = factory.keystore
    sealed = SealedLog(
        EventSource(app.recorder),
        factory.datastore,
        factory.dialect,
        factory.keyring.signing_key(),
        config.log_origin,
    )
    access = AccessLog(factory.datastore, factory.dialect)
    access_sealed = SealedLog(
        access,
        factory.datastore,
        factory.dialect,
        factory.keyring.signing_key(),
        config.log_origin + "/access",
        prefix="access",
    )
    return Ledger(config, app, factory.keyring, factory.keystore, sealed, access, access_sealed)
