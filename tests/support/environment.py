"""Pointing the process environment at a test's ledger, as a user's shell would."""

from __future__ import annotations

import pytest

from security.settings import Settings


def point_environment_at(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    """Set LEDGER_DATA_DIR (and LEDGER_DATABASE_URL for PostgreSQL) to `settings`' store,
    LEDGER_ANCHOR_FILE when it names one, and clear any keyring override, so commands
    find this ledger, its anchors and its keyring."""
    monkeypatch.setenv("LEDGER_DATA_DIR", str(settings.data_dir))
    if settings.database_url:
        monkeypatch.setenv("LEDGER_DATABASE_URL", settings.database_url)
    else:
        monkeypatch.delenv("LEDGER_DATABASE_URL", raising=False)
    if settings.anchor_file_path is not None:
        monkeypatch.setenv("LEDGER_ANCHOR_FILE", str(settings.anchor_file_path))
    else:
        monkeypatch.delenv("LEDGER_ANCHOR_FILE", raising=False)
    monkeypatch.delenv("LEDGER_KEYRING", raising=False)
    monkeypatch.delenv("LEDGER_KEYRING_FILE", raising=False)
