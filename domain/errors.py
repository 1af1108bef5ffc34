"""Domain exceptions: each carries a stable code and a human message.

The web layer maps them to RFC 9457 problem+json in one place; the CLI prints the
message and exits non-zero. Messages never contain personal data.
"""

from __future__ import annotations


class DomainError(Exception):
    """Base of every error the domain raises on purpose."""

    code: str = "domain_error"
    status: int = 400  # a hint for the HTTP layer; the domain knows nothing of HTTP

    def __init__(self, message: str, *, code: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code


class NotFound(DomainError):
    """The named aggregate does not exist."""

    code = "not_found"
    status = 404


class SubjectErased(DomainError):
    """The subject's data key was destroyed (crypto-shredding): its events cannot be read."""

    code = "subject_erased"
    status = 410


class KeyUnavailable(DomainError):
    """An event's data key cannot be found or unwrapped (not an erasure)."""

    code = "key_unavailable"
    status = 500


class VersionConflict(DomainError):
    """A write named an aggregate version that is no longer the latest."""

    code = "version_conflict"
    status = 412
