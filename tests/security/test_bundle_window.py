"""A time-window bundle proves it holds every event of its scope that entered the log
between two signed checkpoints recorded around the window (issue 16, item 3): a
bundle with one of the customer's in-window events removed consistently, by a forger
holding the log key, fails naming the seq; so does one whose map proof at either end
is another subject's or an older checkpoint's, one whose chain skips an erased event
in the window, and a window without customers missing any event of its log range.
Both stores."""

from __future__ import annotations

import json
import shutil
import subprocess
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from ledger_verify.bundle.report import BundleReport
from ledger_verify.bundle.subject_chains import COMPLETENESS
from ledger_verify.bundle.verify import summary, verify_bundle
from ledger_verify.bundle.window import WINDOW
from ledger_verify.checkpoints import parse_checkpoint
from ledger_verify.cosignature import append_signature_lines, cosign, cosigner_vkey
from security.bootstrap import Settings, build_ledger
from tests.security.test_bundle_completeness import Store, failures, forge, seqs, withhold
from tests.support.sample import SampleApp
from web.cli import main

pytestmark = pytest.mark.integration


@pytest.fixture
def store(ledger_config: Settings, tmp_path: Path) -> Iterator[Store]:
    ledger = build_ledger(ledger_config, app_class=SampleApp)
    try:
        yield Store(ledger, ledger.keyring.signing_key(), tmp_path / "out")
    finally:
        ledger.close()


def pause() -> datetime:
    """A moment strictly between what was recorded before and what is recorded after."""
    time.sleep(0.02)
    moment = datetime.now(UTC)
    time.sleep(0.02)
    return moment


def window(bundle: Path) -> dict[str, Any]:
    return json.loads((bundle / WINDOW).read_text("utf-8"))  # type: ignore[no-any-return]


def sizes(bundle: Path) -> tuple[int, int]:
    bounds = window(bundle)
    start = 0 if bounds["from"] is None else parse_checkpoint(bounds["from"]["checkpoint"]).size
    return start, parse_checkpoint(bounds["to"]["checkpoint"]).size


def line(bundle: Path) -> dict[str, Any]:
    (only,) = (bundle / COMPLETENESS).read_text().splitlines()
    return json.loads(only)  # type: ignore[no-any-return]


def write_line(bundle: Path, obj: dict[str, Any]) -> None:
    text = json.dumps(obj, sort_keys=True, separators=(",", ":"))
    (bundle / COMPLETENESS).write_text(text + "\n")


def three_periods(store: Store) -> dict[str, Any]:
    """Events before, inside and after a window, sealed at each boundary: seqs 0-2
    before (checkpoint 3), 3-5 inside (checkpoint 6), 6 after (checkpoint 7, the first
    recorded after the window), 7 about no one (checkpoint 8, the first whose seal
    began after the window: the window's `to`), 8 sealed by the first export."""
    app, ledger = store.ledger.app, store.ledger
    alice = app.register("Alice", "13700000001")  # 0
    bob = app.register("Bob", "13700000002")  # 1
    app.rename(alice, "Alice B")  # 2
    ledger.seal()
    since = pause()
    app.rename(alice, "Alice C")  # 3
    app.rename(bob, "Robert")  # 4
    app.rename(alice, "Alice D")  # 5
    ledger.seal()
    until = pause()
    app.rename(alice, "Alice E")  # 6: after the window, before the next checkpoint
    ledger.seal()
    app.note("later")  # 7
    ledger.seal()
    app.note("later still")  # 8: sealed by the export
    return {"alice": alice, "bob": bob, "since": since, "until": until}


def test_a_customer_window_proves_every_event_of_its_log_range(store: Store) -> None:
    given = three_periods(store)
    bundle = store.export(given["alice"], since=given["since"], until=given["until"])
    report = verify_bundle(bundle)
    assert report.ok, summary(report)
    # from: the checkpoint recorded before `since` (3); to: the one after the first
    # recorded after `until` (8)
    assert sizes(bundle) == (3, 8) and report.window == (3, 8)
    assert seqs(bundle) == [3, 5, 6]  # 6: in the log range, though after the window
    assert [seq for seq, _ in line(bundle)["chain"]] == [3, 5, 6]
    assert "every event of its scope with a seq in [3, 8)" in summary(report)
    recorded = window(bundle)["from"]["recorded_at"]
    assert f"between the checkpoints 'from' (recorded {recorded})" in summary(report)
    bobs = store.export(given["bob"], since=given["since"], until=given["until"])
    assert verify_bundle(bobs).ok and seqs(bobs) == [4]
    # a customer with no event before the window: the `from` proof shows them absent
    carol = store.ledger.app.register("Carol")
    late = store.export(carol, since=given["until"])
    assert verify_bundle(late).ok and line(late)["from"] is not None


def test_open_windows_reach_the_log_start_or_the_bundle_checkpoint(store: Store) -> None:
    given = three_periods(store)
    later = store.export(given["alice"], since=given["since"])
    assert verify_bundle(later).ok
    size = json.loads((later / "manifest.json").read_text())["log"]["checkpoint_size"]
    assert sizes(later) == (3, size) and seqs(later) == [3, 5, 6]
    earlier = store.export(given["alice"], until=given["until"])
    assert verify_bundle(earlier).ok
    assert window(earlier)["from"] is None and sizes(earlier) == (0, 8)
    assert seqs(earlier) == [0, 2, 3, 5, 6]
    # a window that has not begun: an empty log range, proven empty
    future = store.export(given["alice"], since=datetime.now(UTC) + timedelta(days=1))
    report = verify_bundle(future)
    assert report.ok, summary(report)
    assert seqs(future) == [] and line(future)["chain"] == []
    assert report.window is not None and report.window[0] == report.window[1]


def test_an_in_window_event_withheld_consistently_is_named(store: Store) -> None:
    given = three_periods(store)
    bundle = store.export(given["alice"], since=given["since"], until=given["until"])
    cut = bundle.parent / "cut"
    shutil.copytree(bundle, cut)
    withhold(bundle, 5, store.signer)
    assert "leaves.jsonl seq 5: missing: the customer's chain" in failures(bundle)
    ledger_cli = CliRunner().invoke(main, ["verify-bundle", str(bundle)])
    assert ledger_cli.exit_code == 1
    assert "leaves.jsonl seq 5: missing" in ledger_cli.output
    withhold(cut, 5, store.signer, from_chain=True)
    assert "does not lead from the 'from' head to the signed 'to' head" in failures(cut)


def test_a_map_proof_of_another_subject_or_an_older_size_fails(store: Store) -> None:
    given = three_periods(store)
    alice, bob = given["alice"], given["bob"]
    bundle = store.export(alice, since=given["since"], until=given["until"])
    bobs = store.export(bob, since=given["since"], until=given["until"])
    for end in ("from", "to"):
        swapped = bundle.parent / f"swapped-{end}"
        shutil.copytree(bundle, swapped)
        obj = line(swapped)
        obj[end] = line(bobs)[end]
        write_line(swapped, obj)
        forge(swapped, store.signer)
        assert f"the customer's '{end}' map proof fails" in failures(swapped)
    # the proof of an older size: alice's entry at checkpoint 7 offered as her entry
    # at the window's end (8)
    older = store.export(alice, until=given["since"])
    assert sizes(older) == (0, 7)
    stale = bundle.parent / "stale"
    shutil.copytree(bundle, stale)
    obj = line(stale)
    obj["to"] = line(older)["to"]
    write_line(stale, obj)
    forge(stale, store.signer)
    assert "does not lead to the signed map root" in failures(stale)


def test_a_chain_skipping_an_erased_in_window_event_fails(store: Store) -> None:
    given = three_periods(store)
    store.ledger.keystore.shred(given["alice"])
    bundle = store.export(given["alice"], since=given["since"], until=given["until"])
    assert verify_bundle(bundle).ok
    events = [json.loads(x) for x in (bundle / "events.jsonl").read_text().splitlines()]
    assert all(e["erased"] for e in events)  # leaves without keys
    # 3, 5, 6: the log range; 2: erased just before it, placed by its neighbours
    assert seqs(bundle) == [2, 3, 5, 6]
    named = bundle.parent / "named"
    shutil.copytree(bundle, named)
    withhold(named, 5, store.signer)
    assert "leaves.jsonl seq 5: missing: the customer's chain" in failures(named)
    withhold(bundle, 5, store.signer, from_chain=True)
    assert "does not lead from the 'from' head" in failures(bundle)


def test_a_window_without_customers_holds_its_whole_log_range(store: Store) -> None:
    given = three_periods(store)
    bundle = store.export(since=given["since"], until=given["until"])
    report = verify_bundle(bundle)
    assert report.ok, summary(report)
    assert seqs(bundle) == [3, 4, 5, 6, 7] and report.window == (3, 8)
    withhold(bundle, 4, store.signer)
    assert "leaves.jsonl seq 4: missing: the window's log range [3, 8)" in failures(bundle)


def test_window_bounds_that_do_not_bound_the_window_fail(store: Store) -> None:
    given = three_periods(store)
    bundle = store.export(given["alice"], since=given["since"], until=given["until"])

    def edit(name: str, change: Any) -> str:
        copy = bundle.parent / name
        shutil.copytree(bundle, copy)
        bounds = window(copy)
        change(bounds)
        text = json.dumps(bounds, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
        (copy / WINDOW).write_text(text + "\n", "utf-8")
        forge(copy, store.signer)
        return failures(copy)

    def late_from(bounds: dict[str, Any]) -> None:
        bounds["from"]["recorded_at"] = given["until"].isoformat()

    def early_to(bounds: dict[str, Any]) -> None:
        bounds["to"]["recorded_at"] = given["since"].isoformat()

    def foreign_to(bounds: dict[str, Any]) -> None:
        bounds["to"]["checkpoint"] = bounds["to"]["checkpoint"].replace("\n8\n", "\n9\n")

    def no_proof(bounds: dict[str, Any]) -> None:
        bounds["from"]["consistency"] = []

    assert "recorded after the window's start" in edit("late", late_from)
    assert "recorded before the window's end" in edit("early", early_to)
    assert "'to' checkpoint does not verify" in edit("foreign", foreign_to)
    assert "'from' is not an earlier state of 'to'" in edit("unproven", no_proof)
    gone = bundle.parent / "gone"
    shutil.copytree(bundle, gone)
    (gone / WINDOW).unlink()
    forge(gone, store.signer)
    assert "window.json: missing" in failures(gone)


def test_a_witness_cosignature_of_from_by_the_window_start_attests_it(store: Store) -> None:
    given = three_periods(store)
    bundle = store.export(given["alice"], since=given["since"], until=given["until"])
    witness = Ed25519PrivateKey.generate()
    vkey = cosigner_vkey("witness.example/w1", witness.public_key())
    start = int(given["since"].timestamp())

    def cosigned_at(name: str, when: int) -> BundleReport:
        copy = bundle.parent / name
        shutil.copytree(bundle, copy)
        bounds = window(copy)
        note = bounds["from"]["checkpoint"]
        line = cosign(note, witness, "witness.example/w1", when)
        bounds["from"]["checkpoint"] = append_signature_lines(note, [line])
        text = json.dumps(bounds, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
        (copy / WINDOW).write_text(text + "\n", "utf-8")
        forge(copy, store.signer)
        report = verify_bundle(copy, witness_vkeys=[vkey], witness_quorum=0)
        assert report.ok, summary(report)
        return report

    attested = cosigned_at("on-time", start - 1)
    assert attested.window_attested == [
        f"witness.example/w1+{vkey.split('+')[1]} at "
        f"{datetime.fromtimestamp(start - 1, UTC).isoformat()}"
    ]
    assert "the window's start is attested by trusted witness(es)" in summary(attested)
    assert cosigned_at("late", start + 60).window_attested == []  # seen only later


def test_the_window_notes_verify_with_openssl_as_documented(store: Store) -> None:
    given = three_periods(store)
    bundle = store.export(given["alice"], since=given["since"], until=given["until"])
    doc = (Path(__file__).resolve().parents[2] / "docs" / "export-format.md").read_text("utf-8")
    for end in ("from", "to"):
        extract = (
            'python3 -c \'import json,sys;sys.stdout.write(json.load(open("window.json"))'
            f'["{end}"]["checkpoint"])\' > /tmp/{end}.checkpoint'
        )
        if end == "to":
            assert extract in doc  # the page's own command
        script = f"""
        set -euo pipefail
        {extract.replace("/tmp/", "./")}
        NAME=$(cut -d+ -f1 log.vkey)
        sed '/^$/,$d' {end}.checkpoint > {end}.body
        grep "^— $NAME " {end}.checkpoint | head -1 | cut -d' ' -f3 | base64 -d \
            | tail -c 64 > {end}.sig
        openssl pkeyutl -verify -pubin -inkey log.pub -rawin -in {end}.body -sigfile {end}.sig
        """
        done = subprocess.run(
            ["bash", "-c", script], cwd=bundle, capture_output=True, text=True, check=False
        )
        assert done.returncode == 0, done.stdout + done.stderr
        assert "Signature Verified Successfully" in done.stdout
