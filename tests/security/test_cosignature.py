"""C2SP tlog-cosignature v1 (Ed25519): format cross-checked with the spec's example,
a known answer from the RFC 8032 key, and the verifier's refusals."""

from __future__ import annotations

import base64
import hashlib

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from ledger_verify.checkpoints import CheckpointError, parse_note, sign_checkpoint
from ledger_verify.cosignature import (
    append_signature_lines,
    cosign,
    cosignature_key_id,
    cosigned_message,
    cosigner_vkey,
    parse_cosigner_vkey,
    verify_cosignature,
    verify_cosignatures,
)

pytestmark = pytest.mark.unit

# c2sp.org/tlog-cosignature, "Ed25519 signed message" and the example note
SPEC_BODY = "example.com/behind-the-sofa\n20852163\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n"
SPEC_MESSAGE = "cosignature/v1\ntime 1679315147\n" + SPEC_BODY
SPEC_LINE = (
    "\u2014 witness.example.com/w1 jWbPPwAAAABkGFDLEZMHwSRaJNiIDoe9DYn/zXcrtPHeolMI5OWXEhZCB9"
    "dlrDJsX3b2oyin1nPZqhf5nNo0xUe+mbIUBkBIfZ+qnA==\n"
)
# RFC 8032 section 7.1, TEST 1
RFC8032_SEED = bytes.fromhex("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60")
RFC8032_PUBLIC = "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a"
KEY = Ed25519PrivateKey.from_private_bytes(RFC8032_SEED)
NAME = "witness.example.com/w1"


def test_the_signed_message_is_the_spec_s() -> None:
    assert cosigned_message(SPEC_BODY, 1679315147) == SPEC_MESSAGE.encode()


def test_the_spec_example_line_parses_as_key_id_timestamp_and_signature() -> None:
    sig = parse_note(SPEC_BODY + "\n" + SPEC_LINE).signatures[0]
    assert sig.name == NAME
    assert len(sig.key_id) == 4 and len(sig.signature) == 8 + 64
    assert int.from_bytes(sig.signature[:8], "big") == 1679315147


def test_key_id_is_sha256_of_name_newline_0x04_and_key() -> None:
    public = KEY.public_key()
    assert public.public_bytes_raw().hex() == RFC8032_PUBLIC
    expected = hashlib.sha256(NAME.encode() + b"\n\x04" + public.public_bytes_raw()).digest()[:4]
    assert cosignature_key_id(NAME, public) == expected


def test_known_answer_with_the_rfc8032_key() -> None:
    line = cosign(SPEC_BODY, KEY, NAME, timestamp=1679315147)
    blob = base64.b64decode(line.split(" ")[2])
    # Ed25519 is deterministic: the signature over the spec's message is fixed
    assert blob[:4] == cosignature_key_id(NAME, KEY.public_key())
    assert blob[4:12] == (1679315147).to_bytes(8, "big")
    KEY.public_key().verify(blob[12:], SPEC_MESSAGE.encode())
    assert blob[12:] == KEY.sign(SPEC_MESSAGE.encode())
    assert line.startswith(f"\u2014 {NAME} ") and line.endswith("\n")


def test_vkey_round_trip_and_refusals() -> None:
    vkey = cosigner_vkey(NAME, KEY.public_key())
    name, hex_id, b64 = vkey.split("+", 2)
    assert base64.b64decode(b64)[0] == 0x04
    cosigner = parse_cosigner_vkey(vkey + "\n")
    assert (cosigner.name, cosigner.key_id.hex()) == (name, hex_id)
    assert cosigner.vkey == vkey
    log_vkey = vkey.replace(b64, base64.b64encode(b"\x01" + base64.b64decode(b64)[1:]).decode())
    for bad in ("nope", log_vkey, vkey.replace(hex_id, "00000000"), vkey + "="):
        with pytest.raises(CheckpointError):
            parse_cosigner_vkey(bad)


def test_a_cosigned_checkpoint_verifies_and_tampering_is_caught() -> None:
    log_key = Ed25519PrivateKey.generate()
    note = sign_checkpoint("example.com/log", 5, bytes(32), log_key)
    line = cosign(note, KEY, NAME, timestamp=1700000000)
    cosigned = append_signature_lines(note, [line, line])
    assert cosigned.count(line) == 1
    cosigner = parse_cosigner_vkey(cosigner_vkey(NAME, KEY.public_key()))
    [valid] = verify_cosignatures(cosigned, [cosigner])
    assert valid.timestamp == 1700000000 and valid.cosigner == cosigner
    other = parse_cosigner_vkey(cosigner_vkey("other/w", Ed25519PrivateKey.generate().public_key()))
    assert verify_cosignatures(cosigned, [other]) == []  # unknown keys are ignored
    forged = cosigned.replace("\n5\n", "\n6\n")
    with pytest.raises(CheckpointError, match="bad cosignature"):
        verify_cosignatures(forged, [cosigner])
    sig = parse_note(cosigned).signatures[0]  # the log's line, not the witness's
    with pytest.raises(CheckpointError, match="not from cosigner"):
        verify_cosignature(parse_note(note).text, sig, cosigner)


def test_timestamps_out_of_range_are_refused() -> None:
    with pytest.raises(CheckpointError):
        cosigned_message(SPEC_BODY, 2**63)
    with pytest.raises(CheckpointError):
        cosigned_message("no newline", 1)
    with pytest.raises(CheckpointError):
        cosign(SPEC_BODY, KEY, "bad name")
