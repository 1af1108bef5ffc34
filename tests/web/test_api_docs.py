"""The examples of docs/api.md run as written: every block fenced `sh example` is run
by bash, in document order, against a live server holding demo data, with the tokens
`ledger token issue` gives; each `# NNN` line is the status the request before it
must answer."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import threading
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
from werkzeug.serving import make_server

from demo.year import generate_demo
from projections.runtime import read_models
from security.bootstrap import build_ledger
from tests.conftest import make_config
from web.app import create_app
from web.auth import TokenSettings, issue_token

pytestmark = pytest.mark.e2e

DOC = Path(__file__).parents[2] / "docs" / "api.md"
EXAMPLE = re.compile(r"^```sh example\n(.*?)^```$", re.MULTILINE | re.DOTALL)
EXPECTED = re.compile(r"^# ([1-5][0-9]{2})\b", re.MULTILINE)
# curl prints the status of every request on stderr, one line each, leaving stdout
# (which the examples pipe and capture) as it is
CURL_STATUS = "curl() { command curl -w '%{stderr}%{http_code}\\n' \"$@\"; }\n"


def examples() -> list[str]:
    return EXAMPLE.findall(DOC.read_text())


@pytest.fixture
def live_api(tmp_path: Path) -> Iterator[dict[str, str]]:
    """`ledger demo` and `ledger serve` as the set-up of docs/api.md does them, and its
    variables (API, FO, CO, CO2, REG)."""
    ledger = build_ledger(make_config("sqlite", tmp_path / "data"))
    generate_demo(ledger.app, customers=8, seed=7, end=date(2026, 3, 31))
    ledger.seal()
    read_models(ledger).catch_up()
    app = create_app({"LEDGER": ledger, "VIEWS_FOLLOW": False})
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    settings = TokenSettings.from_settings(ledger.config, ledger.keyring.index_key())
    try:
        yield {
            "API": f"http://127.0.0.1:{server.server_port}/api/v1",
            "FO": issue_token(settings, "fo-001", ["front_office"], 600, branch="BJ-01"),
            "CO": issue_token(settings, "co-003", ["compliance_officer"], 600),
            "CO2": issue_token(settings, "co-004", ["compliance_officer"], 600),
            "REG": issue_token(settings, "csrc-inspector-1", ["regulator"], 600),
        }
    finally:
        server.shutdown()
        thread.join()
        ledger.close()


def test_the_page_marks_its_examples_with_the_status_of_each_request() -> None:
    blocks = examples()
    assert len(blocks) >= 10
    for block in blocks:
        requests = len(re.findall(r"\bcurl\b", block))
        assert requests == len(EXPECTED.findall(block)), block


def test_the_examples_of_docs_api_run_as_written(live_api: dict[str, str], tmp_path: Path) -> None:
    blocks = examples()
    script = "set -u\n" + CURL_STATUS + "\n".join(blocks)
    expected = [int(status) for block in blocks for status in EXPECTED.findall(block)]
    bin_dir = str(Path(sys.executable).parent)
    environment = {**os.environ, **live_api, "PATH": bin_dir + os.pathsep + os.environ["PATH"]}
    run = subprocess.run(
        ["bash", "-c", script],
        cwd=tmp_path,
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
    )
    statuses = [int(line) for line in run.stderr.split() if re.fullmatch(r"[0-9]{3}", line)]
    assert statuses == expected, run.stderr[-3000:]
    assert run.returncode == 0, run.stderr[-3000:] + run.stdout[-3000:]
    assert "Traceback" not in run.stderr
