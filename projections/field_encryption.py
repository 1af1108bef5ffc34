"""Personal data in views: encrypted under the subject's key, searchable by blind index.

- `FieldCipher` encrypts a view's personal fields (JSON) with AES-256-GCM under a key
  derived from the *subject's* data key: HKDF-SHA256(DEK, info = "crm-ledger/view/v1|"
  ‖ purpose ‖ "|" ‖ subject id). Shredding the subject's DEK therefore makes every
  encrypted view field unreadable at the same moment as its events. The nonce is
  synthetic (HMAC of the associated data and plaintext under a second derived key),
  so the same content encrypts to the same bytes: a rebuilt view is byte-identical to
  the incrementally built one, and nonces never repeat for different plaintexts.
- `BlindIndex` gives keyed HMAC-SHA256 digests (the keyring's index key, one derived
  key per field) of normalised names, phone numbers, e-mail addresses, ID numbers,
  account numbers and segment labels, so exact-match search needs no plaintext in any
  table; and, under keys of their own, the digests the access log records of what an
  identifier search asked for (`audit_digest`), which match no view column.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import unicodedata
import weakref
from collections.abc import Mapping
from functools import lru_cache
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from domain.errors import SubjectErased
from security.errors import EventAuthenticationFailed
from security.keys.data_keys import KeyStore

VIEW_INFO = b"crm-ledger/view/v1|"
SEALED_MAGIC = b"CLV1"
NONCE_SIZE = 12
INDEX_INFO = b"crm-ledger/blind-index/v1|"
AUDIT_INFO = b"crm-ledger/search-audit/v1|"
SEALED_LIMIT = 20_000  # sealed fields remembered at most (remember=True)
INDEXED_FIELDS = ("name", "phone", "email", "id_number", "account_number", "segment")
_SEPARATORS = re.compile(r"[\s\-()./]")
_REMEMBERING: weakref.WeakSet[FieldCipher] = weakref.WeakSet()  # see FieldCipher.__init__


@lru_cache(maxsize=8192)
def _view_keys(dek: bytes, subject_id: str) -> tuple[bytes, bytes]:
    """(encryption key, nonce key) for one subject's view fields."""
    material = HKDF(
        algorithm=hashes.SHA256(),
        length=64,
        salt=None,
        info=VIEW_INFO + subject_id.encode("utf-8"),
    ).derive(dek)
    return material[:32], material[32:]


def forget_view_keys(_subject: str) -> None:
    """Drop every memoised view key (the cache's arguments are DEKs): called when a
    subject is shredded, so no copy of its DEK stays in this process."""
    _view_keys.cache_clear()


def _forget_remembered(_subject: str) -> None:
    """The key stores' shred listener for the remembering ciphers: each forgets."""
    for cipher in list(_REMEMBERING):
        cipher.forget()


class FieldCipher:
    """Seals and opens the personal fields of one view row under its subject's key."""

    def __init__(self, keystore: KeyStore, *, remember: bool = False) -> None:
        self.keystore = keystore
        # remember=True (the projector, for one batch): what this cipher sealed, so that
        # opening it again (a handler merging a change into a row's fields it sealed
        # earlier in the batch) skips the decryption; `forget()` drops it, as a shred does
        self._sealed: dict[tuple[str, str, str, bytes], str] | None = {} if remember else None
        register = getattr(keystore, "on_shred", None)
        # remember=True, with a key store that tells of shreds: each (key_ref, subject)'s
        # ciphers, set up once per batch instead of per field (a DEK lookup, an HKDF and an
        # AES key schedule each); dropped by `forget`, so by a shred too
        self._ciphers: dict[tuple[str, str], tuple[AESGCM, bytes]] | None = (
            {} if remember and register is not None else None
        )
        if register is not None:  # test doubles of the key store have no shredding
            register(forget_view_keys)
            if remember:
                # one listener for every remembering cipher (a projector made per request
                # adds none), forgetting what each live one remembers
                _REMEMBERING.add(self)
                register(_forget_remembered)

    def forget(self) -> None:
        """Drop what this cipher remembers of what it sealed, and the keys it set up."""
        if self._sealed is not None:
            self._sealed.clear()
        if self._ciphers is not None:
            self._ciphers.clear()

    def _cipher(self, key_ref: str, subject_id: str) -> tuple[AESGCM, bytes]:
        """(AES-GCM under the subject's view key, nonce key); SubjectErased once shredded."""
        memo = self._ciphers
        if memo is not None:
            found = memo.get((key_ref, subject_id))
            if found is not None:
                return found
        enc_key, nonce_key = _view_keys(self.keystore.dek_by_ref(key_ref), subject_id)
        made = (AESGCM(enc_key), nonce_key)
        if memo is not None:
            if len(memo) >= SEALED_LIMIT:
                memo.clear()
            memo[(key_ref, subject_id)] = made
        return made

    def encrypt(self, key_ref: str, subject_id: str, table: str, data: Mapping[str, Any]) -> bytes:
        """Encrypt `data` (JSON-serialisable) for the row of `subject_id` in `table`.

        Raises SubjectErased when the key was shredded. Deterministic in its inputs.
        """
        aead, nonce_key = self._cipher(key_ref, subject_id)
        plaintext = json.dumps(
            dict(data), sort_keys=True, separators=(",", ":"), ensure_ascii=False
        ).encode("utf-8")
        aad = f"{table}|{subject_id}".encode()
        nonce = hmac.new(nonce_key, aad + b"\x00" + plaintext, hashlib.sha256).digest()
        nonce = nonce[:NONCE_SIZE]
        sealed = SEALED_MAGIC + nonce + aead.encrypt(nonce, plaintext, aad)
        if self._sealed is not None:
            if len(self._sealed) >= SEALED_LIMIT:
                self._sealed.clear()
            self._sealed[(key_ref, subject_id, table, sealed)] = plaintext.decode("utf-8")
        return sealed

    def decrypt(
        self, key_ref: str, subject_id: str, table: str, encrypted: bytes
    ) -> dict[str, Any]:
        """Decrypt what `encrypt` produced; SubjectErased once the subject was shredded."""
        blob = bytes(encrypted)
        if blob[:4] != SEALED_MAGIC or len(blob) < 4 + NONCE_SIZE + 16:
            raise EventAuthenticationFailed("a encrypted view field is malformed")
        aead, _ = self._cipher(key_ref, subject_id)
        if self._sealed is not None:
            # sealed by this cipher in this batch: the same key (still live, as the line
            # above checked), subject, table and bytes, so the same plaintext
            known = self._sealed.get((key_ref, subject_id, table, blob))
            if known is not None:
                opened_again: dict[str, Any] = json.loads(known)
                return opened_again
        aad = f"{table}|{subject_id}".encode()
        nonce = blob[4 : 4 + NONCE_SIZE]
        try:
            plaintext = aead.decrypt(nonce, blob[4 + NONCE_SIZE :], aad)
        except InvalidTag as exc:
            raise EventAuthenticationFailed("a encrypted view field failed authentication") from exc
        opened: dict[str, Any] = json.loads(plaintext)
        return opened

    def try_decrypt(
        self, key_ref: str | None, subject_id: str, table: str, encrypted: bytes | None
    ) -> dict[str, Any] | None:
        """`decrypt`, or None when there is nothing encrypted or the subject was erased."""
        if key_ref is None or encrypted is None:
            return None
        try:
            return self.decrypt(key_ref, subject_id, table, encrypted)
        except SubjectErased:
            return None


def normalise(field: str, value: str) -> str:
    """The canonical form a blind index digests: what a clerk types must match."""
    text = value.strip()
    if field == "name":
        # full-width letters, case and spacing as typed do not matter
        return " ".join(unicodedata.normalize("NFKC", text).casefold().split())
    if field == "phone":
        text = _SEPARATORS.sub("", text)
        return text[1:] if text.startswith("+") else text
    if field == "email":
        return text.lower()
    if field in ("id_number", "account_number"):
        return _SEPARATORS.sub("", text).upper()
    return text


class BlindIndex:
    """Keyed digests for exact-match search on personal fields."""

    def __init__(self, index_key: bytes) -> None:
        self._keys = {
            field: hmac.new(index_key, INDEX_INFO + field.encode(), hashlib.sha256).digest()
            for field in INDEXED_FIELDS
        }
        self._audit_keys = {
            field: hmac.new(index_key, AUDIT_INFO + field.encode(), hashlib.sha256).digest()
            for field in INDEXED_FIELDS
        }

    def digest(self, field: str, value: str | None) -> str | None:
        """The 128-bit hex digest of `value` for `field`; None for no value.

        Guarantees: equal normalised values give equal digests; without the index key
        a digest reveals nothing about the value.
        """
        if value is None:
            return None
        text = normalise(field, str(value))
        if not text:
            return None
        return hmac.new(self._keys[field], text.encode("utf-8"), hashlib.sha256).hexdigest()[:32]

    def audit_digest(self, field: str, value: str) -> str:
        """The keyed digest the access log records of a search for `value` in `field`:
        equal for what `digest` finds equal, but under a key of its own, so it matches
        no view column and reveals nothing without the index key."""
        text = normalise(field, str(value))
        return hmac.new(self._audit_keys[field], text.encode("utf-8"), hashlib.sha256).hexdigest()[
            :32
        ]
