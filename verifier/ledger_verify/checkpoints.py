"""C2SP signed notes and transparency-log checkpoints, signed with Ed25519.

Formats (looked up in the C2SP specifications, not guessed):

* c2sp.org/signed-note -- a note is UTF-8 text ending in a newline, a blank line,
  then one or more lines ``— <key name> <base64(4-byte key id || signature)>``
  (``—`` is U+2014 EM DASH). The text is split from the signatures at the *last*
  blank line. Key names are non-empty and contain no Unicode spaces and no ``+``.
  For Ed25519 (signature type 0x01) the key id is the first four bytes of
  ``SHA-256(key name || 0x0A || 0x01 || 32-byte public key)`` and the signature is
  RFC 8032 Ed25519 over the exact bytes of the text, final newline included.
  Verifiers ignore signatures from unknown keys (name *and* id must match).
* c2sp.org/tlog-checkpoint -- the note text is ``<origin>\\n<size>\\n<base64 root>\\n``
  followed by optional non-empty extension lines. The size is ASCII decimal with no
  leading zeroes; the root is the RFC 6962/9162 Merkle root.
* Verifier keys (vkeys, as in golang.org/x/mod/sumdb/note) are
  ``<name>+<8 hex digits key id>+<base64(0x01 || public key)>``.

Because the signature covers the body bytes exactly, anyone holding the log's public
key can check a checkpoint with ``openssl pkeyutl -verify -pubin -inkey log.pub
-rawin -in body -sigfile sig`` (``sig`` being the 64 raw signature bytes).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Final

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

__all__ = [
    "ED25519_SIGNATURE_TYPE",
    "MAX_SIGNATURES",
    "Checkpoint",
    "CheckpointError",
    "NoteSignature",
    "SignedNote",
    "checkpoint_body",
    "is_valid_key_name",
    "key_id",
    "parse_checkpoint",
    "parse_note",
    "parse_verifier_key",
    "public_key_pem",
    "same_log_checkpoint",
    "sign_checkpoint",
    "sign_note",
    "verifier_key",
    "verify_checkpoint",
    "verify_note",
]

ED25519_SIGNATURE_TYPE: Final = 0x01
"""C2SP signed-note signature type identifier byte of Ed25519."""

MAX_SIGNATURES: Final = 100
"""Most signature lines a note may carry (C2SP asks verifiers to accept at least 16)."""

_SIG_PREFIX: Final = "\u2014 "  # EM DASH, SPACE
_HASH_SIZE: Final = 32
_ED25519_SIGNATURE_SIZE: Final = 64
_MAX_UINT64: Final = 2**64 - 1
_DECIMAL: Final = re.compile(r"0|[1-9][0-9]*")
_KEY_ID_HEX: Final = re.compile(r"[0-9a-fA-F]{8}")


class CheckpointError(ValueError):
    """A signed note, checkpoint or verifier key is malformed or does not verify."""


@dataclass(frozen=True)
class NoteSignature:
    """One signature line of a signed note: key name, 4-byte key id, raw signature."""

    name: str
    key_id: bytes
    signature: bytes

    def line(self) -> str:
        """Return the signature line, ``— <name> <base64(key id || signature)>\\n``."""
        blob = base64.b64encode(self.key_id + self.signature).decode("ascii")
        return f"{_SIG_PREFIX}{self.name} {blob}\n"


@dataclass(frozen=True)
class SignedNote:
    """A parsed (not yet verified) signed note: its text and its signature lines."""

    text: str
    signatures: tuple[NoteSignature, ...]


@dataclass(frozen=True)
class Checkpoint:
    """A parsed C2SP checkpoint.

    ``body`` is the signed note text (the exact signed bytes, decoded), ``note`` the
    whole note as given, ``extensions`` the optional extension lines and
    ``signatures`` every signature line, verified or not.
    """

    origin: str
    size: int
    root: bytes
    body: str
    note: str
    extensions: tuple[str, ...] = ()
    signatures: tuple[NoteSignature, ...] = field(default=(), repr=False)

    def signature_by(self, key_name: str, public_key: Ed25519PublicKey) -> bytes:
        """Return the raw 64-byte Ed25519 signature made by this key (name and id).

        Does not verify it; use :func:`verify_checkpoint` first. Raises
        :class:`CheckpointError` if the note carries no signature from that key.
        """
        kid = key_id(key_name, public_key)
        for sig in self.signatures:
            if sig.name == key_name and sig.key_id == kid:
                return sig.signature
        raise CheckpointError(f"checkpoint has no signature from key {key_name}+{kid.hex()}")


# --------------------------------------------------------------------------- helpers


def is_valid_key_name(name: str) -> bool:
    """Return True if ``name`` is a valid note key name: non-empty, no spaces, no ``+``."""
    return (
        isinstance(name, str)
        and name != ""
        and "+" not in name
        and not any(ch.isspace() for ch in name)
        and not _has_control_chars(name, allow_newline=False)
    )


def _require_key_name(name: str) -> str:
    if not is_valid_key_name(name):
        raise CheckpointError(
            f"invalid key name {name!r}: it must be non-empty and contain no spaces and no '+'"
        )
    return name


def _has_control_chars(text: str, *, allow_newline: bool) -> bool:
    return any(
        (ord(ch) < 0x20 and not (allow_newline and ch == "\n")) or ch == "\x7f" for ch in text
    )


def _b64decode_strict(text: str, what: str) -> bytes:
    """Decode standard base64 and insist on the one canonical encoding.

    Rejecting non-canonical forms (spare bits set, missing padding, stray characters)
    keeps notes non-malleable: one signature, one byte string.
    """
    try:
        raw = base64.b64decode(text.encode("ascii"), validate=True)
    except (UnicodeEncodeError, binascii.Error, ValueError) as exc:
        raise CheckpointError(f"{what} is not valid base64") from exc
    if base64.b64encode(raw).decode("ascii") != text:
        raise CheckpointError(f"{what} is not canonical base64")
    return raw


def _raw_public_key(public_key: Ed25519PublicKey) -> bytes:
    if not isinstance(public_key, Ed25519PublicKey):
        raise TypeError(f"expected an Ed25519PublicKey, got {type(public_key).__name__}")
    return public_key.public_bytes_raw()


def key_id(name: str, public_key: Ed25519PublicKey) -> bytes:
    """Return the 4-byte C2SP key id of an Ed25519 key with this key name.

    ``SHA-256(name || 0x0A || 0x01 || 32-byte raw public key)[:4]``, per C2SP
    signed-note. The name is encoded as UTF-8.
    """
    material = (
        name.encode("utf-8") + b"\n" + bytes([ED25519_SIGNATURE_TYPE]) + _raw_public_key(public_key)
    )
    return hashlib.sha256(material).digest()[:4]


def public_key_pem(public_key: Ed25519PublicKey) -> bytes:
    """Return the public key as a SubjectPublicKeyInfo PEM (what ``openssl`` reads)."""
    _raw_public_key(public_key)
    return public_key.public_bytes(Encoding.PEM, PublicFormat.SubjectPublicKeyInfo)


def verifier_key(name: str, public_key: Ed25519PublicKey) -> str:
    """Return the C2SP/sumdb verifier key ``<name>+<hex key id>+<base64(0x01 || key)>``."""
    _require_key_name(name)
    blob = bytes([ED25519_SIGNATURE_TYPE]) + _raw_public_key(public_key)
    return f"{name}+{key_id(name, public_key).hex()}+{base64.b64encode(blob).decode('ascii')}"


def parse_verifier_key(vkey: str) -> tuple[str, bytes, Ed25519PublicKey]:
    """Parse a verifier key into ``(key name, 4-byte key id, public key)``.

    Strict: the name must be valid, the id exactly 8 hex digits that match the key,
    the key canonical base64 of 0x01 followed by 32 bytes. Raises
    :class:`CheckpointError` otherwise.
    """
    if not isinstance(vkey, str):
        raise CheckpointError("verifier key must be a str")
    # A .vkey file conventionally ends in one newline; nothing else is forgiven.
    text = vkey[:-1] if vkey.endswith("\n") else vkey
    name, sep1, rest = text.partition("+")
    hex_id, sep2, b64 = rest.partition("+")
    if not sep1 or not sep2:
        raise CheckpointError("malformed verifier key: expected <name>+<key id>+<key>")
    _require_key_name(name)
    if not _KEY_ID_HEX.fullmatch(hex_id):
        raise CheckpointError(f"malformed verifier key: key id {hex_id!r} is not 8 hex digits")
    blob = _b64decode_strict(b64, "verifier key material")
    if len(blob) != 1 + _HASH_SIZE or blob[0] != ED25519_SIGNATURE_TYPE:
        raise CheckpointError(
            "verifier key is not an Ed25519 key (expected 0x01 followed by 32 bytes)"
        )
    public_key = Ed25519PublicKey.from_public_bytes(blob[1:])
    kid = bytes.fromhex(hex_id)
    if kid != key_id(name, public_key):
        raise CheckpointError(
            f"verifier key id {hex_id} does not match the key and name "
            f"(expected {key_id(name, public_key).hex()})"
        )
    return name, kid, public_key


# --------------------------------------------------------------------------- signed notes


def _as_text(note: str | bytes, what: str) -> str:
    if isinstance(note, bytes | bytearray | memoryview):
        try:
            return bytes(note).decode("utf-8")
        except UnicodeDecodeError as exc:
            raise CheckpointError(f"{what} is not valid UTF-8") from exc
    if not isinstance(note, str):
        raise CheckpointError(f"{what} must be str or bytes, not {type(note).__name__}")
    try:
        note.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise CheckpointError(f"{what} is not valid UTF-8") from exc
    return note


def parse_note(note: str | bytes) -> SignedNote:
    """Parse a C2SP signed note without verifying it.

    Guarantees on return: the note is valid UTF-8 with no control characters except
    newline; the text ends in a newline and is followed by a blank line; there are
    1 to :data:`MAX_SIGNATURES` well-formed signature lines, each with a valid key
    name and canonical base64 of at least 5 bytes, and the note ends in a newline.
    Raises :class:`CheckpointError` otherwise.
    """
    text = _as_text(note, "note")
    if _has_control_chars(text, allow_newline=True):
        raise CheckpointError("malformed note: it contains control characters")
    split = text.rfind("\n\n")
    if split < 0:
        raise CheckpointError("malformed note: no blank line between text and signatures")
    body, sig_block = text[: split + 1], text[split + 2 :]
    if not sig_block or not sig_block.endswith("\n"):
        raise CheckpointError("malformed note: it must end with newline-terminated signatures")
    lines = sig_block[:-1].split("\n")
    if len(lines) > MAX_SIGNATURES:
        raise CheckpointError(f"malformed note: more than {MAX_SIGNATURES} signatures")
    signatures: list[NoteSignature] = []
    for number, line in enumerate(lines, start=1):
        if not line.startswith(_SIG_PREFIX):
            raise CheckpointError(
                f"malformed note: signature line {number} does not start with '\u2014 '"
            )
        name, space, b64 = line[len(_SIG_PREFIX) :].partition(" ")
        if not space or not is_valid_key_name(name):
            raise CheckpointError(f"malformed note: signature line {number} has a bad key name")
        blob = _b64decode_strict(b64, f"signature on line {number}")
        if len(blob) < 5:
            raise CheckpointError(f"malformed note: signature on line {number} is too short")
        signatures.append(NoteSignature(name=name, key_id=blob[:4], signature=blob[4:]))
    return SignedNote(text=body, signatures=tuple(signatures))


def sign_note(text: str, private_key: Ed25519PrivateKey, key_name: str) -> str:
    """Sign ``text`` (which must end in a newline) and return the signed note.

    The result is ``text``, a blank line and one Ed25519 signature line; it is
    byte-for-byte what golang.org/x/mod/sumdb/note produces for the same key.
    """
    if not isinstance(private_key, Ed25519PrivateKey):
        raise TypeError(f"expected an Ed25519PrivateKey, got {type(private_key).__name__}")
    _require_key_name(key_name)
    text = _as_text(text, "note text")
    if not text.endswith("\n") or _has_control_chars(text, allow_newline=True):
        raise CheckpointError("note text must end in a newline and contain no control characters")
    kid = key_id(key_name, private_key.public_key())
    signature = private_key.sign(text.encode("utf-8"))
    return text + "\n" + NoteSignature(key_name, kid, signature).line()


def _verify_signed(
    parsed: SignedNote, public_key: Ed25519PublicKey, key_name: str
) -> tuple[NoteSignature, ...]:
    """Verify every signature of the trusted key; at least one must be present."""
    _require_key_name(key_name)
    kid = key_id(key_name, public_key)
    mine = [s for s in parsed.signatures if s.name == key_name and s.key_id == kid]
    if not mine:
        # Other signatures are ignored as C2SP requires; explain what was found instead.
        same_name = [s.key_id.hex() for s in parsed.signatures if s.name == key_name]
        same_id = [s.name for s in parsed.signatures if s.key_id == kid]
        if same_name:
            detail = (
                f"there are signatures by {key_name!r} with unknown key id(s) "
                f"{', '.join(same_name)}, not {kid.hex()}"
            )
        elif same_id:
            detail = f"key id {kid.hex()} appears under the wrong key name(s) {same_id}"
        else:
            found = ", ".join(f"{s.name}+{s.key_id.hex()}" for s in parsed.signatures)
            detail = f"signatures present: {found}"
        raise CheckpointError(f"note has no signature from key {key_name}+{kid.hex()}: {detail}")
    message = parsed.text.encode("utf-8")
    for sig in mine:
        if len(sig.signature) != _ED25519_SIGNATURE_SIZE:
            raise CheckpointError(
                f"signature by {key_name}+{kid.hex()} is {len(sig.signature)} bytes, "
                f"not {_ED25519_SIGNATURE_SIZE}"
            )
        try:
            public_key.verify(sig.signature, message)
        except InvalidSignature as exc:
            raise CheckpointError(
                f"bad signature: the signature by {key_name}+{kid.hex()} does not verify "
                "over the note text"
            ) from exc
    return tuple(mine)


def verify_note(note: str | bytes, public_key: Ed25519PublicKey, key_name: str) -> SignedNote:
    """Parse ``note`` and verify it is signed by ``key_name`` with ``public_key``.

    Signatures from other keys (different name or key id) are ignored, as C2SP
    requires; every signature from the trusted key must verify and there must be at
    least one. Raises :class:`CheckpointError` otherwise.
    """
    parsed = parse_note(note)
    _verify_signed(parsed, public_key, key_name)
    return parsed


# --------------------------------------------------------------------------- checkpoints


def checkpoint_body(origin: str, size: int, root: bytes) -> str:
    """Return the checkpoint note text ``f"{origin}\\n{size}\\n{base64(root)}\\n"``.

    Raises :class:`CheckpointError` if the origin is empty or has control characters,
    the size is not an int in ``0..2**64-1`` or the root is not 32 bytes.
    """
    if not isinstance(origin, str) or not origin or _has_control_chars(origin, allow_newline=False):
        raise CheckpointError("origin must be a non-empty single line without control characters")
    if isinstance(size, bool) or not isinstance(size, int) or not 0 <= size <= _MAX_UINT64:
        raise CheckpointError(f"tree size must be an int in 0..2**64-1, got {size!r}")
    if not isinstance(root, bytes | bytearray) or len(root) != _HASH_SIZE:
        raise CheckpointError(f"root must be {_HASH_SIZE} bytes")
    return f"{origin}\n{size}\n{base64.b64encode(bytes(root)).decode('ascii')}\n"


def sign_checkpoint(
    origin: str,
    size: int,
    root: bytes,
    private_key: Ed25519PrivateKey,
    key_name: str | None = None,
    *,
    extensions: Sequence[str] = (),
) -> str:
    """Return a signed C2SP checkpoint note for a tree of ``size`` leaves and ``root``.

    The note is the body from :func:`checkpoint_body` (plus any ``extensions`` lines,
    not recommended by C2SP), a blank line and ``— <key name> <base64(key id ||
    signature)>``, the signature being Ed25519 over the UTF-8 body. ``key_name``
    defaults to ``origin``, as tlog-checkpoint recommends.
    """
    body = checkpoint_body(origin, size, root)
    for line in extensions:
        if not line or _has_control_chars(line, allow_newline=False):
            raise CheckpointError("extension lines must be non-empty single lines")
        body += line + "\n"
    return sign_note(body, private_key, origin if key_name is None else key_name)


def _parse_body(body: str) -> tuple[str, int, bytes, tuple[str, ...]]:
    lines = body[:-1].split("\n") if body.endswith("\n") else []
    if len(lines) < 3:
        raise CheckpointError("malformed checkpoint: the body needs origin, size and root lines")
    origin, size_text, root_text, *extensions = lines
    if not origin:
        raise CheckpointError("malformed checkpoint: empty origin line")
    if not _DECIMAL.fullmatch(size_text):
        raise CheckpointError(
            f"malformed checkpoint: size {size_text!r} is not a decimal without leading zeroes"
        )
    size = int(size_text)
    if size > _MAX_UINT64:
        raise CheckpointError("malformed checkpoint: size does not fit in 64 bits")
    root = _b64decode_strict(root_text, "checkpoint root hash")
    if len(root) != _HASH_SIZE:
        raise CheckpointError(f"malformed checkpoint: root hash is {len(root)} bytes, not 32")
    if any(not line for line in extensions):
        raise CheckpointError("malformed checkpoint: extension lines must not be empty")
    return origin, size, root, tuple(extensions)


def _checkpoint(parsed: SignedNote, note: str | bytes) -> Checkpoint:
    origin, size, root, extensions = _parse_body(parsed.text)
    return Checkpoint(
        origin=origin,
        size=size,
        root=root,
        body=parsed.text,
        note=_as_text(note, "note"),
        extensions=extensions,
        signatures=parsed.signatures,
    )


def parse_checkpoint(note: str | bytes) -> Checkpoint:
    """Parse a signed checkpoint note strictly, without verifying any signature.

    Guarantees the note is a well-formed signed note (see :func:`parse_note`) whose
    text is: a non-empty origin, a size in canonical decimal below 2**64, the
    canonical base64 of a 32-byte root, then only non-empty extension lines.
    Raises :class:`CheckpointError` otherwise. Never trust the result unverified.
    """
    return _checkpoint(parse_note(note), note)


def verify_checkpoint(
    note: str | bytes,
    public_key: Ed25519PublicKey,
    key_name: str,
    *,
    origin: str | None = None,
) -> Checkpoint:
    """Parse ``note`` and verify its signature by ``key_name`` / ``public_key``.

    On return the checkpoint is well formed, carries at least one signature whose key
    name and key id match the trusted key, and every such signature verifies over the
    body. If ``origin`` is given the checkpoint's origin must equal it. Signatures
    from other keys (e.g. witnesses) are ignored. Raises :class:`CheckpointError`
    with a message saying what is wrong: malformed note or body, no signature from
    this key (unknown key id or wrong name), or a bad signature.
    """
    parsed = parse_note(note)
    checkpoint = _checkpoint(parsed, note)
    _verify_signed(parsed, public_key, key_name)
    if origin is not None and checkpoint.origin != origin:
        raise CheckpointError(
            f"checkpoint origin {checkpoint.origin!r} is not the expected {origin!r}"
        )
    return checkpoint


def same_log_checkpoint(
    trusted: Checkpoint, other: Checkpoint, key_name: str, public_key: Ed25519PublicKey
) -> bool:
    """Whether ``other`` is the same checkpoint of the log as ``trusted`` (already
    verified with this key): the same signed body (origin, size, root hash and
    extension lines) and the same signature(s) by the log key.

    Every other signature line -- a witness's cosignature, a line of an unknown key --
    is ignored, as c2sp.org/signed-note asks: a checkpoint that later gained
    cosignatures is still the same checkpoint. Ed25519 signatures are deterministic,
    so the log key's signature of one body is one byte string.
    """
    if trusted.body != other.body:
        return False
    kid = key_id(key_name, public_key)

    def by_log(checkpoint: Checkpoint) -> set[bytes]:
        return {
            s.signature for s in checkpoint.signatures if s.name == key_name and s.key_id == kid
        }

    ours = by_log(trusted)
    return bool(ours) and by_log(other) == ours
