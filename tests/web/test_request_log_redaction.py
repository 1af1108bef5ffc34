"""Query strings (which may carry a phone number or a name) reach no request log, in any
mode: Flask's development server, gunicorn (and its access-log format, should an operator
turn it on) and the app's own JSON lines."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path
from types import SimpleNamespace

import pytest
from gunicorn.config import Config
from gunicorn.glogging import Logger

from tests.web.test_serve import ROOT, free_port, get
from web.cli.serving import gunicorn_options
from web.logs import GUNICORN_ACCESS_FORMAT, RedactQueryStrings, without_query

SECRET = "13912398765"


@pytest.mark.unit
def test_a_request_line_loses_its_query_string_only() -> None:
    path = "/api/v1/views/customers"
    line = f'127.0.0.1 - - [01/Dec/2026] "GET {path}?phone={SECRET}&x=1 HTTP/1.1" 200 -'
    assert without_query(line) == (
        '127.0.0.1 - - [01/Dec/2026] "GET /api/v1/views/customers HTTP/1.1" 200 -'
    )
    assert without_query("is the view ready? yes") == "is the view ready? yes"
    record = logging.LogRecord(
        "werkzeug", logging.INFO, "", 0, '"%s" %s', (f"GET /a?n={SECRET}", 200), None
    )
    assert RedactQueryStrings().filter(record)
    assert record.getMessage() == '"GET /a" 200'


@pytest.mark.unit
def test_the_gunicorn_access_log_format_names_the_path_never_the_query() -> None:
    config = Config()
    for key, value in gunicorn_options("127.0.0.1", 8000, 2).items():
        config.set(key, value)
    assert config.access_log_format == GUNICORN_ACCESS_FORMAT
    environ = {
        "REQUEST_METHOD": "GET",
        "RAW_URI": f"/api/v1/views/customers?phone={SECRET}",
        "PATH_INFO": "/api/v1/views/customers",
        "QUERY_STRING": f"phone={SECRET}",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "REMOTE_ADDR": "127.0.0.1",
    }
    response = SimpleNamespace(status="200 OK", sent=12, headers=[])
    atoms = Logger(config).atoms(response, SimpleNamespace(headers=[]), environ, timedelta(0))
    line = config.access_log_format % atoms
    assert "/api/v1/views/customers" in line and SECRET not in line


@pytest.mark.e2e
@pytest.mark.parametrize("dev", [False, True], ids=["gunicorn", "flask-dev"])
def test_no_served_request_logs_its_query_string(tmp_path: Path, dev: bool) -> None:
    port = free_port()
    env = {**os.environ, "LEDGER_DATA_DIR": str(tmp_path)}
    env.pop("LEDGER_DATABASE_URL", None)
    init = [sys.executable, "-m", "web.cli", "init"]
    subprocess.run(init, cwd=ROOT, env=env, check=True, capture_output=True, timeout=120)
    args = [sys.executable, "-m", "web.cli", "serve", "--port", str(port), "--workers", "1"]
    if dev:
        args = [sys.executable, "-m", "web.cli", "serve", "--dev", "--port", str(port)]
    log = tmp_path / "stderr.log"
    with log.open("wb") as stderr:
        proc = subprocess.Popen(args, cwd=ROOT, env=env, stdout=stderr, stderr=stderr)
        try:
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline:
                try:
                    status, _ = get(f"http://127.0.0.1:{port}/healthz?phone={SECRET}")
                    break
                except OSError:
                    time.sleep(0.2)
            assert status == 200
            base = f"http://127.0.0.1:{port}/api/v1/views/customers"
            assert get(f"{base}?phone={SECRET}&name=Quillborough")[0] == 401
            assert get(f"http://127.0.0.1:{port}/nowhere?phone={SECRET}")[0] == 404
        finally:
            proc.terminate()
            proc.wait(timeout=20)
    written = log.read_text(errors="replace")
    assert "/api/v1/views/customers" in written  # requests are logged ...
    assert SECRET not in written and "Quillborough" not in written  # ... without queries
