"""Tampering with any file of a bundle makes the offline verifier fail and name it.

Each change is tried twice: as is (the manifest's SHA-256 names the file) and with
manifest.json rewritten to match (the cryptographic and rendering checks must still
name the file and seq). The bundle is built once on a temporary SQLite store.
"""

from __future__ import annotations

import base64
import hashlib
import io
import json
import shutil
import tarfile
from collections.abc import Callable
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from ledger_verify.bundle.signature import sign_manifest
from ledger_verify.bundle.verify import csv_cells, parse_manifest, summary, verify_bundle
from ledger_verify.checkpoints import (
    parse_checkpoint,
    public_key_pem,
    sign_checkpoint,
    verifier_key,
)
from security.bootstrap import Settings, build_ledger
from security.export.exporter import ExportActor, ExportScope, export_bundle
from tests.support.sample import SampleApp

pytestmark = pytest.mark.unit


@pytest.fixture(scope="module")
def pristine(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A whole-log bundle: 9 events, 2 of them erased."""
    base = tmp_path_factory.mktemp("bundle")
    ledger = build_ledger(Settings(data_dir=base / "store"), app_class=SampleApp)
    try:
        people = [ledger.app.register(f"Person {i}", f"1370000{i:04d}", f"P{i}") for i in range(5)]
        ledger.app.rename(people[0], "=cmd|' /C calc'!A0")  # a CSV formula, kept inert
        ledger.app.rename(people[3], "Renamed")
        ledger.app.note("about no one")
        ledger.app.rename(people[1], "Someone")
        ledger.keystore.shred(people[3])
        scope = ExportScope(everything=True)
        export_bundle(ledger, base / "out", scope, ExportActor("officer-1"))
    finally:
        ledger.close()
    assert verify_bundle(base / "out").ok
    return base / "out"


@pytest.fixture
def bundle(pristine: Path, tmp_path: Path) -> Path:
    copy = tmp_path / "bundle"
    shutil.copytree(pristine, copy)
    return copy


def rehash(bundle: Path, add: tuple[str, ...] = ()) -> None:
    """Rewrite manifest.json so its hashes match the files as they now are."""
    manifest = json.loads((bundle / "manifest.json").read_text("utf-8"))
    files = manifest["files"]
    for name in [*files, *add]:
        path = bundle / name
        if path.is_file():
            files[name] = hashlib.sha256(path.read_bytes()).hexdigest()
        else:
            files.pop(name, None)
    (bundle / "manifest.json").write_text(json.dumps(manifest, indent=1), "utf-8")


def edit_lines(path: Path, change: Callable[[list[str]], None]) -> None:
    text = path.read_bytes().decode("utf-8")
    end = "\r\n" if path.suffix == ".csv" else "\n"  # RFC 4180 rows; everything else "\n"
    rows = text.split(end)[:-1]
    change(rows)
    path.write_bytes("".join(row + end for row in rows).encode("utf-8"))


def edit_json_line(path: Path, index: int, change: Callable[[dict[str, object]], None]) -> None:
    def apply(rows: list[str]) -> None:
        obj = json.loads(rows[index])
        change(obj)
        if path.name == "leaves.jsonl":
            rows[index] = json.dumps(obj, sort_keys=True, separators=(",", ":"))
        else:
            rows[index] = json.dumps(obj, ensure_ascii=False, separators=(",", ":"))

    edit_lines(path, apply)


def flip_ciphertext(leaf: dict[str, object]) -> None:
    text = str(leaf["ciphertext"])
    leaf["ciphertext"] = ("B" if text[5] == "A" else "A").join((text[:5], text[6:]))


def key_seq(bundle: Path, index: int) -> int:
    lines = (bundle / "keys.jsonl").read_text().splitlines()
    return int(json.loads(lines[index])["seq"])


def tamper_leaf(b: Path) -> None:
    edit_json_line(b / "leaves.jsonl", 1, flip_ciphertext)


def tamper_proof(b: Path) -> None:
    def change(rows: list[str]) -> None:
        raw = bytearray(base64.b64decode(rows[2]))
        raw[0] ^= 1
        rows[2] = base64.b64encode(bytes(raw)).decode()

    edit_lines(b / "proofs" / "2.tlog-proof", change)


def tamper_checkpoint(b: Path) -> None:
    text = (b / "checkpoint").read_text("utf-8").split("\n")
    text[1] = str(int(text[1]) + 1)
    (b / "checkpoint").write_text("\n".join(text), "utf-8")


def tamper_key(b: Path) -> None:
    other = base64.b64encode(bytes(range(32))).decode()
    edit_json_line(b / "keys.jsonl", 0, lambda obj: obj.update(key=other))


def tamper_event_field(b: Path) -> None:
    edit_json_line(b / "events.jsonl", 4, lambda obj: obj["fields"].update(name="Mallory"))  # type: ignore[attr-defined]


def tamper_event_actor(b: Path) -> None:
    edit_json_line(b / "events.jsonl", 0, lambda obj: obj.update(actor="someone else"))


def tamper_csv(b: Path) -> None:
    def change(rows: list[str]) -> None:
        rows[3] = rows[3].replace("Person 2", "Person X")

    edit_lines(b / "events.csv", change)


def drop_line(name: str, index: int) -> Callable[[Path], None]:
    def mutate(b: Path) -> None:
        edit_lines(b / name, lambda rows: rows.pop(index))

    return mutate


def swap_leaves(b: Path) -> None:
    def change(rows: list[str]) -> None:
        rows[1], rows[2] = rows[2], rows[1]

    edit_lines(b / "leaves.jsonl", change)


def extra_file(b: Path) -> None:
    (b / "notes.txt").write_text("not part of the bundle")


def extra_proof(b: Path) -> None:
    shutil.copy(b / "proofs" / "1.tlog-proof", b / "proofs" / "99.tlog-proof")


def missing_proof(b: Path) -> None:
    (b / "proofs" / "3.tlog-proof").unlink()


def other_public_key(b: Path) -> None:
    (b / "log.pub").write_bytes(public_key_pem(Ed25519PrivateKey.generate().public_key()))


CASES = {
    # name: (mutation, text a plain change must show, text a rehashed change must show)
    "a byte of a leaf": (tamper_leaf, "leaves.jsonl: its SHA-256", "seq 1: the key does not"),
    "a proof hash": (tamper_proof, "proofs/2.tlog-proof seq 2", "proofs/2.tlog-proof seq 2"),
    "the checkpoint": (tamper_checkpoint, "checkpoint: its SHA-256", "checkpoint: bad signature"),
    "a key": (tamper_key, "keys.jsonl: its SHA-256", "keys.jsonl seq 0: the key does not"),
    "an events.jsonl field": (tamper_event_field, "events.jsonl", "events.jsonl seq 4"),
    "an events.jsonl actor": (tamper_event_actor, "events.jsonl", "in actor"),
    "an events.csv cell": (tamper_csv, "events.csv", "events.csv seq 2"),
    "a missing leaf line": (drop_line("leaves.jsonl", 2), "leaves.jsonl", "leaves.jsonl seq 2"),
    "a missing key line": (drop_line("keys.jsonl", 1), "keys.jsonl", "keys.jsonl seq 1"),
    "a missing events line": (drop_line("events.jsonl", 5), "events.jsonl", "events.jsonl seq 5"),
    "a missing csv row": (drop_line("events.csv", 6), "events.csv", "events.csv seq 5"),
    "reordered leaves": (swap_leaves, "leaves.jsonl", "out of seq order"),
    "an extra file": (extra_file, "notes.txt: is not listed", "unexpected file 'notes.txt'"),
    "an extra proof": (extra_proof, "proofs/99.tlog-proof", "proofs/99.tlog-proof seq 99"),
    "a missing proof": (missing_proof, "proofs/3.tlog-proof seq 3", "proofs/3.tlog-proof seq 3"),
    "another public key": (other_public_key, "log.pub", "log.vkey: is not the same key"),
}


@pytest.mark.parametrize("rehashed", [False, True], ids=["plain", "manifest-rewritten"])
@pytest.mark.parametrize("case", list(CASES))
def test_tampering_is_detected_and_named(bundle: Path, case: str, rehashed: bool) -> None:
    mutate, plain_text, rehashed_text = CASES[case]
    mutate(bundle)
    if rehashed:
        rehash(bundle, add=("notes.txt", "proofs/99.tlog-proof"))
    report = verify_bundle(bundle)
    assert not report.ok
    text = summary(report)
    assert (rehashed_text if rehashed else plain_text) in text, text
    if case == "a byte of a leaf":
        assert "proofs/1.tlog-proof seq 1: the inclusion proof does not reach" in text
        assert "the leaf in leaves.jsonl was altered" in text
    # failure messages name files and seqs, never decrypted personal data
    assert "Person" not in text and "1370000" not in text


def test_the_pristine_bundle_verifies_and_keeps_csv_formulas_inert(bundle: Path) -> None:
    report = verify_bundle(bundle)
    assert report.ok, summary(report)
    assert (report.events, report.decrypted, report.erased) == (9, 7, 2)
    record = json.loads((bundle / "events.jsonl").read_text("utf-8").splitlines()[5])
    assert record["fields"] == {"name": "=cmd|' /C calc'!A0"}  # inside a JSON cell: inert
    record.update(reason="=HYPERLINK(1)", actor="+1", role="-1", channel="@x")
    assert csv_cells(record)[4:8] == ["'+1", "'-1", "'@x", "'=HYPERLINK(1)"]


def test_an_erased_event_with_a_forged_key_line_is_named(bundle: Path) -> None:
    events = [json.loads(line) for line in (bundle / "events.jsonl").read_text().splitlines()]
    erased = next(e["seq"] for e in events if e["erased"])
    key = base64.b64encode(bytes(32)).decode()

    def add(rows: list[str]) -> None:
        rows.append(json.dumps({"seq": erased, "key": key}))
        rows.sort(key=lambda row: json.loads(row)["seq"])

    edit_lines(bundle / "keys.jsonl", add)
    rehash(bundle)
    assert f"keys.jsonl seq {erased}" in summary(verify_bundle(bundle))


def resign(bundle: Path, signer: Ed25519PrivateKey) -> None:
    """A forger's consistent bundle: the same tree re-signed with another key."""
    old = parse_checkpoint((bundle / "checkpoint").read_text("utf-8"))
    note = sign_checkpoint(old.origin, old.size, old.root, signer)
    (bundle / "checkpoint").write_text(note, "utf-8")
    (bundle / "log.pub").write_bytes(public_key_pem(signer.public_key()))
    (bundle / "log.vkey").write_text(verifier_key(old.origin, signer.public_key()) + "\n")
    for proof in (bundle / "proofs").iterdir():
        head = proof.read_text("utf-8").split("\n\n", 1)[0]
        proof.write_text(head + "\n\n" + note, "utf-8")
    manifest = json.loads((bundle / "manifest.json").read_text("utf-8"))
    manifest["log"]["key_id"] = verifier_key(old.origin, signer.public_key()).split("+")[1]
    (bundle / "manifest.json").write_text(json.dumps(manifest), "utf-8")
    rehash(bundle)
    digest = hashlib.sha256((bundle / "manifest.json").read_bytes()).hexdigest()
    sign_manifest(bundle, digest, signer, old.origin)


def test_a_re_signed_bundle_fails_against_the_trusted_key(bundle: Path) -> None:
    trusted = (bundle / "log.vkey").read_text("utf-8")
    resign(bundle, Ed25519PrivateKey.generate())
    assert verify_bundle(bundle).ok  # self-consistent: only the trusted key tells
    report = verify_bundle(bundle, trusted_vkey=trusted)
    assert not report.ok
    assert "log.vkey: is not the trusted key" in summary(report)
    assert "checkpoint: note has no signature from key" in summary(report)
    with pytest.raises(ValueError, match="trusted verifier key"):
        verify_bundle(bundle, trusted_vkey="not a key")


def test_a_tarball_with_an_escaping_path_is_refused(pristine: Path, tmp_path: Path) -> None:
    evil = tmp_path / "evil.tar.gz"
    with tarfile.open(evil, "w:gz") as tar:
        tar.add(pristine, arcname="bundle")
        data = b"owned"
        info = tarfile.TarInfo("../escaped.txt")
        info.size = len(data)
        tar.addfile(info, io.BytesIO(data))
    report = verify_bundle(evil)
    assert not report.ok and "cannot be unpacked safely" in summary(report)
    assert not (tmp_path.parent / "escaped.txt").exists()


def test_a_whole_log_bundle_missing_an_event_everywhere_is_named(bundle: Path) -> None:
    # withhold seq 4 consistently from every file: only the whole-log scope reveals it
    for name in ("leaves.jsonl", "events.jsonl"):
        edit_lines(bundle / name, lambda rows: rows.pop(4))
    edit_lines(bundle / "events.csv", lambda rows: rows.pop(5))
    edit_lines(
        bundle / "keys.jsonl", lambda rows: rows.remove(next(r for r in rows if '"seq":4,' in r))
    )
    (bundle / "proofs" / "4.tlog-proof").unlink()
    manifest = json.loads((bundle / "manifest.json").read_text("utf-8"))
    manifest["counts"] = {"events": 8, "decrypted": 6, "erased": 2}
    (bundle / "manifest.json").write_text(json.dumps(manifest), "utf-8")
    rehash(bundle)
    text = summary(verify_bundle(bundle))
    assert "the scope is the whole log, yet it holds 8 of the checkpoint's 9 events" in text


class Trickle(io.StringIO):
    """Hands out one character per read, to cross every chunk boundary."""

    def read(self, size: int | None = -1) -> str:
        return super().read(1)


@pytest.mark.parametrize("indent", [None, 0, 3])
def test_the_streaming_manifest_parser_agrees_with_json(pristine: Path, indent: int | None) -> None:
    manifest = json.loads((pristine / "manifest.json").read_text("utf-8"))
    manifest["counts"]["events"] = 12345678901234567890  # a number cut by every boundary
    text = json.dumps(manifest, indent=indent)
    files: dict[str, str] = {}
    header = parse_manifest(Trickle(text), files.__setitem__)
    assert files == manifest.pop("files")
    assert header == manifest
    for bad in (
        '{"a": 1}',
        '{"files": {}} x',
        '{"files": {}, "files": {}}',
        '{"a": NaN, "files": {}}',
    ):
        with pytest.raises(ValueError):
            parse_manifest(Trickle(bad), files.__setitem__)


def test_a_rewritten_manifest_without_the_log_key_is_named(bundle: Path) -> None:
    """Dropping an event, narrowing the scope and recomputing every hash is not enough:
    the manifest is signed by the log key."""
    for name in ("leaves.jsonl", "events.jsonl"):
        edit_lines(bundle / name, lambda rows: rows.pop(4))
    edit_lines(bundle / "events.csv", lambda rows: rows.pop(5))
    edit_lines(
        bundle / "keys.jsonl", lambda rows: rows.remove(next(r for r in rows if '"seq":4,' in r))
    )
    (bundle / "proofs" / "4.tlog-proof").unlink()
    manifest = json.loads((bundle / "manifest.json").read_text("utf-8"))
    manifest["scope"] = {"all": False, "customers": [], "since": None, "until": None}
    manifest["counts"] = {"events": 8, "decrypted": 6, "erased": 2}
    (bundle / "manifest.json").write_text(json.dumps(manifest), "utf-8")
    rehash(bundle)
    text = summary(verify_bundle(bundle))
    assert "manifest.json: differs from the one the log key signed" in text


def test_a_bundle_without_its_manifest_signature_fails(bundle: Path) -> None:
    (bundle / "manifest.sig").unlink()
    text = summary(verify_bundle(bundle))
    assert "manifest.sig: missing: the manifest is not signed" in text


def test_a_proof_with_extra_data_and_no_index_is_a_failure_not_a_crash(bundle: Path) -> None:
    path = bundle / "proofs" / "0.tlog-proof"
    tail = path.read_text("utf-8").split("\n\n", 1)[1]
    path.write_text("c2sp.org/tlog-proof@v1\nextra AAAA\n\n" + tail, "utf-8")
    report = verify_bundle(bundle)
    assert not report.ok and "proofs/0.tlog-proof" in summary(report)
