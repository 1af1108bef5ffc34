"""C2SP tlog-cosignature v1 (Ed25519): witness cosignatures on checkpoints.

Format (c2sp.org/tlog-cosignature, looked up, not guessed):

* A cosignature is an extra signature line of the checkpoint note,
  ``— <cosigner name> <base64(key id || timestamp || signature)>``, ``timestamp``
  being a big-endian u64 of POSIX seconds (at most 2**63 - 1, never 0 from a witness).
* The key id is ``SHA-256(<name> || "\\n" || 0x04 || 32-byte Ed25519 public key)[:4]``.
* The Ed25519 signature covers ``"cosignature/v1\\n" + "time <timestamp>\\n"`` followed
  by the whole checkpoint note text (final newline included, no signature lines).
* A cosigner's verifier key (vkey) is ``<name>+<hex key id>+<base64(0x04 || key)>``.

A v1 cosignature states that, as of its time, the largest consistent tree the
cosigner has seen for the checkpoint's origin has that root. Verifiers ignore lines
whose name and key id match no trusted cosigner, as signed-note requires.
"""

from __future__ import annotations

import base64
import hashlib
import struct
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Final

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)

from ledger_verify.checkpoints import (
    CheckpointError,
    NoteSignature,
    is_valid_key_name,
    parse_note,
)

__all__ = [
    "COSIGNATURE_V1_TYPE",
    "Cosigner",
    "VerifiedCosignature",
    "append_signature_lines",
    "cosign",
    "cosignature_key_id",
    "cosigned_message",
    "cosigner_vkey",
    "parse_cosigner_vkey",
    "verify_cosignature",
    "verify_cosignatures",
]

COSIGNATURE_V1_TYPE: Final = 0x04
"""Signature type byte of Ed25519 cosignature/v1 in key ids and vkeys."""

_HEADER: Final = "cosignature/v1\n"
_MAX_TIMESTAMP: Final = 2**63 - 1
_SIG_SIZE: Final = 64
_BLOB_SIZE: Final = 4 + 8 + _SIG_SIZE


def cosignature_key_id(name: str, public_key: Ed25519PublicKey) -> bytes:
    """``SHA-256(name || 0x0A || 0x04 || public key)[:4]``."""
    material = name.encode("utf-8") + b"\n" + bytes([COSIGNATURE_V1_TYPE])
    return hashlib.sha256(material + public_key.public_bytes_raw()).digest()[:4]


@dataclass(frozen=True)
class Cosigner:
    """A trusted cosigner (witness): name, key id and Ed25519 public key."""

    name: str
    key_id: bytes
    public_key: Ed25519PublicKey

    @property
    def vkey(self) -> str:
        return cosigner_vkey(self.name, self.public_key)

    def __str__(self) -> str:
        return f"{self.name}+{self.key_id.hex()}"


@dataclass(frozen=True)
class VerifiedCosignature:
    """A cosignature line that verified: who made it and when (POSIX seconds)."""

    cosigner: Cosigner
    timestamp: int
    line: str


def cosigner_vkey(name: str, public_key: Ed25519PublicKey) -> str:
    """The cosigner's verifier key ``<name>+<hex key id>+<base64(0x04 || key)>``."""
    if not is_valid_key_name(name):
        raise CheckpointError(f"invalid cosigner name {name!r}")
    blob = bytes([COSIGNATURE_V1_TYPE]) + public_key.public_bytes_raw()
    kid = cosignature_key_id(name, public_key).hex()
    return f"{name}+{kid}+{base64.b64encode(blob).decode('ascii')}"


def parse_cosigner_vkey(vkey: str) -> Cosigner:
    """Parse a cosigner vkey strictly (type 0x04, id matching); CheckpointError otherwise."""
    text = vkey.strip() if isinstance(vkey, str) else ""
    name, sep1, rest = text.partition("+")
    hex_id, sep2, b64 = rest.partition("+")
    if not sep1 or not sep2 or not is_valid_key_name(name):
        raise CheckpointError("malformed cosigner vkey: expected <name>+<key id>+<key>")
    try:
        kid = bytes.fromhex(hex_id)
        blob = base64.b64decode(b64.encode("ascii"), validate=True)
    except ValueError as exc:
        raise CheckpointError("malformed cosigner vkey: bad key id or base64") from exc
    if len(kid) != 4 or base64.b64encode(blob).decode("ascii") != b64:
        raise CheckpointError("malformed cosigner vkey: bad key id or non-canonical base64")
    if len(blob) != 33 or blob[0] != COSIGNATURE_V1_TYPE:
        raise CheckpointError(
            "not an Ed25519 cosignature/v1 vkey (expected 0x04 followed by 32 bytes)"
        )
    public_key = Ed25519PublicKey.from_public_bytes(blob[1:])
    if kid != cosignature_key_id(name, public_key):
        raise CheckpointError(f"cosigner vkey id {hex_id} does not match its key and name")
    return Cosigner(name, kid, public_key)


def cosigned_message(body: str, timestamp: int) -> bytes:
    """The bytes a v1 cosignature signs: header, time line, then the note text."""
    if isinstance(timestamp, bool) or not 0 <= timestamp <= _MAX_TIMESTAMP:
        raise CheckpointError(f"cosignature timestamp out of range: {timestamp!r}")
    if not body.endswith("\n"):
        raise CheckpointError("the cosigned note text must end in a newline")
    return f"{_HEADER}time {timestamp}\n{body}".encode()


def _body(note_or_body: str) -> str:
    """The note text of a signed note, or the text itself if it carries no signatures."""
    if "\n\n" in note_or_body:
        return parse_note(note_or_body).text
    return note_or_body


def cosign(
    note_or_body: str,
    private_key: Ed25519PrivateKey,
    name: str,
    timestamp: int | None = None,
) -> str:
    """Return the cosignature line (newline-terminated) of ``name``'s key over the note."""
    if not is_valid_key_name(name):
        raise CheckpointError(f"invalid cosigner name {name!r}")
    when = int(time.time()) if timestamp is None else timestamp
    message = cosigned_message(_body(note_or_body), when)
    kid = cosignature_key_id(name, private_key.public_key())
    signature = struct.pack(">Q", when) + private_key.sign(message)
    return NoteSignature(name, kid, signature).line()


def verify_cosignature(body: str, signature: NoteSignature, cosigner: Cosigner) -> int:
    """Verify one signature line of ``cosigner`` over the note text; returns its time.

    Raises CheckpointError when the line is not the cosigner's (name or key id), is
    not 8 + 64 bytes, has a timestamp above 2**63 - 1, or does not verify."""
    if signature.name != cosigner.name or signature.key_id != cosigner.key_id:
        raise CheckpointError(f"the signature line is not from cosigner {cosigner}")
    if len(signature.signature) != _BLOB_SIZE - 4:
        raise CheckpointError(f"cosignature by {cosigner} is not a timestamped Ed25519 signature")
    (when,) = struct.unpack(">Q", signature.signature[:8])
    try:
        cosigner.public_key.verify(signature.signature[8:], cosigned_message(body, when))
    except InvalidSignature as exc:
        raise CheckpointError(f"bad cosignature by {cosigner}") from exc
    return int(when)


def verify_cosignatures(
    note: str | bytes, cosigners: Iterable[Cosigner]
) -> list[VerifiedCosignature]:
    """The valid cosignatures on ``note`` from the given cosigners, one per cosigner.

    Lines from unknown keys are ignored; a line that matches a trusted cosigner's
    name and id but does not verify is not counted (and the note is then malformed
    per signed-note, which raises CheckpointError). At most one cosignature per
    cosigner counts, so a quorum is a count of distinct witnesses."""
    parsed = parse_note(note)
    found: dict[bytes, VerifiedCosignature] = {}
    for cosigner in cosigners:
        ident = cosigner.public_key.public_bytes_raw()
        for sig in parsed.signatures:
            if sig.name != cosigner.name or sig.key_id != cosigner.key_id:
                continue
            when = verify_cosignature(parsed.text, sig, cosigner)
            found.setdefault(ident, VerifiedCosignature(cosigner, when, sig.line()))
    return list(found.values())


def append_signature_lines(note: str, lines: Sequence[str]) -> str:
    """The note with extra signature lines appended (duplicates of present lines are
    skipped); each line must parse as a signature line."""
    present = set(note.splitlines(keepends=True))
    extra = []
    for line in lines:
        line = line if line.endswith("\n") else line + "\n"
        if line not in present:
            present.add(line)
            extra.append(line)
    result = note + "".join(extra)
    parse_note(result)
    return result
