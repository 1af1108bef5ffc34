"""`ledger verify` against the witnesses (issue 11): a store rolled back below what a
witness cosigned fails naming the witness, even with the anchor file gone; a witness
that is down is only a note; a bad cosignature fails; a checkpoint lacking a
witness's cosignature shows in /readyz and as a security alert."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from ledger_verify.checkpoints import verifier_key
from projections.runtime import read_models
from scheduler.runner import JobRunner
from security.bootstrap import Ledger, Settings, build_ledger
from security.witness import monitor
from security.witness.client import parse_witnesses
from security.witness.state import WitnessState
from tests.conftest import CALENDAR_OVERRIDES
from tests.domain.factories import Clock, individual
from tests.scheduler.conftest import START, open_test_runner
from tests.scheduler.test_security_checks import alerts
from tests.security.test_anchors import drop_newest_checkpoint_with_its_leaves_and_events
from tests.security.test_witness import Witness, start_witness
from tests.support.environment import point_environment_at
from tests.support.sample import SampleApp
from web.app import create_app
from web.cli import main

pytestmark = pytest.mark.integration


@pytest.fixture
def witness(tmp_path: Path) -> Iterator[Witness]:
    started = start_witness(tmp_path / "witness")
    yield started
    started.server.shutdown()
    started.server.server_close()


@pytest.fixture
def down(tmp_path: Path) -> str:
    """`<vkey> <url>` of a witness nothing listens for any more."""
    gone = start_witness(tmp_path / "down", "witness.test/down")
    gone.server.server_close()
    return f"{gone.vkey} {gone.url}"


@pytest.fixture
def clock() -> Clock:
    return Clock(START)


def config_with(tmp_path: Path, witnesses: str) -> Settings:
    return Settings(
        data_dir=tmp_path / "ledger",
        witnesses=parse_witnesses(witnesses),
        calendar_overrides=CALENDAR_OVERRIDES,  # /readyz needs next year's CN calendar
    )


def witnessed(tmp_path: Path, witness: Witness) -> Ledger:
    """A ledger whose event log the witness cosigned at sizes 6 and 9."""
    ledger = build_ledger(
        config_with(tmp_path, f"{witness.vkey} {witness.url}"), app_class=SampleApp
    )
    WitnessState(witness.directory).add_log(
        verifier_key(ledger.sealed_log.origin, ledger.sealed_log.public_key)
    )
    assert ledger.witnesses is not None
    for count, tag in ((6, ""), (3, "b")):
        for i in range(count):
            ledger.app.register(f"Person {tag}{i}", f"1390000{i:04d}", f"ID{tag}{i}")
        ledger.seal()
        ledger.witnesses.drain()
    assert WitnessState(witness.directory).logs()[0].size == 9
    return ledger


def test_a_store_rolled_back_below_what_a_witness_cosigned_fails_naming_it(
    witness: Witness, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ledger = witnessed(tmp_path, witness)
    try:
        report = ledger.verify_all()
        assert report.ok, report.problems
        # the access log is empty: nothing was cosigned (nor is anything missing)
        assert [
            n.endswith("has cosigned no checkpoint of " + ledger.access_sealed.origin + " yet")
            for n in report.notes
        ] == [True]
        drop_newest_checkpoint_with_its_leaves_and_events(ledger)
        anchors = ledger.config.anchor_file
        anchors.rename(anchors.with_suffix(".aside"))  # only the witness remembers size 9
        # (and the verified state of the incremental mode: full runs leave it aside)
        assert ledger.verify_all(consult_witnesses=False, full=True).ok
        report = ledger.verify_all(full=True)
    finally:
        ledger.close()
    assert not report.ok
    name = str(parse_witnesses(f"{witness.vkey} {witness.url}")[0].cosigner)
    [problem] = [p.message for p in report.problems]
    assert f"witness {name}" in problem and "no longer reaches" in problem
    assert "size 9" in problem and "ends at size 6" in problem

    point_environment_at(ledger.config, monkeypatch)
    monkeypatch.setenv("LEDGER_WITNESSES", f"{witness.vkey} {witness.url}")
    result = CliRunner().invoke(main, ["verify"])
    assert result.exit_code == 1
    assert f"witness {name}" in result.output


def test_a_witness_serving_a_bad_cosignature_is_a_failure(witness: Witness, tmp_path: Path) -> None:
    ledger = witnessed(tmp_path, witness)
    try:
        state_file = witness.directory / "logs.json"
        data = json.loads(state_file.read_text())
        [entry] = data.values()
        note, line = entry["note"].rsplit("\n", 2)[0], entry["note"].rsplit("\n", 2)[1]
        flipped = line[:-10] + ("A" if line[-10] != "A" else "B") + line[-9:]
        entry["note"] = f"{note}\n{flipped}\n"
        state_file.write_text(json.dumps(data))
        report = ledger.verify_all()
    finally:
        ledger.close()
    assert not report.ok
    assert any("cosignature does not verify" in p.message for p in report.problems)


def test_a_witness_that_is_down_is_a_note_not_a_failure(
    down: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ledger = build_ledger(config_with(tmp_path, down), app_class=SampleApp)
    try:
        ledger.app.register("Ann", "13900000001", "ID-ANN")
        assert ledger.seal() is not None
        report = ledger.verify_all()
        assert ledger.missing_cosignatures() == []  # within the grace period
        missing = ledger.missing_cosignatures(grace_seconds=0)
    finally:
        ledger.close()
    assert report.ok, report.problems
    name = str(ledger.config.witnesses[0].cosigner)
    assert any(n.startswith(f"witness {name} unreachable: ") for n in report.notes)
    [message] = missing
    assert "event log's checkpoint at size 1" in message and name in message

    point_environment_at(ledger.config, monkeypatch)
    monkeypatch.setenv("LEDGER_WITNESSES", down)
    monkeypatch.setattr(monitor, "GRACE_SECONDS", 0.0)
    result = CliRunner().invoke(main, ["verify"])
    assert result.exit_code == 0, result.output
    assert f"note: witness {name} unreachable: " in result.output
    assert "note: the event log's checkpoint at size 1 lacks the cosignature" in result.output


def test_readyz_shows_a_missing_cosignature_and_stays_ready(
    down: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ledger = build_ledger(config_with(tmp_path, down))
    try:
        individual(ledger.app)
        assert ledger.seal() is not None
        app = create_app({"LEDGER": ledger, "TESTING": True})
        client = app.test_client()
        read_models(ledger).catch_up()
        fresh = client.get("/readyz").get_json()
        assert fresh["checks"]["witnesses"] == "ok"  # still within the grace period
        monkeypatch.setattr(monitor, "GRACE_SECONDS", 0.0)
        lagging = client.get("/readyz")
    finally:
        ledger.close()
    body = lagging.get_json()
    assert body["checks"]["witnesses"].startswith("missing: the event log's checkpoint")
    assert str(ledger.config.witnesses[0].cosigner) in body["checks"]["witnesses"]
    assert lagging.status_code == 200 and body["status"] == "ok", body


def test_a_missing_cosignature_is_a_security_alert(
    down: str, tmp_path: Path, clock: Clock, monkeypatch: pytest.MonkeyPatch
) -> None:
    runner: JobRunner = open_test_runner(config_with(tmp_path, down), clock)
    try:
        individual(runner.ledger.app)
        assert runner.ledger.seal() is not None
        monkeypatch.setattr(monitor, "GRACE_SECONDS", 0.0)
        outcome = runner.run("security_checks")
        found = alerts(runner)
    finally:
        runner.close()
    assert outcome.state == "completed", outcome.summary
    assert [(a.kind, a.severity) for a in found] == [("witness_cosignature_missing", "warning")]
    assert str(runner.ledger.config.witnesses[0].cosigner) in found[0].detail
