"""Where there is no ledger, commands refuse (exit 2) and create nothing; `ledger init`
creates one; an empty ledger does not verify."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from pathlib import Path

import psycopg
import pytest
from click.testing import CliRunner

from tests.conftest import PG_DSN, require_postgres
from web.cli import main

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[3]

NEEDS_A_LEDGER = [
    ["verify"],
    ["checkpoint"],
    ["keys", "list"],
    ["keys", "rotate"],
    ["keys", "retire", "kek-x"],
    ["token", "issue", "--role", "system", "--subject", "me"],
    ["export", "--out", "OUT", "--all"],
    ["projections", "status"],
    ["projections", "rebuild"],
    ["projections", "run", "--once"],
    ["jobs", "list"],
    ["jobs", "run", "retention"],
    ["scheduler"],
    ["serve"],
    ["serve", "--dev"],
]


def _args(args: list[str], tmp_path: Path) -> list[str]:
    return [str(tmp_path / "out") if a == "OUT" else a for a in args]


@pytest.mark.parametrize("args", NEEDS_A_LEDGER, ids=" ".join)
def test_a_mistyped_data_dir_is_refused_with_exit_2_and_nothing_is_created(
    shell: Path, tmp_path: Path, args: list[str]
) -> None:
    result = CliRunner().invoke(main, _args(args, tmp_path))
    assert result.exit_code == 2, result.output
    assert result.stderr == (
        f"error: no ledger at {shell}; set LEDGER_DATA_DIR or run `ledger init`\n"
    )
    assert not shell.exists()
    assert not (tmp_path / "out").exists()


def test_an_existing_folder_without_a_ledger_is_refused_and_left_empty(shell: Path) -> None:
    shell.mkdir()
    result = CliRunner().invoke(main, ["verify"])
    assert result.exit_code == 2
    assert "no ledger at" in result.stderr
    assert list(shell.iterdir()) == []


def test_a_user_running_ledger_verify_in_a_shell_gets_one_line_and_exit_2(shell: Path) -> None:
    env = {**os.environ}
    result = subprocess.run(
        [sys.executable, "-m", "web.cli", "verify"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 2
    assert result.stderr == (
        f"error: no ledger at {shell}; set LEDGER_DATA_DIR or run `ledger init`\n"
    )
    assert result.stdout == ""
    assert not shell.exists()


def test_a_tables_without_keyring_store_is_refused_not_given_a_new_keyring(shell: Path) -> None:
    runner = CliRunner()
    assert runner.invoke(main, ["init"]).exit_code == 0
    (shell / "keyring.json").unlink()
    for args in (["verify"], ["init"], ["demo", "--customers", "1"]):
        result = runner.invoke(main, args)
        assert result.exit_code == 2, result.output
        assert "has no keyring" in result.stderr or "keyring is not at" in result.stderr
        assert not (shell / "keyring.json").exists()


def test_init_creates_the_ledger_and_says_where_then_verify_on_empty_exits_1(
    shell: Path,
) -> None:
    runner = CliRunner()
    created = runner.invoke(main, ["init"])
    assert created.exit_code == 0, created.output
    assert created.stdout.startswith(f"created a ledger at {shell}")
    assert (shell / "keyring.json").is_file()
    assert (shell / "ledger.sqlite3").is_file()

    keyring = (shell / "keyring.json").read_bytes()
    again = runner.invoke(main, ["init"])
    assert again.exit_code == 0
    assert again.stdout == f"a ledger already exists at {shell}: nothing changed\n"
    assert (shell / "keyring.json").read_bytes() == keyring

    verified = runner.invoke(main, ["verify"])
    assert verified.exit_code == 1
    assert verified.stdout == ""
    assert verified.stderr.startswith("FAILED: the log at ")
    assert "holds no events" in verified.stderr
    assert len(verified.stderr.splitlines()) == 1


def test_after_demo_data_verify_exits_0(shell: Path) -> None:
    runner = CliRunner()
    assert runner.invoke(main, ["init"]).exit_code == 0
    seeded = runner.invoke(main, ["demo", "--customers", "3", "--if-empty"])
    assert seeded.exit_code == 0, seeded.output
    verified = runner.invoke(main, ["verify"])
    assert verified.exit_code == 0, verified.output
    assert verified.stdout.startswith("ok: ")


def test_verify_bundle_needs_no_ledger(shell: Path, tmp_path: Path) -> None:
    bundle = tmp_path / "not-a-bundle"
    bundle.mkdir()
    result = CliRunner().invoke(main, ["verify-bundle", str(bundle)])
    assert "no ledger" not in result.output
    assert result.exit_code in (1, 2)
    assert not shell.exists()


@pytest.mark.postgres
def test_an_absent_postgres_schema_is_refused_and_not_created(
    shell: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    require_postgres()
    schema = f"absent_{uuid.uuid4().hex[:10]}"
    monkeypatch.setenv("LEDGER_DATABASE_URL", f"{PG_DSN}?schema={schema}")
    runner = CliRunner()
    result = runner.invoke(main, ["verify"])
    assert result.exit_code == 2, result.output
    assert result.stderr.startswith("error: no ledger at postgresql://")
    assert f"schema={schema}; set LEDGER_DATABASE_URL or run `ledger init`" in result.stderr
    with psycopg.connect(PG_DSN) as connection:
        found = connection.execute("SELECT to_regnamespace(%s)", (schema,)).fetchone()
    assert found == (None,)
    assert not shell.exists()

    try:
        created = runner.invoke(main, ["init"])
        assert created.exit_code == 0, created.output
        assert f"schema={schema}" in created.stdout
        assert runner.invoke(main, ["verify"]).exit_code == 1  # empty
    finally:
        with psycopg.connect(PG_DSN, autocommit=True) as connection:
            connection.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


@pytest.mark.postgres
def test_an_absent_postgres_database_is_refused(
    shell: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    require_postgres()
    base = PG_DSN.rsplit("/", 1)[0]
    monkeypatch.setenv("LEDGER_DATABASE_URL", f"{base}/no_such_db_{uuid.uuid4().hex[:8]}")
    result = CliRunner().invoke(main, ["verify"])
    assert result.exit_code == 2, result.output
    assert "no ledger at postgresql://" in result.stderr
