"""The SQLite views file's connections."""

from __future__ import annotations

from pathlib import Path

import pytest

from projections.store import ViewStore
from security.bootstrap import Settings, build_ledger


@pytest.mark.integration
def test_the_sqlite_views_file_syncs_at_checkpoints_not_each_commit_and_zeroes_deletions(
    tmp_path: Path,
) -> None:
    ledger = build_ledger(Settings(data_dir=tmp_path))
    store = ViewStore.for_ledger(ledger)
    try:
        with store.transaction(commit=False) as cursor:
            found = {}
            for pragma in ("synchronous", "secure_delete", "journal_mode"):
                cursor.execute(f"PRAGMA {pragma}")
                found[pragma] = cursor.fetchone()[0]
        # NORMAL (1) in WAL mode: a lost commit is lost whole, with its tracked position
        assert found == {"synchronous": 1, "secure_delete": 1, "journal_mode": "wal"}
        with ledger.datastore.transaction(commit=False) as cursor:
            cursor.execute("PRAGMA synchronous")
            assert cursor.fetchone()[0] == 2  # the log keeps the library's FULL
    finally:
        store.close()
        ledger.close()
