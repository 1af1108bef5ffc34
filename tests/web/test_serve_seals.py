"""`ledger serve` seals continuously: an event written through the API is covered by a
signed checkpoint within 2 s, so changing or deleting it afterwards makes `ledger
verify` fail, naming it."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from security.bootstrap import Settings, build_ledger
from tests.web.conftest import BRIGHT, WANG
from tests.web.test_serve import ROOT, free_port, get

pytestmark = pytest.mark.e2e


def ledger_cli(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "web.cli", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def post(url: str, token: str, body: dict[str, object]) -> int:
    request = urllib.request.Request(  # noqa: S310 (localhost)
        url,
        data=json.dumps(body).encode(),
        method="POST",
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
        return int(response.status)


def test_an_event_written_through_serve_is_sealed_and_tampering_is_named(
    tmp_path: Path,
) -> None:
    port = free_port()
    env = {**os.environ, "LEDGER_DATA_DIR": str(tmp_path)}
    env.pop("LEDGER_DATABASE_URL", None)
    assert ledger_cli(env, "init").returncode == 0
    token = ledger_cli(
        env, "token", "issue", "--role", "front_office", "--subject", "fo-1", "--branch", "BJ-01"
    )
    args = [sys.executable, "-m", "web.cli", "serve", "--port", str(port), "--workers", "2"]
    proc = subprocess.Popen(
        args, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    ledger = build_ledger(Settings(data_dir=tmp_path))
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if get(f"http://127.0.0.1:{port}/healthz")[0] == 200:
                    break
            except OSError:
                time.sleep(0.1)
        base = f"http://127.0.0.1:{port}/api/v1"
        assert post(base + "/customers", token.stdout.strip(), WANG) == 201
        assert post(base + "/customers", token.stdout.strip(), BRIGHT) == 201
        written = time.monotonic()
        newest = ledger.app.recorder.max_notification_id()
        assert newest is not None
        # within 2 s every event is under a signed checkpoint, with nobody asking
        while (seq := ledger.sealed_log.seq_of_notification(newest)) is None or (
            (latest := ledger.sealed_log.latest_checkpoint()) is None or latest.size <= seq
        ):
            assert time.monotonic() - written < 2.0, "the events were not sealed in 2 s"
            time.sleep(0.02)
        rows = list(ledger.sealed_log.leaf_rows())
        changed, deleted = rows[0], rows[-1]
        # an insider changes one byte of the first customer's event and deletes another
        with sqlite3.connect(tmp_path / "ledger.sqlite3") as db:
            (state,) = db.execute(
                "SELECT state FROM stored_events WHERE rowid=?", (changed.notification_id,)
            ).fetchone()
            forged = bytearray(state)
            forged[-3] ^= 0x01
            db.execute(
                "UPDATE stored_events SET state=? WHERE rowid=?",
                (bytes(forged), changed.notification_id),
            )
            db.execute("DELETE FROM stored_events WHERE rowid=?", (deleted.notification_id,))
        verified = ledger_cli(env, "verify")
        assert verified.returncode == 1, verified.stdout + verified.stderr
        assert f"seq {changed.seq}" in verified.stderr
        assert f"seq {deleted.seq}" in verified.stderr
    finally:
        ledger.close()
        proc.terminate()
        proc.wait(timeout=20)
