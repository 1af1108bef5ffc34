"""Two writers on one SQLite store wait for each other; neither is refused with
"database is locked" because the other committed while it was reading."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest

from security.bootstrap import Settings, build_ledger
from tests.support.sample import SampleApp

pytestmark = pytest.mark.integration


def test_a_writer_that_read_first_is_not_refused_when_another_commits(tmp_path: Path) -> None:
    # two ledgers on one file, as two processes (or a sealer thread beside the app)
    ledger = build_ledger(Settings(data_dir=tmp_path), app_class=SampleApp)
    other = build_ledger(Settings(data_dir=tmp_path), app_class=SampleApp)
    errors: list[BaseException] = []
    reading = threading.Event()

    def read_then_write() -> None:
        try:
            with other.datastore.transaction(commit=True) as cursor:
                cursor.execute("SELECT COUNT(*) FROM stored_events")
                cursor.fetchall()
                reading.set()
                time.sleep(0.3)  # the other writer commits meanwhile, if it can
                cursor.execute(
                    "CREATE TABLE IF NOT EXISTS probe (n INTEGER)"
                )  # a write after a read in the same transaction
                cursor.execute("INSERT INTO probe VALUES (1)")
        except BaseException as exc:  # recorded, asserted below
            errors.append(exc)

    try:
        ledger.app.register("First", "13900000000", "ID0")
        worker = threading.Thread(target=read_then_write)
        worker.start()
        assert reading.wait(5)
        ledger.app.register("Second", "13900000001", "ID1")
        worker.join(10)
        assert errors == []
        with ledger.datastore.transaction(commit=False) as cursor:
            cursor.execute("SELECT COUNT(*) FROM probe")
            assert cursor.fetchall()[0][0] == 1
    finally:
        other.close()
        ledger.close()
