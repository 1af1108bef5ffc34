"""A customer bundle proves it holds every event of the customer up to its checkpoint
(issue 16): a bundle with one of the customer's events removed consistently, by a
forger holding the log key, fails and names the seq; so does one missing the newest
event, one whose map proof is another subject's or an older checkpoint's, and one
whose chain skips an erased event. Both stores."""

from __future__ import annotations

import hashlib
import json
import random
import shutil
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from uuid import UUID

import pytest
from click.testing import CliRunner
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from ledger_verify.bundle.signature import sign_manifest
from ledger_verify.bundle.subject_chains import COMPLETENESS
from ledger_verify.bundle.verify import summary, verify_bundle
from security.bootstrap import Ledger, Settings, build_ledger
from security.export.exporter import ExportActor, ExportScope, export_bundle
from tests.security.test_bundle_verify import edit_lines, rehash
from tests.support.sample import SampleApp
from web.cli import main

pytestmark = pytest.mark.integration

ACTOR = ExportActor("officer-1")


@dataclass
class Store:
    ledger: Ledger
    signer: Ed25519PrivateKey
    out: Path
    count: int = 0

    def export(self, *customers: UUID, **scope: object) -> Path:
        self.count += 1
        target = self.out / f"bundle-{self.count}"
        chosen = ExportScope(customers=tuple(str(c) for c in customers), **scope)  # type: ignore[arg-type]
        export_bundle(self.ledger, target, chosen, ACTOR)
        return target


@pytest.fixture
def store(ledger_config: Settings, tmp_path: Path) -> Iterator[Store]:
    ledger = build_ledger(ledger_config, app_class=SampleApp)
    try:
        yield Store(ledger, ledger.keyring.signing_key(), tmp_path / "out")
    finally:
        ledger.close()


def seqs(bundle: Path) -> list[int]:
    return [json.loads(line)["seq"] for line in (bundle / "leaves.jsonl").read_text().splitlines()]


def chain_of(bundle: Path) -> list[int]:
    (line,) = (bundle / COMPLETENESS).read_text().splitlines()
    return [seq for seq, _ in json.loads(line)["chain"]]


def forge(bundle: Path, signer: Ed25519PrivateKey) -> None:
    """Make the bundle self-consistent again, as the firm could: counts, manifest
    digests, and the manifest signature by the log key."""
    manifest = json.loads((bundle / "manifest.json").read_text("utf-8"))
    events = [json.loads(x) for x in (bundle / "events.jsonl").read_text().splitlines()]
    keys = (bundle / "keys.jsonl").read_text().splitlines()
    erased = sum(1 for e in events if e.get("erased") is True)
    manifest["counts"] = {"events": len(events), "decrypted": len(keys), "erased": erased}
    (bundle / "manifest.json").write_text(json.dumps(manifest), "utf-8")
    rehash(bundle)
    digest = hashlib.sha256((bundle / "manifest.json").read_bytes()).hexdigest()
    sign_manifest(bundle, digest, signer, manifest["log"]["origin"])


def withhold(
    bundle: Path, seq: int, signer: Ed25519PrivateKey, *, from_chain: bool = False
) -> None:
    """Remove the event at `seq` from every file of the bundle (and, with
    `from_chain`, from the completeness chain), then re-sign."""
    marker = f'"seq":{seq},'
    for name in ("leaves.jsonl", "keys.jsonl", "events.jsonl"):
        edit_lines(bundle / name, lambda rows: _drop(rows, marker))
    edit_lines(bundle / "events.csv", lambda rows: _drop_csv(rows, seq))
    (bundle / "proofs" / f"{seq}.tlog-proof").unlink()
    if from_chain:

        def cut(rows: list[str]) -> None:
            obj = json.loads(rows[0])
            obj["chain"] = [step for step in obj["chain"] if step[0] != seq]
            rows[0] = json.dumps(obj, sort_keys=True, separators=(",", ":"))

        edit_lines(bundle / COMPLETENESS, cut)
    forge(bundle, signer)


def _drop(rows: list[str], marker: str) -> None:
    rows[:] = [row for row in rows if marker not in row]


def _drop_csv(rows: list[str], seq: int) -> None:
    rows[:] = [row for i, row in enumerate(rows) if i == 0 or row.split(",", 1)[0] != str(seq)]


def failures(bundle: Path, count: int = 1) -> str:
    """The verifier's summary of a bundle that must fail `count` checks: a consistent
    forgery fails the completeness check alone."""
    report = verify_bundle(bundle)
    assert report.failure_count == count, summary(report)
    return summary(report)


def test_a_customer_bundle_proves_its_completeness(store: Store) -> None:
    app = store.ledger.app
    alice, bob = app.register("Alice", "13700000001"), app.register("Bob", "13700000002")
    app.rename(alice, "Alice B")
    app.note("about no one")
    app.rename(bob, "Robert")
    app.rename(alice, "Alice C")
    bundle = store.export(alice)
    report = verify_bundle(bundle)
    assert report.ok, summary(report)
    assert chain_of(bundle) == seqs(bundle) and len(seqs(bundle)) == 3
    both = store.export(alice, bob)
    assert verify_bundle(both).ok
    assert len((both / COMPLETENESS).read_text().splitlines()) == 2


def test_an_event_withheld_consistently_is_named(store: Store) -> None:
    app = store.ledger.app
    alice = app.register("Alice", "13700000001")
    for i in range(3):
        app.rename(alice, f"Alice {i}")
    bundle = store.export(alice)
    held = seqs(bundle)
    middle, newest = held[1], held[-1]
    other = bundle.parent / "newest"
    shutil.copytree(bundle, other)

    withhold(bundle, middle, store.signer)
    text = failures(bundle)
    assert f"leaves.jsonl seq {middle}: missing: the customer's chain" in text

    withhold(other, newest, store.signer)
    assert f"leaves.jsonl seq {newest}: missing: the customer's chain" in failures(other)

    # both command-line verifiers say so and exit non-zero
    standalone = subprocess.run(
        [sys.executable, "-m", "ledger_verify", str(bundle)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert standalone.returncode != 0
    assert f"leaves.jsonl seq {middle}: missing" in standalone.stdout + standalone.stderr
    ledger_cli = CliRunner().invoke(main, ["verify-bundle", str(other)])
    assert ledger_cli.exit_code != 0
    assert f"leaves.jsonl seq {newest}: missing" in ledger_cli.output


def test_a_chain_cut_short_misses_the_signed_head(store: Store) -> None:
    app = store.ledger.app
    alice = app.register("Alice", "13700000001")
    app.rename(alice, "Alice B")
    bundle = store.export(alice)
    withhold(bundle, seqs(bundle)[-1], store.signer, from_chain=True)
    assert "does not reach the signed head (2 events" in failures(bundle)


def test_a_map_proof_of_another_subject_or_an_older_size_fails(store: Store) -> None:
    app = store.ledger.app
    alice, bob = app.register("Alice", "13700000001"), app.register("Bob", "13700000002")
    older = store.export(alice)
    app.rename(alice, "Alice B")
    bundle, bobs = store.export(alice), store.export(bob)

    swapped = bundle.parent / "swapped"
    shutil.copytree(bundle, swapped)
    line = json.loads((bobs / COMPLETENESS).read_text())
    line["subject"] = str(alice)
    (swapped / COMPLETENESS).write_text(
        json.dumps(line, sort_keys=True, separators=(",", ":")) + "\n"
    )
    forge(swapped, store.signer)
    assert "the customer's map proof fails" in failures(swapped)

    stale = bundle.parent / "stale"
    shutil.copytree(bundle, stale)
    shutil.copy(older / COMPLETENESS, stale / COMPLETENESS)
    forge(stale, store.signer)
    assert "does not lead to the signed map root" in failures(stale)


def test_a_chain_skipping_an_erased_event_fails(store: Store) -> None:
    app = store.ledger.app
    alice = app.register("Alice", "13700000001")
    app.rename(alice, "Alice B")
    app.rename(alice, "Alice C")
    store.ledger.keystore.shred(alice)
    bundle = store.export(alice)
    assert verify_bundle(bundle).ok
    events = [json.loads(x) for x in (bundle / "events.jsonl").read_text().splitlines()]
    assert all(e.get("erased") is True for e in events) and len(events) == 3
    erased = seqs(bundle)[1]
    named = bundle.parent / "named"
    shutil.copytree(bundle, named)
    withhold(named, erased, store.signer)
    assert f"leaves.jsonl seq {erased}: missing: the customer's chain" in failures(named)
    withhold(bundle, erased, store.signer, from_chain=True)
    assert "does not reach the signed head" in failures(bundle)


def test_random_logs_every_bundle_complete_every_omission_caught(store: Store) -> None:
    rng = random.Random(16)
    app = store.ledger.app
    people = [app.register(f"P{i}", f"137{i:08d}") for i in range(6)]
    for step in range(30):
        if rng.random() < 0.15:
            app.note(f"note {step}")
        else:
            app.rename(rng.choice(people), f"name {step}")
        if rng.random() < 0.2:
            store.ledger.seal()  # the map is updated over several seals
    store.ledger.keystore.shred(people[0])
    for person in people:
        bundle = store.export(person)
        report = verify_bundle(bundle)
        assert report.ok, summary(report)
        held = seqs(bundle)
        assert chain_of(bundle) == held
        if person in people[:2]:  # one erased, one readable: each omission caught
            for seq in held:
                copy = bundle.parent / f"{bundle.name}-without-{seq}"
                shutil.copytree(bundle, copy)
                withhold(copy, seq, store.signer)
                assert f"leaves.jsonl seq {seq}: missing" in failures(copy)
