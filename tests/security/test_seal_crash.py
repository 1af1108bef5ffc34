"""kill -9 of the sealer at each point of a seal (tests/support/seal_crash.py): after
the new leaves are written but before the commit, after the checkpoint commit but
before the anchor append, and in the middle of the anchor append (a torn tail). Each
time `ledger verify` exits 0, and a fresh sealer seals on over a log that verifies."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from security.bootstrap import Ledger, Settings, build_ledger
from security.integrity.anchors import parse_anchors
from security.presence import prepare_store
from tests.domain.factories import individual
from tests.support.seal_crash import POINTS

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]


def environment(config: Settings) -> dict[str, str]:
    env = {**os.environ, "LEDGER_DATA_DIR": str(config.data_dir), "PYTHONPATH": str(ROOT)}
    env.pop("LEDGER_DATABASE_URL", None)
    if config.database_url:
        env["LEDGER_DATABASE_URL"] = config.database_url
    return env


def run(config: Settings, *args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", *args],
        cwd=ROOT,
        env=environment(config),
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def ledger_verify(config: Settings) -> None:
    done = run(config, "web.cli", "verify")
    assert done.returncode == 0, done.stdout + done.stderr


def sealed_up_to_date(ledger: Ledger) -> int:
    """Size of the newest checkpoint, after checking it covers every event."""
    latest = ledger.sealed_log.latest_checkpoint()
    newest = ledger.app.recorder.max_notification_id()
    assert latest is not None and newest is not None
    seq = ledger.sealed_log.seq_of_notification(int(newest))
    assert seq is not None and seq < latest.size
    return latest.size


@pytest.mark.parametrize("point", POINTS)
def test_kill_minus_9_mid_seal_leaves_a_log_that_verifies_and_seals_on(
    ledger_config: Settings, point: str
) -> None:
    prepare_store(ledger_config)
    ledger = build_ledger(ledger_config)
    try:
        for _ in range(3):
            individual(ledger.app)
        ledger.seal()  # anchored at 3 (plus the access log's own)
        for _ in range(3):
            individual(ledger.app)
        crashed = run(ledger_config, "tests.support.seal_crash", point, timeout=60)
        assert crashed.returncode == -9, crashed.stderr  # it did die at the point
        anchors = ledger_config.anchor_file.read_text("utf-8")
        if point == "anchor":
            with pytest.raises(Exception, match="incomplete"):
                parse_anchors(anchors, "anchors")  # really torn
        ledger_verify(ledger_config)
    finally:
        ledger.close()

    # a fresh sealer seals on (the crashed one's lock went with its process)
    restarted = build_ledger(ledger_config)
    try:
        restarted.seal()
        before = sealed_up_to_date(restarted)
        individual(restarted.app)
        restarted.seal()
        after = sealed_up_to_date(restarted)
        assert after > before
        # the anchor file is whole again: every entry parses, the newest is the latest
        checkpoints = parse_anchors(ledger_config.anchor_file.read_text("utf-8"), "anchors")
        assert max(c.size for c in checkpoints if c.origin == ledger_config.log_origin) == after
        assert restarted.verify().ok, restarted.verify().problems
    finally:
        restarted.close()
    ledger_verify(ledger_config)
