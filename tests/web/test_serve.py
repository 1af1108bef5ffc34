"""`ledger serve` (gunicorn) starts and answers /healthz and /readyz, as `make run` does."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def get(url: str) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:  # noqa: S310 (localhost)
            return response.status, response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


@pytest.mark.parametrize("dev", [False, True], ids=["gunicorn", "flask-dev"])
def test_serve_answers_healthz_and_readyz(tmp_path: Path, dev: bool) -> None:
    port = free_port()
    env = {**os.environ, "LEDGER_DATA_DIR": str(tmp_path)}
    env.pop("LEDGER_DATABASE_URL", None)
    args = [sys.executable, "-m", "web.cli", "serve", "--port", str(port), "--workers", "2"]
    if dev:
        args = [sys.executable, "-m", "web.cli", "serve", "--dev", "--port", str(port)]
    # as a user would: a ledger first (`make run` does `ledger demo --if-empty`)
    init = [sys.executable, "-m", "web.cli", "init"]
    subprocess.run(init, cwd=ROOT, env=env, check=True, capture_output=True, timeout=120)
    proc = subprocess.Popen(
        args, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    try:
        deadline = time.monotonic() + 60
        status = 0
        while time.monotonic() < deadline:
            try:
                status, body = get(f"http://127.0.0.1:{port}/healthz")
                break
            except OSError:
                time.sleep(0.2)
        assert status == 200 and b'"ok"' in body
        # ready once the store answers, the keyring is loaded and the views caught up
        while time.monotonic() < deadline:
            status, body = get(f"http://127.0.0.1:{port}/readyz")
            if status == 200:
                break
            time.sleep(0.3)
        assert status == 200, body
        assert b'"views":"ok"' in body.replace(b" ", b"")
    finally:
        proc.terminate()
        proc.wait(timeout=20)
