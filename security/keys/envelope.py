"""Per-subject envelope encryption of stored events: the ledger's `Mapper`.

Stored `state` layout (the "envelope", all that the events table holds beside the
originator id, version and topic):

    b"CLE1" | compression (1 byte: 0 none, 1 zlib) | len(key_ref) (1 byte) | key_ref
           | nonce (12 bytes) | AES-256-GCM ciphertext with its 16-byte tag

- plaintext = the library transcoder's JSON of the event state, zlib-compressed
  when the compression byte says so;
- event key = HKDF-SHA256(DEK, salt = none, info = UTF-8(originator id as the
  canonical 36-character UUID string) ‖ uint64 big-endian(originator version),
  length 32);
- associated data = UTF-8 of the RFC 8785 JSON of
  {"originator_id", "originator_version", "topic"}, so a ciphertext cannot be
  moved to another event.

This is exactly what a regulator re-does from an export bundle (docs/export-format.md).
"""

from __future__ import annotations

import secrets
import zlib
from dataclasses import dataclass
from typing import Any, cast
from uuid import UUID

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from eventsourcing.domain import DomainEventProtocol
from eventsourcing.persistence import Mapper, StoredEvent, Transcoder
from eventsourcing.utils import get_topic, resolve_topic

from ledger_verify.leaf import (
    associated_data,
    decrypt_payload,
    event_key_from_prk,
    leaf_object,
)
from ledger_verify.leaf import leaf_bytes as encode_leaf
from security.errors import EventAuthenticationFailed
from security.keys.data_keys import KeyStore

MAGIC = b"CLE1"
NONCE_SIZE = 12
COMPRESS_MIN = 160  # below this, zlib rarely pays for its header


@dataclass(frozen=True)
class Envelope:
    """The parsed stored state of one event."""

    key_ref: str
    compression: str  # "zlib" or "none"
    nonce: bytes
    ciphertext: bytes

    def pack(self) -> bytes:
        """The bytes stored in the events table's `state` column."""
        ref = self.key_ref.encode("ascii")
        flag = 1 if self.compression == "zlib" else 0
        return MAGIC + bytes([flag, len(ref)]) + ref + self.nonce + self.ciphertext

    @classmethod
    def unpack(cls, state: bytes) -> Envelope:
        """Parse stored state; raises EventAuthenticationFailed if it is not an envelope."""
        if len(state) < 6 + NONCE_SIZE + 16 or state[:4] != MAGIC or state[4] not in (0, 1):
            raise EventAuthenticationFailed("stored event state is not a ledger envelope")
        ref_len = state[5]
        ref_end = 6 + ref_len
        try:
            key_ref = state[6:ref_end].decode("ascii")
        except UnicodeDecodeError as exc:
            raise EventAuthenticationFailed("stored event key reference is malformed") from exc
        nonce = state[ref_end : ref_end + NONCE_SIZE]
        ciphertext = state[ref_end + NONCE_SIZE :]
        if len(ciphertext) < 16:
            raise EventAuthenticationFailed("stored event ciphertext is truncated")
        return cls(key_ref, "zlib" if state[4] == 1 else "none", nonce, ciphertext)


def leaf_fields(
    seq: int,
    notification_id: int,
    originator_id: UUID | str,
    originator_version: int,
    topic: str,
    state: bytes,
) -> dict[str, Any]:
    """The Merkle leaf object of a stored event (ARCHITECTURE §4), before canonicalising."""
    env = Envelope.unpack(state)
    return leaf_object(
        seq=seq,
        notification_id=notification_id,
        originator_id=originator_id,
        originator_version=originator_version,
        topic=topic,
        key_ref=env.key_ref,
        nonce=env.nonce,
        ciphertext=env.ciphertext,
        compression=env.compression,
    )


def leaf_bytes(
    seq: int,
    notification_id: int,
    originator_id: UUID | str,
    originator_version: int,
    topic: str,
    state: bytes,
) -> bytes:
    """The exact leaf bytes: RFC 8785 canonical JSON of `leaf_fields`."""
    return encode_leaf(
        leaf_fields(seq, notification_id, originator_id, originator_version, topic, state)
    )


def decrypt_with_event_key(
    key: bytes,
    envelope: Envelope,
    originator_id: UUID | str,
    originator_version: int,
    topic: str,
) -> bytes:
    """The transcoder JSON of an event, given its per-event key (as an export discloses)."""
    aad = associated_data(originator_id, originator_version, topic)
    try:
        return decrypt_payload(key, envelope.nonce, envelope.ciphertext, envelope.compression, aad)
    except InvalidTag as exc:
        raise EventAuthenticationFailed(
            f"event {originator_id} v{originator_version} failed authentication"
        ) from exc


class EnvelopeMapper(Mapper[UUID]):
    """Encrypts each event under its subject's key; installed by the ledger factories."""

    def __init__(self, transcoder: Transcoder, keystore: KeyStore) -> None:
        super().__init__(transcoder=transcoder)
        self.keystore = keystore

    def to_stored_event(self, domain_event: DomainEventProtocol[UUID]) -> StoredEvent:
        """Encrypt an event under the DEK of `domain_event.subject_id` (None: system)."""
        topic = get_topic(domain_event.__class__)
        event_state = dict(vars(domain_event))
        originator_id = event_state.pop("originator_id")
        originator_version = event_state.pop("originator_version")
        class_version = getattr(type(domain_event), "class_version", 1)
        if class_version > 1:
            event_state["class_version"] = class_version
        plaintext = self.transcoder.encode(event_state)
        compression = "none"
        if len(plaintext) >= COMPRESS_MIN:
            packed = zlib.compress(plaintext)
            if len(packed) < len(plaintext):
                plaintext, compression = packed, "zlib"
        subject_id = getattr(domain_event, "subject_id", None)
        # the event key from the data key's cached HKDF extract: the same key as
        # event_key(dek, ...), one HMAC instead of two; the id's string form made once
        dek_id, prk = self.keystore.prk_for_subject(
            str(subject_id) if isinstance(subject_id, UUID) else subject_id
        )
        originator = str(originator_id)
        key = event_key_from_prk(prk, originator, originator_version)
        nonce = secrets.token_bytes(NONCE_SIZE)
        ciphertext = AESGCM(key).encrypt(
            nonce, plaintext, associated_data(originator, originator_version, topic)
        )
        return StoredEvent(
            originator_id=originator_id,
            originator_version=originator_version,
            topic=topic,
            state=Envelope(dek_id, compression, nonce, ciphertext).pack(),
        )

    def to_domain_event(self, stored_event: StoredEvent) -> DomainEventProtocol[UUID]:
        """Decrypt and rebuild an event; SubjectErased if its key was shredded."""
        return self.open_event(stored_event, Envelope.unpack(stored_event.state))

    def open_event(
        self, stored_event: StoredEvent, envelope: Envelope
    ) -> DomainEventProtocol[UUID]:
        """`to_domain_event` of a stored event whose state the caller already unpacked
        (`envelope` must be `Envelope.unpack(stored_event.state)`): a batch reader that
        needs the key reference first parses each envelope once."""
        return self.open_with_prk(
            stored_event, envelope, self.keystore.prk_by_ref(envelope.key_ref)
        )

    def open_with_prk(
        self,
        stored_event: StoredEvent,
        envelope: Envelope,
        prk: bytes,
        originator: str | None = None,
    ) -> DomainEventProtocol[UUID]:
        """`open_event` given `self.keystore.prk_by_ref(envelope.key_ref)`, which the
        caller looked up (a batch reader: once per data key and batch, not per event),
        and `originator`, `str(stored_event.originator_id)` when the caller has it."""
        cls = resolve_topic(stored_event.topic)
        if originator is None:
            originator = str(stored_event.originator_id)
        # the event key from the data key's cached HKDF extract: the same key as
        # event_key(dek, ...), one HMAC instead of two
        key = event_key_from_prk(prk, originator, stored_event.originator_version)
        plaintext = decrypt_with_event_key(
            key, envelope, originator, stored_event.originator_version, stored_event.topic
        )
        event_state: dict[str, Any] = self.transcoder.decode(plaintext)
        originator_id = stored_event.originator_id
        event_state["originator_id"] = (
            originator_id if isinstance(originator_id, UUID) else UUID(str(originator_id))
        )
        event_state["originator_version"] = stored_event.originator_version
        class_version = getattr(cls, "class_version", 1)
        from_version = event_state.pop("class_version", 1)
        while from_version < class_version:
            getattr(cls, f"upcast_v{from_version}_v{from_version + 1}")(event_state)
            from_version += 1
        domain_event = object.__new__(cls)
        object.__setattr__(domain_event, "__dict__", event_state)
        return cast(DomainEventProtocol[UUID], domain_event)
