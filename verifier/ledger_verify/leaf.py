"""The leaf format of the ledger's Merkle log, in one place (docs/ledger-format.md §2).

A leaf is the RFC 8785 canonical JSON of one stored event as stored:

    {"ciphertext", "compression", "key_ref", "nonce", "notification_id",
     "originator_id", "originator_version", "seq", "topic"}

with `nonce` and `ciphertext` in standard base64 and `compression` `"zlib"` or
`"none"`. The ciphertext is AES-256-GCM under the per-event key (HKDF-SHA256 of the
subject's data key, no salt, info = UTF-8(originator id) ‖ uint64be(version)), with
the RFC 8785 JSON of {"originator_id", "originator_version", "topic"} as associated
data, so a ciphertext cannot be moved to another event. The server builds leaves
with `leaf_object`/`leaf_bytes`; the bundle verifier parses and decrypts them with
the same code.
"""

from __future__ import annotations

import base64
import hmac
import struct
import zlib
from collections.abc import Mapping
from typing import Any, Final
from uuid import UUID

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from ledger_verify.canonical import MAX_SAFE_INTEGER, canonical_json

try:  # the C function `json` itself escapes strings with (ensure_ascii=False)
    from _json import encode_basestring as _json_string
except ImportError:  # pragma: no cover - CPython always has it
    from json.encoder import py_encode_basestring as _json_string

LEAF_FIELDS: Final = frozenset(
    {
        "ciphertext",
        "compression",
        "key_ref",
        "nonce",
        "notification_id",
        "originator_id",
        "originator_version",
        "seq",
        "topic",
    }
)
COMPRESSIONS: Final = ("none", "zlib")


def leaf_object(
    *,
    seq: int,
    notification_id: int,
    originator_id: UUID | str,
    originator_version: int,
    topic: str,
    key_ref: str,
    nonce: bytes,
    ciphertext: bytes,
    compression: str,
) -> dict[str, Any]:
    """The leaf object of one stored event, before canonicalising."""
    if compression not in COMPRESSIONS:
        raise ValueError(f"compression must be one of {COMPRESSIONS}, not {compression!r}")
    return {
        "seq": seq,
        "notification_id": notification_id,
        "originator_id": str(originator_id),
        "originator_version": originator_version,
        "topic": topic,
        "key_ref": key_ref,
        "nonce": base64.b64encode(nonce).decode("ascii"),
        "ciphertext": base64.b64encode(ciphertext).decode("ascii"),
        "compression": compression,
    }


def leaf_bytes(leaf: Mapping[str, str | int]) -> bytes:
    """The exact bytes hashed into the log: RFC 8785 canonical JSON of a leaf object."""
    return canonical_json(leaf)


def associated_data(originator_id: UUID | str, originator_version: int, topic: str) -> bytes:
    """GCM associated data: RFC 8785 JSON of originator id, version and topic.

    The bytes of `canonical_json` of that object, written directly (it runs for every
    event read): the three keys in sorted order, strings escaped by the same encoder
    (tests/security/test_envelope.py compares the two)."""
    originator = str(originator_id)
    if (
        type(topic) is not str
        or type(originator_version) is not int
        or abs(originator_version) > MAX_SAFE_INTEGER
    ):  # what the direct form does not cover: canonical_json's own answer (or refusal)
        return canonical_json(
            {"originator_id": originator, "originator_version": originator_version, "topic": topic}
        )
    return (
        f'{{"originator_id":{_json_string(originator)},'
        f'"originator_version":{int.__repr__(originator_version)},'
        f'"topic":{_json_string(topic)}}}'
    ).encode()


def hkdf_extract(dek: bytes) -> bytes:
    """RFC 5869 extract of a data key with no salt (HashLen zero bytes): the
    pseudorandom key every event key of that data key is expanded from. Not cached
    here: a cache would keep data keys in memory after their subject was shredded (the
    server's key store keeps it beside the data key, and drops both together)."""
    return hmac.digest(bytes(32), dek, "sha256")


def event_key_from_prk(prk: bytes, originator_id: UUID | str, originator_version: int) -> bytes:
    """`event_key` given the data key's `hkdf_extract` (one expand block)."""
    info = str(originator_id).encode("utf-8") + struct.pack(">Q", originator_version)
    return hmac.digest(prk, info + b"\x01", "sha256")


def event_key(dek: bytes, originator_id: UUID | str, originator_version: int) -> bytes:
    """The per-event AES-256 key: HKDF-SHA256 (RFC 5869) of the subject DEK, no salt,
    info = UTF-8(originator id) ‖ uint64be(version), 32 bytes (one expand block)."""
    return event_key_from_prk(hkdf_extract(dek), originator_id, originator_version)


def decrypt_payload(
    key: bytes,
    nonce: bytes,
    ciphertext: bytes,
    compression: str,
    aad: bytes,
) -> bytes:
    """The plaintext (the library transcoder's JSON) under a per-event key.

    Raises `cryptography.exceptions.InvalidTag` if key, nonce, ciphertext or
    associated data is wrong."""
    payload = AESGCM(key).decrypt(nonce, ciphertext, aad)
    return zlib.decompress(payload) if compression == "zlib" else payload


def decrypt_leaf(leaf: Mapping[str, Any], key: bytes) -> bytes:
    """The plaintext of a parsed leaf under its disclosed per-event key."""
    return decrypt_payload(
        key,
        base64.b64decode(leaf["nonce"], validate=True),
        base64.b64decode(leaf["ciphertext"], validate=True),
        leaf["compression"],
        associated_data(leaf["originator_id"], leaf["originator_version"], leaf["topic"]),
    )
