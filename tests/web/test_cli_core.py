"""The `ledger` CLI for the core: checkpoint, verify, keys — called as a user would."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from security.bootstrap import Settings, build_ledger
from tests.support.environment import point_environment_at
from tests.support.sample import SampleApp
from web.cli import main

pytestmark = pytest.mark.e2e


@pytest.fixture
def env(ledger_config: Settings, monkeypatch: pytest.MonkeyPatch) -> Iterator[Settings]:
    point_environment_at(ledger_config, monkeypatch)
    ledger = build_ledger(ledger_config, app_class=SampleApp)
    for i in range(5):
        ledger.app.register(f"Cli Person {i}", f"1360000{i:04d}", f"K{i}")
    ledger.close()
    yield ledger_config


def test_checkpoint_prints_a_signed_note_and_verify_passes(env: Settings) -> None:
    runner = CliRunner()
    result = runner.invoke(main, ["checkpoint"])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0] == env.log_origin
    assert lines[1] == "5"
    assert lines[3].startswith("crm-ledger/subject-map/v1 ")  # the subject map's line
    assert lines[4] == ""
    assert lines[5].startswith("\u2014 " + env.log_origin + " ")
    result = runner.invoke(main, ["verify"])
    assert result.exit_code == 0, result.output
    assert "ok: 5 events, 5 sealed" in result.output


def test_verify_exits_non_zero_and_names_the_first_bad_seq(env: Settings) -> None:
    runner = CliRunner()
    assert runner.invoke(main, ["checkpoint"]).exit_code == 0
    ledger = build_ledger(env, app_class=SampleApp)
    try:
        with ledger.datastore.transaction(commit=True) as cursor:
            ledger.keystore.dialect.execute(
                cursor,
                f"UPDATE {ledger.sealed_log.leaves_table} SET leaf_hash=? WHERE seq=2",
                (bytes(32),),
            )
    finally:
        ledger.close()
    result = runner.invoke(main, ["verify"])
    assert result.exit_code == 1
    assert "first bad seq 2" in result.output


def test_keys_rotate_then_retire_the_old_kek(env: Settings) -> None:
    runner = CliRunner()
    keyring = json.loads(Path(env.data_dir, "keyring.json").read_text())
    old = keyring["active_kek"]
    assert runner.invoke(main, ["keys", "retire", old]).exit_code == 2  # still in use / active
    result = runner.invoke(main, ["keys", "rotate"])
    assert result.exit_code == 0, result.output
    assert "re-wrapped 5 data keys" in result.output
    result = runner.invoke(main, ["keys", "retire", old])
    assert result.exit_code == 0, result.output
    assert old not in json.loads(Path(env.data_dir, "keyring.json").read_text())["keks"]
    result = runner.invoke(main, ["verify"])
    assert result.exit_code == 0
    ledger = build_ledger(env, app_class=SampleApp)
    try:
        notes = ledger.app.recorder.select_notifications(start=None, limit=100)
        assert len(notes) == 5
        for note in notes:
            ledger.app.mapper.to_domain_event(note)  # every event still decrypts
    finally:
        ledger.close()


def test_retiring_an_unknown_kek_is_a_one_line_error(env: Settings) -> None:
    result = CliRunner().invoke(main, ["keys", "retire", "kek-nope"])
    assert result.exit_code == 2
    assert result.output.strip().startswith("error:")
    assert len(result.output.strip().splitlines()) == 1


def test_demo_seeds_once_and_the_log_verifies(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LEDGER_DATA_DIR", str(tmp_path))
    monkeypatch.delenv("LEDGER_DATABASE_URL", raising=False)
    runner = CliRunner()
    result = runner.invoke(main, ["demo", "--customers", "25", "--seed", "3"])
    assert result.exit_code == 0, result.output
    assert "25 customers" in result.output
    result = runner.invoke(main, ["demo", "--if-empty"])
    assert "already holds events" in result.output
    result = runner.invoke(main, ["verify"])
    assert result.exit_code == 0, result.output
    assert " 0 not yet sealed" in result.output
