"""Is there a ledger where the configuration points? Answered without creating anything.

Building the ledger (security/bootstrap.py) creates what is missing: the data
directory, the SQLite file, the tables, a development keyring. That is right for
`ledger init` and wrong everywhere else: a mistyped `LEDGER_DATA_DIR` would open a
new, empty ledger that verifies as "ok". So every other entry point asks here first.

A ledger is there when its store holds the Merkle log's tables (`ledger_leaves`,
whatever the application's name) and its keyring can be found: `LEDGER_KEYRING`,
`LEDGER_KEYRING_FILE`, or `<LEDGER_DATA_DIR>/keyring.json`.
"""

from __future__ import annotations

import sqlite3
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path

import psycopg
from psycopg import sql

from domain.errors import DomainError
from security.keys.keyring import refuse_shared_keyring
from security.settings import PostgresTarget, Settings

LOG_TABLE = "ledger_leaves"
"""A table every ledger has on either store, whatever its application is called."""


class NoLedger(DomainError):
    """The configuration points at a place with no ledger (or a ledger without its keyring)."""

    code = "no_ledger"


class StoreUnreachable(Exception):
    """The store could not be asked whether it holds a ledger (a runtime failure,
    not a missing ledger)."""


@dataclass(frozen=True)
class Presence:
    """What was found where the configuration points."""

    location: str
    """The data directory, or the PostgreSQL database and schema (no password)."""
    has_tables: bool
    keyring: str | None
    """Where the keyring would be read from, or None when there is none."""
    keyring_expected: str
    """Where a development keyring is looked for (and created by `ledger init`)."""

    @property
    def complete(self) -> bool:
        return self.has_tables and self.keyring is not None


def _keyring_source(config: Settings) -> str | None:
    if (config.keyring_env.get("LEDGER_KEYRING") or "").strip():
        return "LEDGER_KEYRING"
    configured = (config.keyring_env.get("LEDGER_KEYRING_FILE") or "").strip()
    if configured:
        # a configured file that is missing is reported by the keyring loader itself
        if Path(configured).is_file():
            refuse_shared_keyring(Path(configured))  # before any process starts
        return configured
    path = config.data_dir / "keyring.json"
    if not path.is_file():
        return None
    refuse_shared_keyring(path)
    return str(path)


def _sqlite_has_log(path: Path) -> bool:
    if not path.is_file():
        return False
    # read-only: never creates the file (an existing WAL database may gain its -shm)
    uri = f"{path.resolve().as_uri()}?mode=ro"
    try:
        with closing(sqlite3.connect(uri, uri=True, timeout=30)) as connection:
            row = connection.execute(
                "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", (LOG_TABLE,)
            ).fetchone()
    except sqlite3.DatabaseError:
        return False  # not a SQLite database: certainly not a ledger
    return row is not None


def _connect(target: PostgresTarget) -> psycopg.Connection[tuple[object, ...]]:
    return psycopg.connect(
        host=target.host,
        port=target.port,
        user=target.user,
        password=target.password,
        dbname=target.dbname,
        connect_timeout=5,
        autocommit=True,
    )


def _postgres_has_log(target: PostgresTarget) -> bool:
    try:
        connection = _connect(target)
    except psycopg.OperationalError as exc:
        text = str(exc)
        if f'database "{target.dbname}" does not exist' in text:
            return False
        first = text.strip().splitlines()[0] if text.strip() else type(exc).__name__
        raise StoreUnreachable(f"cannot reach PostgreSQL at {target.location}: {first}") from None
    with connection:
        name = sql.Identifier(target.schema_name, LOG_TABLE).as_string(connection)
        row = connection.execute("SELECT to_regclass(%s)", (name,)).fetchone()
    return row is not None and row[0] is not None


def probe_ledger(config: Settings) -> Presence:
    """Look for the ledger `config` points at. Creates nothing: no directory, no file,
    no schema, no table. Raises StoreUnreachable when PostgreSQL does not answer and
    ConfigurationError when LEDGER_DATABASE_URL is malformed."""
    expected = str(config.data_dir / "keyring.json")
    if config.database_url:
        target = config.postgres_target()
        return Presence(
            target.location, _postgres_has_log(target), _keyring_source(config), expected
        )
    return Presence(
        str(config.data_dir),
        _sqlite_has_log(config.sqlite_path),
        _keyring_source(config),
        expected,
    )


def ledger_exists(config: Settings) -> bool:
    """True when `config` points at a ledger (its tables and its keyring). Creates nothing."""
    return probe_ledger(config).complete


def require_ledger(config: Settings) -> Presence:
    """Return what was found, or raise NoLedger with a one-line message saying what to
    set or run. Creates nothing."""
    presence = probe_ledger(config)
    if presence.complete:
        return presence
    setting = "LEDGER_DATABASE_URL" if config.database_url else "LEDGER_DATA_DIR"
    if not presence.has_tables:
        raise NoLedger(f"no ledger at {presence.location}; set {setting} or run `ledger init`")
    raise NoLedger(
        f"the ledger at {presence.location} has no keyring at {presence.keyring_expected}; "
        "set LEDGER_DATA_DIR, LEDGER_KEYRING_FILE or LEDGER_KEYRING"
    )


def prepare_store(config: Settings) -> None:
    """Create the PostgreSQL schema LEDGER_DATABASE_URL names if it is absent (the
    library creates tables, not schemas). Nothing to do on SQLite. For `ledger init`."""
    if not config.database_url:
        return
    target = config.postgres_target()
    with _connect(target) as connection:
        connection.execute(
            sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(sql.Identifier(target.schema_name))
        )
