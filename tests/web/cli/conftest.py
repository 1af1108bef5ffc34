"""The environment a user's shell gives the `ledger` command, isolated per test."""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture
def shell(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """LEDGER_* variables cleared; LEDGER_DATA_DIR at a fresh folder that holds no ledger
    yet (returned, not created)."""
    for name in ("LEDGER_DATABASE_URL", "LEDGER_KEYRING", "LEDGER_KEYRING_FILE"):
        monkeypatch.delenv(name, raising=False)
    data_dir = tmp_path / "ledger-data"
    monkeypatch.setenv("LEDGER_DATA_DIR", str(data_dir))
    return data_dir
