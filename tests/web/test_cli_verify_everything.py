"""`ledger verify` verifies the event log, the access log and the key store, with one exit
status and output naming the part that failed."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

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
    try:
        for i in range(3):
            person = ledger.app.register(f"Cli Person {i}", f"1360000{i:04d}", f"K{i}")
            ledger.access_log.record(
                actor_id="bob",
                role="compliance_officer",
                purpose="compliance_audit",
                subject_id=str(person),
                what="customer.profile",
            )
        ledger.seal()
        ledger.access_sealed.seal()
    finally:
        ledger.close()
    yield ledger_config


def tamper(config: Settings, statement: str, params: tuple[Any, ...] = ()) -> str:
    """Run one statement on the store; returns the first person's subject id."""
    ledger = build_ledger(config, app_class=SampleApp)
    try:
        with ledger.datastore.transaction(commit=True) as cursor:
            ledger.keystore.dialect.execute(
                cursor,
                statement.format(keys=ledger.keystore.table, access=ledger.access_log.table),
                params,
            )
            ledger.keystore.dialect.execute(
                cursor,
                f"SELECT subject_id FROM {ledger.keystore.table} WHERE subject_id<>'system' "
                "ORDER BY created_at, dek_id LIMIT 1",
            )
            return str(cursor.fetchone()["subject_id"])
    finally:
        ledger.close()


def test_an_intact_ledger_verifies_in_all_three_parts(env: Settings) -> None:
    result = CliRunner().invoke(main, ["verify"])
    assert result.exit_code == 0, result.output
    assert result.output.startswith("ok: 3 events, 3 sealed, 0 not yet sealed")
    assert "access log: 3 entries, 3 sealed" in result.output
    assert "key store: 3 rows, 3 live keys, 0 subjects lawfully erased" in result.output


def test_a_nulled_data_key_fails_verify_naming_the_subject(env: Settings) -> None:
    ledger = build_ledger(env, app_class=SampleApp)
    try:
        subject = str(next(iter(ledger.app.recorder.select_notifications(None, 1))).originator_id)
    finally:
        ledger.close()
    tamper(env, "UPDATE {keys} SET wrapped=NULL WHERE subject_id=?", (subject,))
    result = CliRunner().invoke(main, ["verify"])
    assert result.exit_code == 1
    assert f"key store: subject {subject}: data key" in result.output
    assert "FAILED: the key store did not verify: 1 problem above" in result.output
    assert "Traceback" not in result.output
    assert isinstance(result.exception, SystemExit)  # a verdict, not a crash


def test_an_edited_access_entry_fails_verify(env: Settings) -> None:
    tamper(env, "UPDATE {access} SET what='customer.everything' WHERE id=1")
    result = CliRunner().invoke(main, ["verify"])
    assert result.exit_code == 1
    assert "access log: seq 0:" in result.output
    assert "the access log (first bad seq 0) did not verify" in result.output


def test_a_malformed_event_row_fails_verify_naming_its_seq(env: Settings) -> None:
    if env.store_kind == "sqlite":
        tamper(env, "UPDATE stored_events SET originator_id='nope', state='text' WHERE rowid=2")
    else:
        schema = env.database_url.split("schema=")[1] if env.database_url else ""
        tamper(env, f'UPDATE "{schema}".ledger_events SET state=NULL WHERE notification_id=2')
    result = CliRunner().invoke(main, ["verify"])
    assert result.exit_code == 1, result.output
    assert "event log: seq 1: the stored event (notification 2)" in result.output
    assert "malformed" in result.output
    assert "event log (first bad seq 1)" in result.output
    assert "Traceback" not in result.output
    assert isinstance(result.exception, SystemExit)  # a verdict, not a crash


def test_verify_says_which_mode_ran_and_full_forces_a_full_run(env: Settings) -> None:
    cli = CliRunner()
    first = cli.invoke(main, ["verify"])
    assert first.exit_code == 0, first.output
    assert "(full: no verified state yet, log at size 3)" in first.output
    second = cli.invoke(main, ["verify"])
    assert second.exit_code == 0, second.output
    assert "checkpoints verified (incremental from size 3, log at size 3)" in second.output
    forced = cli.invoke(main, ["verify", "--full"])
    assert forced.exit_code == 0, forced.output
    assert "ok: 3 events, 3 sealed" in forced.output
    assert "checkpoints verified (full, log at size 3)" in forced.output


def test_an_entry_changed_after_an_incremental_run_fails_only_the_full_one(env: Settings) -> None:
    cli = CliRunner()
    assert cli.invoke(main, ["verify"]).exit_code == 0
    tamper(env, "UPDATE {access} SET purpose='kyc_review' WHERE id=(SELECT MIN(id) FROM {access})")
    assert cli.invoke(main, ["verify"]).exit_code == 0  # below the verified size: not seen
    result = cli.invoke(main, ["verify", "--full"])
    assert result.exit_code == 1
    assert "access log: seq 0:" in result.output


def test_a_corrupt_verified_state_is_a_note_and_a_full_run(env: Settings) -> None:
    cli = CliRunner()
    assert cli.invoke(main, ["verify"]).exit_code == 0
    for state in (env.data_dir / "verify").glob("*.state"):
        state.write_text("garbage")
    result = cli.invoke(main, ["verify"])
    assert result.exit_code == 0, result.output
    assert "is unusable" in result.output and "verified in full" in result.output
    assert "(full: the verified state" in result.output
