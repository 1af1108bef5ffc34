"""Consent liveness: start inclusive, end and withdrawal exclusive."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from domain.rules import RuleError
from domain.rules.consent import consent_has_expired, consent_is_live

pytestmark = pytest.mark.unit

FROM = datetime(2026, 1, 1, tzinfo=UTC)
TO = datetime(2027, 1, 1, tzinfo=UTC)
TICK = timedelta(microseconds=1)


def test_consent_is_live_from_its_first_instant() -> None:
    assert consent_is_live(FROM, TO, None, FROM)
    assert not consent_is_live(FROM, TO, None, FROM - TICK)


def test_consent_expires_at_valid_to() -> None:
    assert consent_is_live(FROM, TO, None, TO - TICK)
    assert not consent_is_live(FROM, TO, None, TO)


def test_open_ended_consent_stays_live() -> None:
    assert consent_is_live(FROM, None, None, FROM + timedelta(days=3650))


def test_withdrawal_ends_consent_at_that_instant() -> None:
    withdrawn = FROM + timedelta(days=10)
    assert consent_is_live(FROM, None, withdrawn, withdrawn - TICK)
    assert not consent_is_live(FROM, None, withdrawn, withdrawn)


def test_instants_in_other_timezones_compare_correctly() -> None:
    beijing = timezone(timedelta(hours=8))
    assert consent_is_live(FROM, TO, None, datetime(2026, 1, 1, 8, 0, tzinfo=beijing))
    assert not consent_is_live(FROM, TO, None, datetime(2026, 1, 1, 7, 59, tzinfo=beijing))


def test_naive_datetime_is_refused() -> None:
    with pytest.raises(RuleError, match="timezone-aware"):
        consent_is_live(FROM, None, None, datetime(2026, 6, 1))


def test_a_consent_has_expired_from_its_end_instant_and_never_without_one() -> None:
    end = datetime(2026, 4, 1, tzinfo=UTC)
    assert not consent_has_expired(end, datetime(2026, 3, 31, 23, 59, tzinfo=UTC))
    assert consent_has_expired(end, end)
    assert not consent_has_expired(None, datetime(2099, 1, 1, tzinfo=UTC))
    with pytest.raises(RuleError):
        consent_has_expired(end, datetime(2026, 4, 2))
