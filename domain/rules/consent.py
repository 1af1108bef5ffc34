"""Whether a consent record permits processing at a given instant."""

from __future__ import annotations

from datetime import datetime

from domain.rules._checks import aware_utc

CONSENT_VERSION = "consent_is_live/1"
CONSENT_EXPIRY_VERSION = "consent_has_expired/1"


def consent_is_live(
    valid_from: datetime, valid_to: datetime | None, withdrawn_at: datetime | None, at: datetime
) -> bool:
    """True when `valid_from <= at`, `at < valid_to` (if set) and `at < withdrawn_at` (if set).

    Start inclusive, end and withdrawal exclusive: at the instant of withdrawal the
    consent is already gone. Naive datetimes raise RuleError.
    """
    instant = aware_utc("at", at)
    if instant < aware_utc("valid_from", valid_from):
        return False
    if valid_to is not None and instant >= aware_utc("valid_to", valid_to):
        return False
    return not (withdrawn_at is not None and instant >= aware_utc("withdrawn_at", withdrawn_at))


def consent_has_expired(valid_to: datetime | None, at: datetime) -> bool:
    """True from the instant `valid_to` is reached (the end is exclusive, as in
    `consent_is_live`); a consent with no end date never expires. Naive datetimes
    raise RuleError."""
    if valid_to is None:
        return False
    return aware_utc("at", at) >= aware_utc("valid_to", valid_to)
