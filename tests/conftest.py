"""Shared fixtures: the two stores every integration test runs against."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from hypothesis import settings as hypothesis_settings

from security.bootstrap import Settings

# no per-example deadline: these machines are shared and noisy, and a property test
# asserts properties, not speed (a slow example under load failed as DeadlineExceeded)
hypothesis_settings.register_profile("ledger", deadline=None, print_blob=True)
hypothesis_settings.load_profile("ledger")

PG_DSN = os.environ.get("LEDGER_TEST_PG", "postgresql://postgres@127.0.0.1:5432/test")
IN_CI = os.environ.get("CI", "").lower() == "true"


def require_postgres() -> None:
    """Skip (locally) or fail (CI=true) when the PostgreSQL server is unreachable."""
    try:
        with psycopg.connect(PG_DSN, connect_timeout=3) as conn:
            conn.execute("SELECT 1")
    except psycopg.Error as exc:
        message = f"PostgreSQL unreachable at {PG_DSN}: {exc}".splitlines()[0]
        if IN_CI:
            pytest.fail(message + " (CI=true: the PostgreSQL tests must run)")
        pytest.skip(message + " (set CI=true to make this a failure)")


@pytest.fixture
def pg_schema() -> Iterator[str]:
    """A fresh PostgreSQL schema, dropped afterwards."""
    require_postgres()
    schema = f"t_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(PG_DSN, autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{schema}"')
    try:
        yield schema
    finally:
        with psycopg.connect(PG_DSN, autocommit=True) as conn:
            conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


CALENDAR_OVERRIDES = Path(__file__).parent / "support" / "calendar_overrides.json"
# processes the tests start (`ledger serve`, `ledger scheduler`) read it from the environment
os.environ.setdefault("LEDGER_CALENDAR_OVERRIDES", str(CALENDAR_OVERRIDES))


def make_config(kind: str, data_dir: Path, schema: str | None = None) -> Settings:
    """A ledger configuration for the given store kind, isolated to this test.

    With the test calendar override (CALENDAR_OVERRIDES): the chinese-calendar release
    the ledger is built against ends at 2026 and a ledger refuses a year it has no
    calendar for; the file's CN 2027 is a stand-in for tests, not the official notice."""
    if kind == "sqlite":
        return Settings(data_dir=data_dir, calendar_overrides=CALENDAR_OVERRIDES)
    return Settings(
        data_dir=data_dir,
        database_url=f"{PG_DSN}?schema={schema}",
        calendar_overrides=CALENDAR_OVERRIDES,
    )


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def store_kind(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def ledger_config(store_kind: str, tmp_path: Path, request: pytest.FixtureRequest) -> Settings:
    """A configuration on SQLite (temp dir) or PostgreSQL (fresh schema)."""
    if store_kind == "sqlite":
        return make_config("sqlite", tmp_path)
    schema = request.getfixturevalue("pg_schema")
    return make_config("postgres", tmp_path, schema)


@pytest.fixture(params=["file", "hsm"])
def keyring_kind(request: pytest.FixtureRequest) -> str:
    """The keyring a test runs over: the file keyring, or SoftHSM2 over PKCS#11."""
    return str(request.param)


@pytest.fixture
def hsm_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """A fresh SoftHSM2 token in its own token directory: the LEDGER_PKCS11_* variables
    (skipped without softhsm2, failed with CI=true: tests/support/softhsm.py)."""
    from tests.support.softhsm import softhsm_env

    return softhsm_env(tmp_path, monkeypatch)


@pytest.fixture
def keyed_config(
    keyring_kind: str, ledger_config: Settings, request: pytest.FixtureRequest
) -> Settings:
    """`ledger_config` with the file keyring, or with its keys made in a fresh token."""
    if keyring_kind == "file":
        return ledger_config
    import dataclasses

    from security.keys.pkcs11 import TokenConfig, init_token

    env = request.getfixturevalue("hsm_env")
    token = TokenConfig.from_env(env)
    assert token is not None
    init_token(token, ledger_config.data_dir / "keyring.json")[0].close()
    return dataclasses.replace(ledger_config, keyring_env=env)


TIERS = ("unit", "integration", "e2e")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Every test sits in exactly one tier, so `make unit|integration|e2e` miss none."""
    wrong = []
    for item in items:
        tiers = {mark.name for mark in item.iter_markers() if mark.name in TIERS}
        if len(tiers) != 1:
            wrong.append(f"{item.nodeid}: tiers {sorted(tiers) or 'none'}")
    if wrong:
        raise pytest.UsageError(
            "each test needs exactly one of the markers unit, integration, e2e:\n  "
            + "\n  ".join(wrong[:20])
        )
