"""Errors of the security layer. Messages never contain personal data or key material."""

from __future__ import annotations

from domain.errors import DomainError


class KeyringError(DomainError):
    """The keyring is missing, malformed, or lacks a key that is needed."""

    code = "keyring_error"


class EventAuthenticationFailed(DomainError):
    """A stored event's ciphertext failed AES-GCM authentication: it was changed or moved."""

    code = "event_tampered"


class ConfigurationError(DomainError):
    """The ledger's configuration (env vars, config file) is invalid."""

    code = "configuration_error"
