"""Domain exceptions: each carries a stable code and a human message.

The web layer maps them to RFC 9457 problem+json in one place; the CLI prints the
message and exits non-zero. Messages never contain personal data.
"""

from __future__ import annotations


class DomainError(Exception):
    """Base of every error the domain raises on purpose."""

    code: str = "domain_error"

    def __init__(self, message: str, *, code: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code


class NotFound(DomainError):
    """The named aggregate does not exist."""

    code = "not_found"


class SubjectErased(DomainError):
    """The subject's data key was destroyed (crypto-shredding): its events cannot be read."""

    code = "subject_erased"


class KeyUnavailable(DomainError):
    """An event's data key cannot be found or unwrapped (not an erasure)."""

    code = "key_unavailable"


class VersionConflict(DomainError):
    """A write named an aggregate version that is no longer the latest."""

    code = "version_conflict"


class ValidationFailed(DomainError):
    """A command's inputs are invalid; `errors` maps each field to what is wrong with it."""

    code = "validation_failed"

    def __init__(self, errors: dict[str, str], message: str | None = None) -> None:
        super().__init__(message or "invalid input: " + ", ".join(sorted(errors)))
        self.errors = dict(errors)


class IllegalTransition(DomainError):
    """The command is not allowed in the aggregate's current state; nothing was recorded."""

    code = "illegal_transition"


class AlreadyExists(DomainError):
    """An aggregate with that id was already recorded."""

    code = "already_exists"


class NotPermitted(DomainError):
    """The actor's role may not give this command."""

    code = "not_permitted"


class ConsentRequired(DomainError):
    """No live consent covers the purpose of this contact or processing."""

    code = "consent_required"


class ProcessingRestricted(DomainError):
    """The customer's processing is restricted (erasure requested); only what law requires."""

    code = "processing_restricted"


class LegalHoldActive(DomainError):
    """A legal hold blocks the erasure of this customer."""

    code = "legal_hold_active"


class RetentionRunning(DomainError):
    """The retention period has not run out: the customer cannot be erased yet."""

    code = "retention_running"


class BusinessSuspended(DomainError):
    """Business with the customer is suspended (identity document expired) until restored."""

    code = "business_suspended"


class C3DataRefused(DomainError):
    """Authentication data (password, PIN, card security code, login biometrics) is never stored."""

    code = "c3_refused"


class SubjectKeysUnavailable(DomainError):
    """Erasure needs the key store (crypto-shredding), and none was configured."""

    code = "subject_keys_unavailable"
