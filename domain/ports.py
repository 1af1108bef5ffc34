"""Ports: what the domain needs from the outside, declared here, implemented elsewhere.

The composition root injects adapters from `security/`; the domain never imports them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol
from uuid import UUID


class SubjectKeys(Protocol):
    """The key store, as far as the domain needs it: crypto-shredding a subject."""

    def shred(self, subject_id: UUID) -> None:
        """Destroy every data key of the subject; afterwards its events cannot be read."""

    def is_shredded(self, subject_id: UUID) -> bool:
        """True once the subject's keys were destroyed."""


class IdentityIndex(Protocol):
    """Keyed digests of identity numbers (one record per person): the same text always
    gives the same digest; without the key a digest says nothing about the text."""

    def digest(self, text: str) -> str:
        """The keyed digest (hex) of a canonical identity text (`domain.identity`)."""


@dataclass(frozen=True)
class EventPosition:
    """Where a stored event sits: its notification id in the event store, and its leaf
    index in the sealed Merkle log (what `/integrity/proof?seq=` takes), None until the
    sealer covers it."""

    notification_id: int
    seq: int | None


class SubjectStreams(Protocol):
    """An index of the store: which streams hold events about a subject, and the log
    positions of their events, without reading the whole log."""

    def streams_of(self, subject_id: UUID) -> Sequence[UUID]:
        """The ids of every stream with at least one event about the subject."""

    def positions(self, stream_ids: Sequence[UUID]) -> Mapping[tuple[UUID, int], EventPosition]:
        """(stream id, version) → position of every stored event of `stream_ids`."""
