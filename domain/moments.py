"""Moments as people type them: the one parser of ISO 8601 dates and times.

Used by the CLI (`--as-of`, `--since`, `--until`), the scheduler's replays and the
API's query parameters alike, so a moment means the same everywhere.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time

from domain.errors import DomainError


class BadMoment(DomainError):
    """A moment that is not an ISO 8601 date or date-time."""

    code = "bad_moment"


def parse_moment(text: str) -> datetime:
    """An ISO 8601 date (that day at 00:00 UTC) or date-time (UTC when it has no zone),
    returned in UTC.

    Raises BadMoment with a one-line message naming the text.
    """
    value = text.strip()
    try:
        if len(value) == 10:
            return datetime.combine(date.fromisoformat(value), time.min, tzinfo=UTC)
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise BadMoment(f"{text!r} is not an ISO 8601 date or date-time") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    try:
        return moment.astimezone(UTC)
    except OverflowError:
        raise BadMoment(f"{text!r} lies outside the range of dates") from None
