"""The one error path and the help: exit codes, one line on stderr, -h, --version."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from domain.actor import ROLES
from security.bootstrap import Ledger
from web.cli import main

pytestmark = pytest.mark.e2e


def every_command_path() -> Iterator[list[str]]:
    def walk(command: click.Command, path: list[str]) -> Iterator[list[str]]:
        yield path
        if isinstance(command, click.Group):
            for name, sub in sorted(command.commands.items()):
                yield from walk(sub, [*path, name])

    yield from walk(main, [])


@pytest.fixture
def ledger_dir(shell: Path) -> Path:
    assert CliRunner().invoke(main, ["init"]).exit_code == 0
    return shell


@pytest.mark.parametrize("path", list(every_command_path()), ids=lambda p: " ".join(p) or "ledger")
@pytest.mark.parametrize("flag", ["-h", "--help"])
def test_h_and_help_show_the_help_and_the_exit_codes_everywhere(
    shell: Path, path: list[str], flag: str
) -> None:
    result = CliRunner().invoke(main, [*path, flag])
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith(f"Usage: ledger {' '.join(path)}".rstrip() + " ")
    assert "Exit codes:" in result.stdout
    assert "2  usage error" in result.stdout
    assert not shell.exists()


def test_the_top_help_names_the_environment_and_the_first_step() -> None:
    result = CliRunner().invoke(main, ["-h"])
    assert "LEDGER_DATA_DIR" in result.stdout
    assert "LEDGER_DATABASE_URL" in result.stdout
    assert "ledger init" in result.stdout


@pytest.mark.parametrize("command", ["serve", "scheduler", "projections run"])
def test_long_running_commands_say_so_in_their_help(command: str) -> None:
    result = CliRunner().invoke(main, [*command.split(), "-h"])
    assert "Long-running" in result.stdout or "until stopped" in result.stdout


def test_version() -> None:
    result = CliRunner().invoke(main, ["--version"])
    assert result.exit_code == 0
    assert result.stdout.startswith("ledger ")
    assert result.stdout.split()[1][0].isdigit()


def test_a_wrong_role_lists_the_valid_roles(ledger_dir: Path) -> None:
    result = CliRunner().invoke(main, ["token", "issue", "--role", "admin", "--subject", "me"])
    assert result.exit_code == 2
    assert len(result.stderr.splitlines()) == 1
    assert result.stderr.startswith("error: ")
    for role in ROLES:
        assert role in result.stderr


def test_a_right_role_gives_a_token(ledger_dir: Path) -> None:
    result = CliRunner().invoke(main, ["token", "issue", "--role", "regulator", "--subject", "me"])
    assert result.exit_code == 0, result.output
    assert result.stdout.count(".") == 2


@pytest.mark.parametrize(
    "args",
    [["verify", "--nope"], ["no-such-command"], ["keys"], ["jobs", "run"]],
    ids=" ".join,
)
def test_usage_errors_are_one_line_and_exit_2(ledger_dir: Path, args: list[str]) -> None:
    result = CliRunner().invoke(main, args)
    if args == ["keys"]:  # a group alone shows its help on stdout and exits 2
        assert result.exit_code in (0, 2)
        return
    assert result.exit_code == 2, result.output
    assert result.stderr.startswith("error: ")
    assert len(result.stderr.splitlines()) == 1
    assert "Traceback" not in result.output


def test_an_unexpected_exception_is_one_line_and_exit_3(
    ledger_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(self: Ledger, *trusted: object, **mode: object) -> None:
        raise RuntimeError("the disk said no\nand a second line")

    monkeypatch.setattr(Ledger, "verify", broken)
    result = CliRunner().invoke(main, ["verify"])
    assert result.exit_code == 3
    assert result.stderr == "error: unexpected RuntimeError: the disk said no\n"
    assert result.stdout == ""


def test_an_unreachable_store_is_one_line_and_exit_3(
    shell: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LEDGER_DATABASE_URL", "postgresql://postgres@127.0.0.1:1/test")
    result = CliRunner().invoke(main, ["verify"])
    assert result.exit_code == 3, result.output
    assert result.stderr.startswith(
        "error: cannot reach PostgreSQL at postgresql://postgres@127.0.0.1:1/test"
    )
    assert len(result.stderr.splitlines()) == 1
    assert not shell.exists()


def test_a_malformed_database_url_is_a_usage_error(
    shell: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LEDGER_DATABASE_URL", "mysql://somewhere/db")
    result = CliRunner().invoke(main, ["verify"])
    assert result.exit_code == 2
    assert result.stderr.startswith("error: LEDGER_DATABASE_URL must look like")


def test_a_bad_date_is_one_line_and_exit_2(ledger_dir: Path) -> None:
    result = CliRunner().invoke(main, ["jobs", "run", "retention", "--as-of", "tomorrow-ish"])
    assert result.exit_code == 2
    assert "'tomorrow-ish' is not an ISO 8601 date or date-time" in result.stderr
    assert len(result.stderr.splitlines()) == 1


@pytest.mark.parametrize(
    ("args", "said"),
    [
        (["--role", "front_office", "--subject", "fo-1"], "--branch"),
        (["--role", "regulator", "--subject", " "], "non-empty"),
        (["--role", "regulator", "--subject", "me", "--ttl", "43201"], "maximum token lifetime"),
    ],
    ids=["front office without a branch", "empty subject", "over-long lifetime"],
)
def test_a_token_the_server_would_refuse_is_not_issued(
    ledger_dir: Path, args: list[str], said: str
) -> None:
    result = CliRunner().invoke(main, ["token", "issue", *args])
    assert result.exit_code == 2, result.output
    assert len(result.stderr.splitlines()) == 1 and said in result.stderr
    assert result.stdout == ""


def test_the_maximum_token_lifetime_is_configurable(
    ledger_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LEDGER_TOKEN_MAX_LIFETIME", "600")
    args = ["token", "issue", "--role", "regulator", "--subject", "me", "--ttl"]
    assert CliRunner().invoke(main, [*args, "600"]).exit_code == 0
    assert CliRunner().invoke(main, [*args, "601"]).exit_code == 2
    branch = ["token", "issue", "--role", "front_office", "--subject", "fo-1", "--branch"]
    assert CliRunner().invoke(main, [*branch, "BJ-01"]).exit_code == 0


@pytest.mark.parametrize(
    "command", [["log-key"], ["token", "issue", "--role", "regulator", "--subject", "me"]]
)
def test_a_keyring_others_may_read_stops_every_command_at_start(
    ledger_dir: Path, command: list[str]
) -> None:
    keyring = ledger_dir / "keyring.json"
    keyring.chmod(0o644)
    result = CliRunner().invoke(main, command)
    assert result.exit_code != 0
    assert len(result.stderr.splitlines()) == 1
    assert "readable by group or others" in result.stderr and "chmod 600" in result.stderr
    assert result.stdout == ""
    keyring.chmod(0o600)
    assert CliRunner().invoke(main, command).exit_code == 0


def test_a_token_secret_file_others_may_read_stops_the_command(
    ledger_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    secret = tmp_path / "jwt.secret"
    secret.write_text("x" * 48)
    secret.chmod(0o604)
    monkeypatch.setenv("LEDGER_JWT_SECRET_FILE", str(secret))
    result = CliRunner().invoke(main, ["token", "issue", "--role", "regulator", "--subject", "me"])
    assert result.exit_code != 0 and len(result.stderr.splitlines()) == 1
    assert "LEDGER_JWT_SECRET_FILE" in result.stderr and "chmod 600" in result.stderr
