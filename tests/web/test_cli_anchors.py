"""`ledger verify` against the anchor file and `--trusted-checkpoint`; `ledger log-key`
and GET /api/v1/integrity/log-key: called as a user would."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from ledger_verify.checkpoints import parse_verifier_key, verify_checkpoint
from security.bootstrap import Settings, build_ledger
from security.integrity.anchors import AnchorFile
from tests.conftest import make_config
from tests.support.environment import point_environment_at
from tests.support.sample import SampleApp
from tests.web.conftest import Api
from web.cli import main

pytestmark = pytest.mark.e2e


def write_and_seal(config: Settings, count: int, tag: str) -> str:
    ledger = build_ledger(config, app_class=SampleApp)
    try:
        for i in range(count):
            ledger.app.register(f"Anchor {tag}{i}", f"1370000{i:04d}", f"A{tag}{i}")
        sealed = ledger.seal()
    finally:
        ledger.close()
    assert sealed is not None
    return sealed.note


def first_anchored(config: Settings) -> str:
    return AnchorFile(config.anchor_file).checkpoints()[0].note


@pytest.fixture
def env(ledger_config: Settings, monkeypatch: pytest.MonkeyPatch) -> Iterator[Settings]:
    point_environment_at(ledger_config, monkeypatch)
    write_and_seal(ledger_config, 4, "a")
    yield ledger_config


def test_verify_fails_naming_the_anchored_size_after_a_wipe(env: Settings) -> None:
    write_and_seal(env, 2, "b")
    runner = CliRunner()
    assert runner.invoke(main, ["verify"]).exit_code == 0
    ledger = build_ledger(env, app_class=SampleApp)
    try:
        with ledger.datastore.transaction(commit=True) as cursor:
            for table in (ledger.sealed_log.leaves_table, ledger.sealed_log.checkpoints_table):
                ledger.keystore.dialect.execute(cursor, f"DELETE FROM {table}", ())
    finally:
        ledger.close()
    result = runner.invoke(main, ["verify"])
    assert result.exit_code == 1
    assert "no longer reaches the anchored size 6" in result.output
    assert "Traceback" not in result.output


def test_a_garbage_anchor_file_is_a_one_line_failure(env: Settings) -> None:
    env.anchor_file.write_text("not a checkpoint\n", encoding="utf-8")
    result = CliRunner().invoke(main, ["verify"])
    assert result.exit_code == 1
    anchor_lines = [line for line in result.output.splitlines() if "anchor file" in line]
    assert len(anchor_lines) == 1 and "is incomplete" in anchor_lines[0], result.output
    assert "Traceback" not in result.output


def test_trusted_checkpoints_of_this_log_pass_and_of_a_fork_fail(
    env: Settings, tmp_path: Path
) -> None:
    older = tmp_path / "older.checkpoint"
    older.write_text(first_anchored(env), encoding="utf-8")
    write_and_seal(env, 2, "b")
    fork_dir = tmp_path / "fork"
    fork_dir.mkdir()
    shutil.copy(env.data_dir / "keyring.json", fork_dir / "keyring.json")
    forked = tmp_path / "fork.checkpoint"
    forked.write_text(write_and_seal(make_config("sqlite", fork_dir), 5, "f"), encoding="utf-8")
    runner = CliRunner()
    result = runner.invoke(main, ["verify", "--trusted-checkpoint", str(older)])
    assert result.exit_code == 0, result.output
    result = runner.invoke(
        main, ["verify", "--trusted-checkpoint", str(older), "--trusted-checkpoint", str(forked)]
    )
    assert result.exit_code == 1
    assert f"--trusted-checkpoint {forked}" in result.output
    assert "not a consistent extension" in result.output
    junk = tmp_path / "junk"
    junk.write_text("hello\n", encoding="utf-8")
    result = runner.invoke(main, ["verify", "--trusted-checkpoint", str(junk)])
    assert result.exit_code == 2
    assert len(result.output.strip().splitlines()) == 1


def test_log_key_prints_both_vkeys_that_check_the_checkpoints(env: Settings) -> None:
    runner = CliRunner()
    result = runner.invoke(main, ["log-key"])
    assert result.exit_code == 0, result.output
    lines = dict(line.split(" ") for line in result.output.splitlines())
    assert set(lines) == {"events", "access"}
    name, _, key = parse_verifier_key(lines["events"])
    assert name == env.log_origin
    assert parse_verifier_key(lines["access"])[0] == env.log_origin + "/access"
    note = first_anchored(env)
    verify_checkpoint(note, key, name)
    only = runner.invoke(main, ["log-key", "--log", "events"])
    assert only.output == lines["events"] + "\n"


def test_the_log_key_endpoint_needs_no_token(api: Api) -> None:
    response = api.client.get("/api/v1/integrity/log-key")
    assert response.status_code == 200
    body = response.get_json()
    assert set(body) == {"events", "access"}
    assert parse_verifier_key(body["events"])[0] == api.ledger.config.log_origin
    assert parse_verifier_key(body["access"])[0] == api.ledger.config.log_origin + "/access"
