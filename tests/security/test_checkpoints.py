"""Tests of C2SP signed notes, checkpoints and verifier keys (ledger_verify.checkpoints)."""

from __future__ import annotations

import base64
import hashlib
import shutil
import subprocess
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)
from cryptography.hazmat.primitives.serialization import load_pem_public_key

from ledger_verify.checkpoints import (
    Checkpoint,
    CheckpointError,
    NoteSignature,
    checkpoint_body,
    is_valid_key_name,
    key_id,
    parse_checkpoint,
    parse_note,
    parse_verifier_key,
    public_key_pem,
    sign_checkpoint,
    sign_note,
    verifier_key,
    verify_checkpoint,
    verify_note,
)

pytestmark = pytest.mark.unit

EM_DASH = "\u2014"
ORIGIN = "ledger.example.com/crm"
ROOT = hashlib.sha256(b"some root").digest()

# golang.org/x/mod/sumdb/note documentation example (also C2SP's reference key).
GO_SIGNER_KEY = "PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz"
GO_VERIFIER_KEY = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW"
GO_TEXT = (
    "If you think cryptography is the answer to your problem,\n"
    "then you don't know what your problem is.\n"
)
GO_NOTE = (
    GO_TEXT + "\n" + EM_DASH + " PeterNeumann "
    "x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n"
)


def _key(seed: int) -> Ed25519PrivateKey:
    return Ed25519PrivateKey.from_private_bytes(bytes([seed]) * 32)


LOG_KEY = _key(1)
LOG_PUB = LOG_KEY.public_key()
OTHER_KEY = _key(2)


def _go_private_key() -> Ed25519PrivateKey:
    blob = base64.b64decode(GO_SIGNER_KEY.split("+", 4)[4])
    assert blob[0] == 1
    return Ed25519PrivateKey.from_private_bytes(blob[1:])


def _signed(size: int = 42, root: bytes = ROOT, **kwargs: object) -> str:
    return sign_checkpoint(ORIGIN, size, root, LOG_KEY, **kwargs)  # type: ignore[arg-type]


# --------------------------------------------------------------------------- known answers


def test_go_sumdb_note_known_answer() -> None:
    key = _go_private_key()
    assert sign_note(GO_TEXT, key, "PeterNeumann") == GO_NOTE
    assert verifier_key("PeterNeumann", key.public_key()) == GO_VERIFIER_KEY
    assert key_id("PeterNeumann", key.public_key()).hex() == "c74f20a3"
    name, kid, public = parse_verifier_key(GO_VERIFIER_KEY)
    assert (name, kid.hex()) == ("PeterNeumann", "c74f20a3")
    parsed = verify_note(GO_NOTE, public, "PeterNeumann")
    assert parsed.text == GO_TEXT
    with pytest.raises(CheckpointError, match="bad signature"):
        verify_note(GO_NOTE.replace("cryptography", "cryptographY"), public, "PeterNeumann")


def test_key_id_is_the_c2sp_formula() -> None:
    raw = LOG_PUB.public_bytes_raw()
    expected = hashlib.sha256(ORIGIN.encode() + b"\n\x01" + raw).digest()[:4]
    assert key_id(ORIGIN, LOG_PUB) == expected
    assert key_id(ORIGIN + "x", LOG_PUB) != expected


def test_checkpoint_body_layout() -> None:
    body = checkpoint_body(ORIGIN, 42, ROOT)
    assert body == f"{ORIGIN}\n42\n{base64.b64encode(ROOT).decode()}\n"
    assert checkpoint_body(ORIGIN, 0, ROOT).split("\n")[1] == "0"
    for bad in [("", 1, ROOT), (ORIGIN, -1, ROOT), (ORIGIN, 2**64, ROOT), (ORIGIN, 1, ROOT[:31])]:
        with pytest.raises(CheckpointError):
            checkpoint_body(*bad)
    with pytest.raises(CheckpointError):
        checkpoint_body("two\nlines", 1, ROOT)


# --------------------------------------------------------------------------- round trip


def test_sign_parse_verify_round_trip() -> None:
    note = _signed()
    body, sig_line = note.split("\n\n")
    assert body + "\n" == checkpoint_body(ORIGIN, 42, ROOT)
    assert sig_line.startswith(f"{EM_DASH} {ORIGIN} ")
    assert note.endswith("\n") and note.count("\n") == 5
    blob = base64.b64decode(sig_line.split(" ")[2])
    assert blob[:4] == key_id(ORIGIN, LOG_PUB) and len(blob) == 68
    LOG_PUB.verify(blob[4:], (body + "\n").encode())

    parsed = parse_checkpoint(note)
    checked = verify_checkpoint(note, LOG_PUB, ORIGIN, origin=ORIGIN)
    assert parsed == checked
    assert isinstance(checked, Checkpoint)
    assert (checked.origin, checked.size, checked.root) == (ORIGIN, 42, ROOT)
    assert checked.body == body + "\n" and checked.note == note and checked.extensions == ()
    assert checked.signature_by(ORIGIN, LOG_PUB) == blob[4:]
    assert verify_checkpoint(note.encode(), LOG_PUB, ORIGIN) == checked


def test_explicit_key_name_and_extension_lines() -> None:
    note = _signed(7, key_name="crm-log-key-2026", extensions=["ext one", "two"])
    checkpoint = verify_checkpoint(note, LOG_PUB, "crm-log-key-2026")
    assert checkpoint.extensions == ("ext one", "two")
    assert checkpoint.body.endswith("\next one\ntwo\n")
    with pytest.raises(CheckpointError, match="no signature from key"):
        verify_checkpoint(note, LOG_PUB, ORIGIN)
    with pytest.raises(CheckpointError):
        _signed(extensions=[""])
    with pytest.raises(CheckpointError, match="invalid key name"):
        _signed(key_name="has space")
    with pytest.raises(CheckpointError, match="invalid key name"):
        sign_checkpoint("origin with space", 1, ROOT, LOG_KEY)


def test_size_zero_and_large_sizes_round_trip() -> None:
    for size in (0, 1, 2**63, 2**64 - 1):
        assert verify_checkpoint(_signed(size), LOG_PUB, ORIGIN).size == size


def test_other_signatures_are_ignored_but_needed_one_must_exist() -> None:
    note = _signed()
    witness = NoteSignature(
        "witness.example",
        key_id("witness.example", OTHER_KEY.public_key()),
        OTHER_KEY.sign(checkpoint_body(ORIGIN, 42, ROOT).encode()),
    )
    cosigned = note + witness.line()
    assert verify_checkpoint(cosigned, LOG_PUB, ORIGIN).size == 42
    assert verify_checkpoint(cosigned, OTHER_KEY.public_key(), "witness.example").size == 42
    # A witness line with garbage is not our key's business (C2SP: ignore unknown keys).
    junk = NoteSignature("witness.example", b"\0\0\0\0", b"\0" * 64)
    assert verify_checkpoint(note + junk.line(), LOG_PUB, ORIGIN).size == 42
    only_witness = checkpoint_body(ORIGIN, 42, ROOT) + "\n" + witness.line()
    with pytest.raises(CheckpointError, match="no signature from key"):
        verify_checkpoint(only_witness, LOG_PUB, ORIGIN)


# --------------------------------------------------------------------------- tampering


def _replace_sig(note: str, mutate: object) -> str:
    body, sig_line = note.rstrip("\n").split("\n\n")
    prefix, b64 = sig_line.rsplit(" ", 1)
    blob = bytearray(base64.b64decode(b64))
    mutate(blob)  # type: ignore[operator]
    return f"{body}\n\n{prefix} {base64.b64encode(bytes(blob)).decode()}\n"


def _flip_last_sig_byte(blob: bytearray) -> None:
    blob[-1] ^= 1


def _flip_key_id(blob: bytearray) -> None:
    blob[0] ^= 1


def _truncate_sig(blob: bytearray) -> None:
    del blob[-1]


@pytest.mark.parametrize(
    ("tamper", "reason"),
    [
        (lambda n: n.replace(ORIGIN + "\n", "evil.example/crm\n", 1), "bad signature"),
        (lambda n: n.replace("\n42\n", "\n43\n", 1), "bad signature"),
        (lambda n: n.replace("\n42\n", "\n042\n", 1), "leading zeroes"),
        (
            lambda n: n.replace(
                base64.b64encode(ROOT).decode(),
                base64.b64encode(bytes([ROOT[0] ^ 1]) + ROOT[1:]).decode(),
            ),
            "bad signature",
        ),
        (lambda n: _replace_sig(n, _flip_last_sig_byte), "bad signature"),
        (lambda n: _replace_sig(n, _flip_key_id), "unknown key id"),
        (lambda n: _replace_sig(n, _truncate_sig), "not 64"),
        (lambda n: n.replace(f"{EM_DASH} {ORIGIN} ", f"{EM_DASH} other.example/log "), "no sig"),
        (lambda n: n.replace("\n\n", "\nextension\n\n"), "bad signature"),
    ],
    ids=[
        "origin",
        "size",
        "size-leading-zero",
        "root",
        "signature",
        "key-id",
        "short-signature",
        "key-name",
        "added-extension",
    ],
)
def test_tampered_checkpoints_are_rejected(tamper: object, reason: str) -> None:
    note = _signed()
    tampered = tamper(note)  # type: ignore[operator]
    assert tampered != note
    with pytest.raises(CheckpointError, match=reason):
        verify_checkpoint(tampered, LOG_PUB, ORIGIN)


def test_wrong_key_wrong_name_and_wrong_origin_are_rejected() -> None:
    note = _signed()
    with pytest.raises(CheckpointError, match="no signature from key"):
        verify_checkpoint(note, OTHER_KEY.public_key(), ORIGIN)
    # The right key id under another name is someone else's key as far as C2SP goes.
    renamed = note.replace(f"{EM_DASH} {ORIGIN} ", f"{EM_DASH} renamed.example ")
    with pytest.raises(CheckpointError, match="wrong key name"):
        verify_checkpoint(renamed, LOG_PUB, ORIGIN)
    with pytest.raises(CheckpointError, match="no signature from key"):
        verify_checkpoint(note, LOG_PUB, "renamed.example")
    with pytest.raises(CheckpointError, match="origin"):
        verify_checkpoint(note, LOG_PUB, ORIGIN, origin="another.example/log")


def test_a_second_bad_signature_from_the_trusted_key_rejects_the_note() -> None:
    note = _signed()
    sig_line = note.split("\n\n")[1]
    bad = _replace_sig(note, _flip_last_sig_byte).split("\n\n")[1]
    with pytest.raises(CheckpointError, match="bad signature"):
        verify_checkpoint(note + bad, LOG_PUB, ORIGIN)
    assert verify_checkpoint(note + sig_line, LOG_PUB, ORIGIN).size == 42


# --------------------------------------------------------------------------- malformed notes


GOOD_SIG = _signed().split("\n\n")[1]


def _note(body: str, sigs: str = GOOD_SIG) -> str:
    return body + "\n" + sigs


B64_ROOT = base64.b64encode(ROOT).decode()


@pytest.mark.parametrize(
    "note",
    [
        pytest.param(checkpoint_body(ORIGIN, 42, ROOT), id="no-signatures"),
        pytest.param(checkpoint_body(ORIGIN, 42, ROOT) + "\n", id="blank-but-no-signature"),
        pytest.param(_signed().rstrip("\n"), id="no-final-newline"),
        pytest.param(_signed() + "trailing\n", id="trailing-garbage-line"),
        pytest.param(_signed().replace("\n", "\r\n"), id="crlf"),
        pytest.param(_signed().replace(EM_DASH, "-"), id="hyphen-not-em-dash"),
        pytest.param(_signed().replace(EM_DASH + " ", EM_DASH), id="no-space-after-dash"),
        pytest.param(_signed().replace(" ", "  ", 2), id="double-space"),
        pytest.param(_signed().replace("\n42\n", "\n4\t2\n"), id="control-char"),
        pytest.param(_note(f"{ORIGIN}\n42\n"), id="missing-root"),
        pytest.param(_note(f"\n42\n{B64_ROOT}\n"), id="empty-origin"),
        pytest.param(_note(f"{ORIGIN}\n+42\n{B64_ROOT}\n"), id="plus-size"),
        pytest.param(_note(f"{ORIGIN}\n 42\n{B64_ROOT}\n"), id="space-size"),
        pytest.param(_note(f"{ORIGIN}\n4_2\n{B64_ROOT}\n"), id="underscore-size"),
        pytest.param(_note(f"{ORIGIN}\n\u0664\u0662\n{B64_ROOT}\n"), id="arabic-digits"),
        pytest.param(_note(f"{ORIGIN}\n-1\n{B64_ROOT}\n"), id="negative-size"),
        pytest.param(_note(f"{ORIGIN}\n{2**64}\n{B64_ROOT}\n"), id="size-overflow"),
        pytest.param(_note(f"{ORIGIN}\n42\n{B64_ROOT[:-1]}\n"), id="root-no-padding"),
        pytest.param(
            _note(f"{ORIGIN}\n42\n{base64.b64encode(ROOT[:31]).decode()}\n"), id="root-31"
        ),
        pytest.param(_note(f"{ORIGIN}\n42\n{base64.b64encode(ROOT).hex()}\n"), id="root-hex"),
        pytest.param(_note(f"{ORIGIN}\n42\n{B64_ROOT[:-2]}B=\n"), id="root-noncanonical"),
        pytest.param(_note(f"{ORIGIN}\n42\n{B64_ROOT}\n\next\n"), id="empty-extension"),
        pytest.param(
            _note(checkpoint_body(ORIGIN, 42, ROOT), f"{EM_DASH} a+b AAAAAAA=\n"), id="plus-name"
        ),
        pytest.param(_note(checkpoint_body(ORIGIN, 42, ROOT), f"{EM_DASH} ab AAAA\n"), id="sig-4"),
        pytest.param(_note(checkpoint_body(ORIGIN, 42, ROOT), f"{EM_DASH} ab \n"), id="sig-empty"),
        pytest.param(
            _note(checkpoint_body(ORIGIN, 42, ROOT), f"{EM_DASH}  AAAAAAA=\n"), id="no-name"
        ),
        pytest.param(_signed() + GOOD_SIG * 100, id="too-many-signatures"),
    ],
)
def test_malformed_checkpoints_are_rejected(note: str) -> None:
    with pytest.raises(CheckpointError):
        parse_checkpoint(note)
    with pytest.raises(CheckpointError):
        verify_checkpoint(note, LOG_PUB, ORIGIN)


def test_bytes_input_must_be_utf8() -> None:
    with pytest.raises(CheckpointError, match="UTF-8"):
        parse_checkpoint(_signed().encode() + b"\xff")
    with pytest.raises(CheckpointError, match="UTF-8"):
        parse_note("x\ud800\n\n" + GOOD_SIG)


def test_note_text_may_contain_blank_lines_split_at_the_last_one() -> None:
    text = "first\n\nsecond\n"
    note = sign_note(text, LOG_KEY, "k")
    assert parse_note(note).text == text
    assert verify_note(note, LOG_PUB, "k").signatures[0].name == "k"
    with pytest.raises(CheckpointError):
        sign_note("no newline", LOG_KEY, "k")


def test_key_name_rules() -> None:
    assert is_valid_key_name("example.com/log42")
    for bad in ["", "a b", "a+b", "a\u00a0b", "a\tb", "a\nb"]:
        assert not is_valid_key_name(bad)


# --------------------------------------------------------------------------- keys


def test_verifier_key_round_trip() -> None:
    vkey = verifier_key(ORIGIN, LOG_PUB)
    name, hex_id, b64 = vkey.split("+", 2)
    assert name == ORIGIN and hex_id == key_id(ORIGIN, LOG_PUB).hex()
    assert base64.b64decode(b64) == b"\x01" + LOG_PUB.public_bytes_raw()
    parsed_name, kid, public = parse_verifier_key(vkey)
    assert parsed_name == ORIGIN and kid == key_id(ORIGIN, LOG_PUB)
    assert public.public_bytes_raw() == LOG_PUB.public_bytes_raw()
    assert parse_verifier_key(vkey + "\n")[1] == kid
    assert verify_checkpoint(_signed(), public, parsed_name).size == 42


@pytest.mark.parametrize(
    "vkey",
    [
        "",
        "PeterNeumann",
        "PeterNeumann+c74f20a3",
        "PeterNeumann+c74f20a4+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",  # wrong id
        "PeterNeumann+c74f20a+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",  # 7 hex
        "PeterNeumanm+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",  # other name
        "PeterNeumann+c74f20a3+Apc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",  # broken b64
        "PeterNeumann+c74f20a3+Ahpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",  # alg 0x02
        "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10T",  # no padding
        "Peter Neumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",
        GO_VERIFIER_KEY + "\n\n",
    ],
)
def test_malformed_verifier_keys_are_rejected(vkey: str) -> None:
    with pytest.raises(CheckpointError):
        parse_verifier_key(vkey)


def test_public_key_pem_is_spki() -> None:
    pem = public_key_pem(LOG_PUB)
    assert pem.startswith(b"-----BEGIN PUBLIC KEY-----\n")
    loaded = load_pem_public_key(pem)
    assert isinstance(loaded, Ed25519PublicKey)
    assert loaded.public_bytes_raw() == LOG_PUB.public_bytes_raw()


# --------------------------------------------------------------------------- openssl


def _openssl_verify(
    tmp_path: Path, body: bytes, signature: bytes
) -> subprocess.CompletedProcess[str]:
    (tmp_path / "log.pub").write_bytes(public_key_pem(LOG_PUB))
    (tmp_path / "body").write_bytes(body)
    (tmp_path / "sig").write_bytes(signature)
    return subprocess.run(
        [
            "openssl",
            "pkeyutl",
            "-verify",
            "-pubin",
            "-inkey",
            "log.pub",
            "-rawin",
            "-in",
            "body",
            "-sigfile",
            "sig",
        ],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )


@pytest.mark.skipif(shutil.which("openssl") is None, reason="openssl CLI not installed")
def test_openssl_verifies_the_checkpoint_signature(tmp_path: Path) -> None:
    checkpoint = verify_checkpoint(_signed(), LOG_PUB, ORIGIN)
    signature = checkpoint.signature_by(ORIGIN, LOG_PUB)
    body = checkpoint.body.encode("utf-8")

    ok = _openssl_verify(tmp_path, body, signature)
    assert ok.returncode == 0, ok.stderr
    assert "Signature Verified Successfully" in ok.stdout

    tampered = _openssl_verify(tmp_path, body.replace(b"\n42\n", b"\n43\n"), signature)
    assert tampered.returncode != 0
    assert "Signature Verified Successfully" not in tampered.stdout
