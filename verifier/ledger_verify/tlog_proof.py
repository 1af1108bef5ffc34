"""C2SP tlog-proof@v1: offline-verifiable proof that an entry is in a transparency log.

Format, from https://c2sp.org/tlog-proof (C2SP/C2SP ``tlog-proof.md``), matching
``proof/tlog_proof.go`` of transparency-dev/merkle::

    c2sp.org/tlog-proof@v1
    extra <base64 opaque extra data>        (optional line)
    index <decimal entry index, no leading zeroes>
    <base64 hash>                           (zero or more lines: the RFC 6962/9162
    <base64 hash>                            inclusion proof, leaf sibling first)
                                            (one empty line)
    <the signed checkpoint note, verbatim>

Lines end in U+000A. Base64 is standard RFC 4648 section 4. The extra data is not
authenticated and must not be trusted. Proofs are stored as ``*.tlog-proof`` files.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from ledger_verify.checkpoints import (
    Checkpoint,
    CheckpointError,
    parse_checkpoint,
    verify_checkpoint,
)
from ledger_verify.merkle import ProofError, verify_inclusion

__all__ = [
    "HEADER",
    "TlogProof",
    "TlogProofError",
    "format_tlog_proof",
    "parse_tlog_proof",
    "verify_tlog_proof",
]

HEADER: Final = "c2sp.org/tlog-proof@v1"
"""First line of every tlog-proof."""

_HASH_SIZE: Final = 32
_MAX_UINT64: Final = 2**64 - 1
_DECIMAL: Final = re.compile(r"0|[1-9][0-9]*")


class TlogProofError(ValueError):
    """A tlog-proof is malformed, or (from :func:`verify_tlog_proof`) does not verify."""


@dataclass(frozen=True)
class TlogProof:
    """A parsed tlog-proof: entry index, inclusion proof hashes, checkpoint, extra data.

    ``checkpoint`` is parsed but not verified by :func:`parse_tlog_proof`;
    ``checkpoint.note`` is the note text exactly as it appeared in the file. ``extra``
    is None when the file has no ``extra`` line.
    """

    index: int
    hashes: tuple[bytes, ...]
    checkpoint: Checkpoint
    extra: bytes | None = None

    def format(self) -> str:
        """Return this proof in tlog-proof@v1 text form (inverse of parsing)."""
        return format_tlog_proof(self.index, self.hashes, self.checkpoint.note, self.extra)


def _b64decode_strict(text: str, what: str) -> bytes:
    """Decode canonical standard base64, so one proof has exactly one text form."""
    try:
        raw = base64.b64decode(text.encode("ascii"), validate=True)
    except (UnicodeEncodeError, binascii.Error, ValueError) as exc:
        raise TlogProofError(f"malformed tlog-proof: {what} is not valid base64") from exc
    if base64.b64encode(raw).decode("ascii") != text:
        raise TlogProofError(f"malformed tlog-proof: {what} is not canonical base64")
    return raw


def format_tlog_proof(
    index: int,
    proof_hashes: Sequence[bytes],
    checkpoint_note: str | Checkpoint,
    extra: bytes | None = None,
) -> str:
    """Return a C2SP tlog-proof@v1 document.

    ``proof_hashes`` is the RFC 9162 inclusion proof of entry ``index`` in the tree of
    the checkpoint, each hash 32 bytes; ``checkpoint_note`` is the signed checkpoint
    note (or a parsed :class:`Checkpoint`, whose ``note`` is used verbatim); ``extra``
    is optional opaque data written as an ``extra`` line. Raises
    :class:`TlogProofError` if any input is malformed (the checkpoint must parse, but
    is not verified here).
    """
    if isinstance(index, bool) or not isinstance(index, int) or not 0 <= index <= _MAX_UINT64:
        raise TlogProofError(f"index must be an int in 0..2**64-1, got {index!r}")
    lines = [HEADER]
    if extra is not None:
        if not isinstance(extra, bytes | bytearray):
            raise TlogProofError("extra data must be bytes")
        lines.append("extra " + base64.b64encode(bytes(extra)).decode("ascii"))
    lines.append(f"index {index}")
    for i, h in enumerate(proof_hashes):
        if not isinstance(h, bytes | bytearray) or len(h) != _HASH_SIZE:
            raise TlogProofError(f"proof hash {i} must be {_HASH_SIZE} bytes")
        lines.append(base64.b64encode(bytes(h)).decode("ascii"))
    note = checkpoint_note.note if isinstance(checkpoint_note, Checkpoint) else checkpoint_note
    try:
        parse_checkpoint(note)
    except CheckpointError as exc:
        raise TlogProofError(f"invalid checkpoint: {exc}") from exc
    return "\n".join(lines) + "\n\n" + note


def parse_tlog_proof(text: str | bytes) -> TlogProof:
    """Parse a C2SP tlog-proof@v1 document strictly.

    Guarantees on return: the header line is exact; an optional ``extra`` line holds
    canonical base64; the ``index`` line is a canonical decimal below 2**64; every
    proof line is the canonical base64 of a 32-byte hash; one empty line follows; the
    rest is a well-formed checkpoint note (not yet verified, see
    :func:`verify_tlog_proof`). Raises :class:`TlogProofError` otherwise.
    """
    if isinstance(text, bytes | bytearray | memoryview):
        try:
            text = bytes(text).decode("utf-8")
        except UnicodeDecodeError as exc:
            raise TlogProofError("tlog-proof is not valid UTF-8") from exc
    if not isinstance(text, str):
        raise TlogProofError(f"tlog-proof must be str or bytes, not {type(text).__name__}")

    pos = 0

    def next_line(what: str) -> str:
        nonlocal pos
        end = text.find("\n", pos)
        if end < 0:
            raise TlogProofError(f"malformed tlog-proof: missing {what}")
        line = text[pos:end]
        pos = end + 1
        return line

    if next_line("header line") != HEADER:
        raise TlogProofError(f"malformed tlog-proof: the first line must be {HEADER!r}")

    line = next_line("index line")
    extra: bytes | None = None
    if line.startswith("extra "):
        extra = _b64decode_strict(line[len("extra ") :], "extra data")
        line = next_line("index line")

    index_text = line[len("index ") :] if line.startswith("index ") else None
    if index_text is None:
        raise TlogProofError("malformed tlog-proof: missing 'index <n>' line")
    if not _DECIMAL.fullmatch(index_text) or int(index_text) > _MAX_UINT64:
        raise TlogProofError(
            f"malformed tlog-proof: index {index_text!r} is not a canonical decimal uint64"
        )
    index = int(index_text)

    hashes: list[bytes] = []
    while (line := next_line("blank line before the checkpoint")) != "":
        raw = _b64decode_strict(line, f"proof hash {len(hashes)}")
        if len(raw) != _HASH_SIZE:
            raise TlogProofError(
                f"malformed tlog-proof: proof hash {len(hashes)} is {len(raw)} bytes, not 32"
            )
        hashes.append(raw)

    try:
        checkpoint = parse_checkpoint(text[pos:])
    except CheckpointError as exc:
        raise TlogProofError(f"malformed tlog-proof: bad checkpoint: {exc}") from exc
    return TlogProof(index=index, hashes=tuple(hashes), checkpoint=checkpoint, extra=extra)


def verify_tlog_proof(
    text: str | bytes,
    leaf_hash: bytes,
    public_key: Ed25519PublicKey,
    key_name: str,
    *,
    origin: str | None = None,
) -> TlogProof:
    """Parse a tlog-proof and verify it fully for the entry whose leaf hash is given.

    On return: the checkpoint is signed by ``key_name``/``public_key`` (and has
    ``origin`` if given), and ``leaf_hash`` is entry ``index`` of the checkpointed tree
    by RFC 9162 inclusion proof. The ``extra`` data is still unauthenticated. Raises
    :class:`TlogProofError` (chained to the underlying error) otherwise.
    """
    proof = parse_tlog_proof(text)
    try:
        checkpoint = verify_checkpoint(proof.checkpoint.note, public_key, key_name, origin=origin)
    except CheckpointError as exc:
        raise TlogProofError(f"tlog-proof checkpoint does not verify: {exc}") from exc
    try:
        verify_inclusion(leaf_hash, proof.index, checkpoint.size, proof.hashes, checkpoint.root)
    except ProofError as exc:
        raise TlogProofError(f"tlog-proof inclusion proof does not verify: {exc}") from exc
    return TlogProof(
        index=proof.index, hashes=proof.hashes, checkpoint=checkpoint, extra=proof.extra
    )
