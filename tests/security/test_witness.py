"""The witness (`ledger witness`) and the ledger submitting to it: a real witness
server on a free port with its own folder; checkpoints get cosigned, forks and
rollbacks are refused, a witness that is down never stops sealing, and a bundle
short of its witness quorum does not verify."""

from __future__ import annotations

import dataclasses
import hashlib
import subprocess
import sys
import threading
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from ledger_verify.checkpoints import sign_checkpoint, verifier_key
from ledger_verify.cli import main as ledger_verify
from ledger_verify.cosignature import cosigner_vkey, parse_cosigner_vkey, verify_cosignatures
from ledger_verify.merkle import MerkleTree, leaf_hash
from security.bootstrap import Ledger, Settings, build_ledger
from security.errors import ConfigurationError
from security.export.exporter import ExportActor, ExportScope, export_bundle
from security.witness.client import WitnessRefused, parse_witnesses, post_checkpoint
from security.witness.server import WitnessServer, add_checkpoint
from security.witness.state import WitnessState, WitnessStateError, create_key
from tests.support.sample import SampleApp
from web.cli import main

pytestmark = pytest.mark.integration

ORIGIN = "example.com/log"


@dataclasses.dataclass
class Witness:
    directory: Path
    vkey: str
    url: str
    server: WitnessServer


def start_witness(directory: Path, name: str = "witness.test/w1") -> Witness:
    vkey = create_key(directory, name)
    server = WitnessServer(WitnessState(directory), "127.0.0.1", 0)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return Witness(directory, vkey, f"http://127.0.0.1:{server.server_port}", server)


@pytest.fixture
def witness(tmp_path: Path) -> Iterator[Witness]:
    started = start_witness(tmp_path / "witness")
    yield started
    started.server.shutdown()
    started.server.server_close()


def leaves(n: int, tag: str = "") -> list[bytes]:
    return [leaf_hash(f"{tag}{i}".encode()) for i in range(n)]


@pytest.fixture
def log_key() -> Ed25519PrivateKey:
    return Ed25519PrivateKey.generate()


def checkpoint(key: Ed25519PrivateKey, tree: MerkleTree, size: int) -> str:
    return sign_checkpoint(ORIGIN, size, tree.root(size), key)


def test_the_witness_cosigns_extensions_and_refuses_forks_and_rollbacks(
    witness: Witness, log_key: Ed25519PrivateKey
) -> None:
    state = WitnessState(witness.directory)
    state.add_log(verifier_key(ORIGIN, log_key.public_key()))
    url = witness.url + "/add-checkpoint"
    tree = MerkleTree(leaves(10))
    cosigner = parse_cosigner_vkey(witness.vkey)

    line = post_checkpoint(url, 0, [], checkpoint(log_key, tree, 4))
    [valid] = verify_cosignatures(checkpoint(log_key, tree, 4) + line, [cosigner])
    assert valid.cosigner == cosigner
    cp10 = checkpoint(log_key, tree, 10)
    line = post_checkpoint(url, 4, tree.consistency_proof(4, 10), cp10)
    assert verify_cosignatures(cp10 + line, [cosigner])
    assert state.logs()[0].size == 10

    fork = MerkleTree(leaves(12, "fork"))
    with pytest.raises(WitnessRefused) as refused:  # old size no longer current
        post_checkpoint(url, 4, fork.consistency_proof(4, 12), checkpoint(log_key, fork, 12))
    assert (refused.value.status, refused.value.body) == (409, "10\n")
    with pytest.raises(WitnessRefused) as refused:  # a larger, inconsistent tree
        post_checkpoint(url, 10, fork.consistency_proof(10, 12), checkpoint(log_key, fork, 12))
    assert refused.value.status == 422
    with pytest.raises(WitnessRefused) as refused:  # same size, another root
        post_checkpoint(url, 10, [], checkpoint(log_key, fork, 10))
    assert refused.value.status == 422
    with pytest.raises(WitnessRefused) as refused:  # rolled back to 8
        post_checkpoint(url, 4, tree.consistency_proof(4, 8), checkpoint(log_key, tree, 8))
    assert (refused.value.status, refused.value.body) == (409, "10\n")
    with pytest.raises(WitnessRefused) as refused:
        post_checkpoint(url, 10, [], checkpoint(log_key, tree, 8))
    assert refused.value.status == 400
    assert state.logs()[0].size == 10  # nothing refused changed the state

    stranger = Ed25519PrivateKey.generate()
    with pytest.raises(WitnessRefused) as refused:
        post_checkpoint(url, 10, [], checkpoint(stranger, tree, 10))
    assert refused.value.status == 403
    other = sign_checkpoint("other.example/log", 1, tree.root(1), log_key)
    with pytest.raises(WitnessRefused) as refused:
        post_checkpoint(url, 0, [], other)
    assert refused.value.status == 404
    assert add_checkpoint(state, b"garbage").status == 400
    assert add_checkpoint(state, b"old 0\nAAAA\n\n" + cp10.encode()).status == 400

    origin_hash = hashlib.sha256(ORIGIN.encode()).hexdigest()
    with urllib.request.urlopen(f"{witness.url}/{origin_hash}/checkpoint") as response:  # noqa: S310
        latest = response.read().decode()
    assert latest.startswith(cp10) and verify_cosignatures(latest, [cosigner])


def test_the_witness_refuses_another_body_at_its_latest_size(
    witness: Witness, log_key: Ed25519PrivateKey
) -> None:
    """C2SP tlog-witness: the same size must be the same checkpoint. A second note at
    the latest cosigned size with the same log root but another extension line (a
    second subject-map root) is a fork, not something to cosign."""
    state = WitnessState(witness.directory)
    state.add_log(verifier_key(ORIGIN, log_key.public_key()))
    url = witness.url + "/add-checkpoint"
    tree = MerkleTree(leaves(6))
    root = tree.root(6)
    honest = sign_checkpoint(
        ORIGIN, 6, root, log_key, extensions=["crm-ledger/subject-map/v1 AAAA BBBB"]
    )
    forged = sign_checkpoint(
        ORIGIN, 6, root, log_key, extensions=["crm-ledger/subject-map/v1 AAAA CCCC"]
    )
    bare = sign_checkpoint(ORIGIN, 6, root, log_key)
    post_checkpoint(url, 0, [], honest)
    post_checkpoint(url, 6, [], honest)  # the same checkpoint again: cosigned again
    for other in (forged, bare):
        with pytest.raises(WitnessRefused) as refused:
            post_checkpoint(url, 6, [], other)
        assert refused.value.status == 422
        assert "a fork" in refused.value.body
    assert state.logs()[0].note.startswith(honest)  # nothing refused changed the state


def test_witness_state_files(tmp_path: Path) -> None:
    with pytest.raises(WitnessStateError):
        WitnessState(tmp_path)
    create_key(tmp_path)
    with pytest.raises(WitnessStateError):
        create_key(tmp_path)
    assert (tmp_path / "witness.key").stat().st_mode & 0o777 == 0o600


def test_ledger_witnesses_setting() -> None:
    with pytest.raises(ConfigurationError):
        parse_witnesses("w.test/a+00000000+AA== http://x")
    with pytest.raises(ConfigurationError):
        parse_witnesses("only-one-part")
    key = Ed25519PrivateKey.generate()
    vkey = cosigner_vkey("w.test/a", key.public_key())
    [one, two] = parse_witnesses(f" {vkey} http://a:1 ; {vkey} https://b/w ;")
    assert (one.url, two.add_checkpoint_url) == ("http://a:1", "https://b/w/add-checkpoint")
    assert Settings.from_env({"LEDGER_WITNESSES": f"{vkey} http://a:1"}).witnesses == (one,)


def ledger_with(tmp_path: Path, witnesses: str) -> Ledger:
    config = Settings(data_dir=tmp_path / "ledger", witnesses=parse_witnesses(witnesses))
    return build_ledger(config, app_class=SampleApp)


def test_the_ledger_gets_its_checkpoints_cosigned_and_exports_them(
    witness: Witness, tmp_path: Path
) -> None:
    ledger = ledger_with(tmp_path, f"{witness.vkey} {witness.url}")
    try:
        log_vkey = verifier_key(ledger.sealed_log.origin, ledger.sealed_log.public_key)
        result = CliRunner().invoke(
            main, ["witness", "add-log", "--dir", str(witness.directory), "--vkey", log_vkey]
        )
        assert result.exit_code == 0, result.output
        cosigner = parse_cosigner_vkey(witness.vkey)
        for round_ in range(3):
            for i in range(3):
                ledger.app.register(f"P{round_}{i}", "13900000000", f"ID{round_}{i}")
            sealed = ledger.seal()
            assert sealed is not None
            assert ledger.witnesses is not None
            ledger.witnesses.drain()
            note = ledger.cosigned_note(sealed)
            assert verify_cosignatures(note, [cosigner]), f"round {round_} not cosigned"
        assert WitnessState(witness.directory).logs()[0].size == sealed.size

        actor = ExportActor("test", "compliance_officer", "cli", None)
        bundle = tmp_path / "bundle"
        export_bundle(ledger, bundle, ExportScope((), None, None, True), actor)
    finally:
        ledger.close()
    assert verify_cosignatures((bundle / "checkpoint").read_text(), [cosigner])
    other = create_key(tmp_path / "other", "witness.test/w2")
    runner = CliRunner()
    ok = runner.invoke(main, ["verify-bundle", str(bundle), "--witness-vkey", witness.vkey])
    assert ok.exit_code == 0, ok.output
    assert "cosigned by 1 trusted witness" in ok.output
    short = runner.invoke(
        main,
        ["verify-bundle", str(bundle), "--witness-vkey", witness.vkey, "--witness-vkey", other],
    )
    assert short.exit_code == 1
    assert "the quorum is 2" in short.output
    one_of_two = runner.invoke(
        main,
        [
            "verify-bundle",
            str(bundle),
            "--witness-vkey",
            witness.vkey,
            "--witness-vkey",
            other,
            "--witness-quorum",
            "1",
        ],
    )
    assert one_of_two.exit_code == 0, one_of_two.output
    too_many = runner.invoke(
        main, ["verify-bundle", str(bundle), "--witness-vkey", other, "--witness-quorum", "2"]
    )
    assert too_many.exit_code == 2

    vkey_file = tmp_path / "w2.vkey"
    vkey_file.write_text(other + "\n")
    assert ledger_verify([str(bundle), "--witness-vkey", witness.vkey]) == 0
    assert ledger_verify([str(bundle), "--witness-vkey", str(vkey_file)]) == 1


def test_a_witness_that_is_down_never_stops_sealing(tmp_path: Path) -> None:
    down = start_witness(tmp_path / "down")
    url = down.url
    down.server.server_close()  # nothing listens on that port any more
    ledger = ledger_with(tmp_path, f"{down.vkey} {url}")
    try:
        ledger.app.register("Ann", "13900000001", "ID-ANN")
        first = ledger.seal()
        assert ledger.witnesses is not None
        ledger.witnesses.drain()
        ledger.app.register("Bob", "13900000002", "ID-BOB")
        second = ledger.seal()
        assert first is not None and second is not None and second.size > first.size
        assert ledger.cosigned_note(second) == second.note
        assert ledger.witnesses.submit(second.size, second.note) == 0
    finally:
        ledger.close()


def test_the_witness_cli(tmp_path: Path) -> None:
    runner = CliRunner()
    made = runner.invoke(main, ["witness", "key", "--dir", str(tmp_path), "--name", "w.test/x"])
    assert made.exit_code == 0 and made.output.startswith("w.test/x+")
    again = runner.invoke(main, ["witness", "key", "--dir", str(tmp_path)])
    assert again.exit_code == 2
    bad = runner.invoke(main, ["witness", "add-log", "--dir", str(tmp_path), "--vkey", "x"])
    assert bad.exit_code == 2
    nokey = runner.invoke(main, ["witness", "serve", "--dir", str(tmp_path / "none")])
    assert nokey.exit_code == 2


def test_ledger_witness_serve_runs_as_its_own_process(tmp_path: Path) -> None:
    vkey = create_key(tmp_path, "w.test/proc")
    ledger_bin = Path(sys.executable).with_name("ledger")
    process = subprocess.Popen(
        [str(ledger_bin), "witness", "serve", "--dir", str(tmp_path), "--port", "0"],
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stderr is not None
        banner = process.stderr.readline()
        assert vkey in banner, banner
        url = banner.rsplit(" ", 1)[1].strip()
        with pytest.raises(WitnessRefused) as refused:
            post_checkpoint(url + "/add-checkpoint", 0, [], "not a checkpoint\n")
        assert refused.value.status == 400
    finally:
        process.terminate()
        process.wait(timeout=10)


def test_the_access_log_is_witnessed_too(witness: Witness, tmp_path: Path) -> None:
    ledger = ledger_with(tmp_path, f"{witness.vkey} {witness.url}")
    try:
        for sealed_log in (ledger.sealed_log, ledger.access_sealed):
            vkey = verifier_key(sealed_log.origin, sealed_log.public_key)
            added = CliRunner().invoke(
                main, ["witness", "add-log", "--dir", str(witness.directory), "--vkey", vkey]
            )
            assert added.exit_code == 0, added.output
        subject = ledger.app.register("P", "13900000000", "ID1")
        ledger.access_log.record(
            actor_id="co-1",
            role="compliance_officer",
            purpose="compliance_audit",
            subject_id=str(subject),
            what="profile",
        )
        assert ledger.seal() is not None
        access = ledger.access_sealed.seal()
        assert access is not None
        assert ledger.access_witnesses is not None
        ledger.access_witnesses.drain()
        assert ledger.cosignatures is not None
        note = ledger.cosignatures.cosigned(ledger.access_sealed.origin, access.size, access.note)
    finally:
        ledger.close()
    assert verify_cosignatures(note, [parse_cosigner_vkey(witness.vkey)])
    origins = {log.origin for log in WitnessState(witness.directory).logs()}
    assert ledger.access_sealed.origin in origins
