"""`ledger export` and `ledger verify-bundle` as a compliance officer would run them."""

from __future__ import annotations

import getpass
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

import web.cli.export
from security.bootstrap import Ledger, Settings, build_ledger
from tests.support.environment import point_environment_at
from tests.support.sample import SampleApp
from web.cli import main

pytestmark = pytest.mark.e2e

EXPORTED_TOPIC = "domain.audit_export:AuditExport.AuditTrailExported"


@pytest.fixture
def people(ledger_config: Settings, monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """Four people on the configured store; the CLI opens that store with SampleApp."""

    def open_ledger() -> Ledger:
        return build_ledger(ledger_config, app_class=SampleApp)

    monkeypatch.setattr(web.cli.export, "open_ledger", open_ledger)
    # the commands check that the environment points at this ledger before opening it
    point_environment_at(ledger_config, monkeypatch)
    ledger = open_ledger()
    try:
        ids = [str(ledger.app.register(f"Cli Person {i}", f"1350000{i:04d}")) for i in range(4)]
        ledger.app.note("a note")
        ledger.keystore.shred(ids[3])
    finally:
        ledger.close()
    yield ids


def recorded_exports(config: Settings) -> list[dict[str, object]]:
    ledger = build_ledger(config, app_class=SampleApp)
    try:
        notes = ledger.app.recorder.select_notifications(None, 1000)
        found = []
        for note in notes:
            if note.topic == EXPORTED_TOPIC:
                found.append(vars(ledger.app.repository.get(note.originator_id)))
        return found
    finally:
        ledger.close()


def test_export_then_verify_bundle(
    people: list[str], ledger_config: Settings, tmp_path: Path
) -> None:
    runner = CliRunner()
    out = tmp_path / "exports" / "all"
    result = runner.invoke(main, ["export", "--out", str(out), "--all", "--reason", "case 42"])
    assert result.exit_code == 0, result.output
    assert "5 events (4 decrypted, 1 erased)" in result.output
    digest = result.output.strip().rsplit(" ", 1)[1]
    verified = runner.invoke(main, ["verify-bundle", str(out)])
    assert verified.exit_code == 0, verified.output
    assert verified.output.startswith("ok: 5 events (4 decrypted, 1 erased)")
    assert digest in verified.output
    [record] = recorded_exports(ledger_config)
    assert record["actor_id"] == f"cli:{getpass.getuser()}"
    assert (record["actor_role"], record["channel"], record["reason"]) == (
        "compliance_officer",
        "cli",
        "case 42",
    )
    assert record["bundle_digest"] == digest and record["checkpoint_size"] == 5


def test_a_customer_tarball_with_an_actor(
    people: list[str], ledger_config: Settings, tmp_path: Path
) -> None:
    runner = CliRunner()
    out = tmp_path / "exports" / "ann"
    args = ["export", "--out", str(out), "--customer", people[0], "--customer", people[3]]
    result = runner.invoke(main, [*args, "--tar", "--actor", "officer-9"])
    assert result.exit_code == 0, result.output
    tarball = tmp_path / "exports" / "ann.tar.gz"
    assert f"wrote {tarball}: 2 events (1 decrypted, 1 erased)" in result.output
    verified = runner.invoke(main, ["verify-bundle", str(tarball)])
    assert verified.exit_code == 0, verified.output
    [record] = recorded_exports(ledger_config)
    assert record["actor_id"] == "officer-9"
    assert record["scope"] == {
        "all": False,
        "customers": [people[0], people[3]],
        "since": None,
        "until": None,
    }


def test_verify_bundle_exits_1_naming_each_failure(people: list[str], tmp_path: Path) -> None:
    runner = CliRunner()
    out = tmp_path / "exports" / "all"
    assert runner.invoke(main, ["export", "--out", str(out), "--all"]).exit_code == 0
    lines = (out / "events.jsonl").read_text("utf-8").splitlines()
    first = json.loads(lines[0])
    first["fields"]["name"] = "Someone Else"
    lines[0] = json.dumps(first, ensure_ascii=False, separators=(",", ":"))
    (out / "events.jsonl").write_text("\n".join(lines) + "\n", "utf-8")
    (out / "stray.txt").write_text("x")
    result = runner.invoke(main, ["verify-bundle", str(out)])
    assert result.exit_code == 1
    assert "events.jsonl: its SHA-256 differs from manifest.json" in result.output
    assert "events.jsonl seq 0: does not match the decrypted event in fields" in result.output
    assert "stray.txt: is not listed in manifest.json" in result.output
    assert "Someone Else" not in result.output and "Cli Person" not in result.output


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["export", "--all"], "error: Missing option '--out'."),
        (
            ["export", "--out", "X"],
            "error: choose a scope: --customer ID, --since/--until, or --all",
        ),
        (["export", "--out", "X", "--all", "--customer", "c"], "cannot be combined"),
        (["export", "--out", "X", "--customer", "nope"], "error: a customer id is not a UUID"),
        (["export", "--out", "X", "--since", "yesterday"], "is not an ISO 8601 date or date-time"),
        (["export", "--out", "X", "--since", "2030-01-01", "--until", "2020-01-01"], "earlier"),
        (["verify-bundle", "/no/such/bundle"], "does not exist"),
        (["verify-bundle", "--trusted-vkey", "/no/such/key", "."], "does not exist"),
    ],
)
def test_bad_arguments_give_one_line_and_exit_2(
    people: list[str], tmp_path: Path, args: list[str], message: str
) -> None:
    args = [str(tmp_path / a) if a == "X" else a for a in args]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 2, result.output
    assert message in result.output
    assert len(result.output.strip().splitlines()) == 1, result.output


def test_export_refuses_an_existing_target_and_unknown_customer(
    people: list[str], tmp_path: Path
) -> None:
    runner = CliRunner()
    out = tmp_path / "exports" / "all"
    assert runner.invoke(main, ["export", "--out", str(out), "--all"]).exit_code == 0
    again = runner.invoke(main, ["export", "--out", str(out), "--all"])
    assert again.exit_code == 2 and "already exists" in again.output
    unknown = "00000000-0000-4000-8000-000000000001"
    result = runner.invoke(main, ["export", "--out", str(tmp_path / "u"), "--customer", unknown])
    assert result.exit_code == 2
    assert f"error: no events are recorded about customer {unknown}" in result.output
    bad = tmp_path / "not-a-bundle.txt"
    bad.write_text("hello")
    result = runner.invoke(main, ["verify-bundle", str(bad)])
    assert result.exit_code == 2 and "neither a bundle directory" in result.output


def _modes(root: Path) -> set[tuple[str, int]]:
    found = {("dir", root.stat().st_mode & 0o777)}
    for path in root.rglob("*"):
        found.add(("dir" if path.is_dir() else "file", path.stat().st_mode & 0o777))
    return found


def test_bundles_are_readable_by_their_owner_only(
    people: list[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import os

    old = os.umask(0o022)  # a usual umask: group and others would read what is not guarded
    try:
        runner = CliRunner()
        folder = tmp_path / "exports" / "folder"
        assert runner.invoke(main, ["export", "--out", str(folder), "--all"]).exit_code == 0
        assert _modes(folder) == {("dir", 0o700), ("file", 0o600)}
        assert len(list(folder.rglob("*"))) > 8  # proofs, keys, events, manifest, ...
        tar = tmp_path / "exports" / "packed"
        assert runner.invoke(main, ["export", "--out", str(tar), "--all", "--tar"]).exit_code == 0
        packed = tmp_path / "exports" / "packed.tar.gz"
        assert packed.stat().st_mode & 0o777 == 0o600
        import tarfile

        with tarfile.open(packed) as archive:
            modes = {member.mode & 0o777 for member in archive.getmembers()}
        assert modes == {0o700, 0o600}
    finally:
        os.umask(old)
