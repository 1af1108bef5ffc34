"""Ports: what the domain needs from the outside, declared here, implemented elsewhere.

The composition root injects adapters from `security/`; the domain never imports them.
"""

from __future__ import annotations

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
