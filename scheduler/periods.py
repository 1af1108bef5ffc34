"""The period a job run covers, derived from the moment it runs.

A period's key names the JobRun stream (uuid5 of job name and key), so the key alone
decides whether a run is new. Keys are computed on the UTC moment, whatever the time
zone the triggers fire in, because the ledger's `today()` is the UTC date of its clock:
a run and the rules it applies always agree on the day.

| Cadence            | Key for a run at 2026-04-01T09:20Z | Covers                      |
|--------------------|------------------------------------|-----------------------------|
| `QUARTER_HOURLY`   | `2026-04-01T09:15`                 | the 15 minutes it runs in   |
| `HOURLY`           | `2026-04-01T09`                    | the hour it runs in         |
| `DAILY`            | `2026-04-01`                       | the day it runs on          |
| `PREVIOUS_MONTH`   | `2026-03`                          | the last complete month     |
| `PREVIOUS_QUARTER` | `2026Q1`                           | the last complete quarter   |
| `QUARTER`          | `2026Q2`                           | the quarter it runs in      |
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from domain.rules.months import add_months


def utc(moment: datetime) -> datetime:
    """`moment` in UTC; a naive moment is refused (ValueError), never guessed."""
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError("job moments must be timezone-aware")
    return moment.astimezone(UTC)


def _month_start(day: date) -> date:
    return day.replace(day=1)


def _quarter_start(day: date) -> date:
    return date(day.year, 3 * ((day.month - 1) // 3) + 1, 1)


@dataclass(frozen=True)
class Cadence:
    """How a job's runs are cut into periods.

    `key(moment)` is the period a run at `moment` records; `earlier(moment)` is a moment
    inside the period before, so callers can walk back through past periods.
    `bounds(moment)` is the [start, end) of days the period covers.
    """

    name: str
    _key: Callable[[datetime], str]
    _earlier: Callable[[datetime], datetime]
    _bounds: Callable[[datetime], tuple[date, date]]

    def key(self, moment: datetime) -> str:
        """The period key of a run at `moment` (UTC)."""
        return self._key(utc(moment))

    def earlier(self, moment: datetime) -> datetime:
        """A moment whose period is the one before `moment`'s."""
        return self._earlier(utc(moment))

    def bounds(self, moment: datetime) -> tuple[date, date]:
        """The first day covered and the first day after the period of `moment`."""
        return self._bounds(utc(moment))


def _day_bounds(m: datetime) -> tuple[date, date]:
    return m.date(), m.date() + timedelta(days=1)


def _previous_month_bounds(m: datetime) -> tuple[date, date]:
    end = _month_start(m.date())
    return add_months(end, -1), end


def _previous_quarter_bounds(m: datetime) -> tuple[date, date]:
    end = _quarter_start(m.date())
    return add_months(end, -3), end


def _quarter_key(m: datetime) -> str:
    start, _ = _previous_quarter_bounds(m)
    return f"{start.year}Q{(start.month - 1) // 3 + 1}"


QUARTER_HOURLY = Cadence(
    "quarter-hour",
    lambda m: f"{m:%Y-%m-%dT%H}:{m.minute // 15 * 15:02d}",
    lambda m: m - timedelta(minutes=15),
    _day_bounds,
)
HOURLY = Cadence(
    "hour",
    lambda m: f"{m:%Y-%m-%dT%H}",
    lambda m: m - timedelta(hours=1),
    _day_bounds,
)
DAILY = Cadence(
    "day",
    lambda m: m.date().isoformat(),
    lambda m: m - timedelta(days=1),
    _day_bounds,
)
PREVIOUS_MONTH = Cadence(
    "previous month",
    lambda m: f"{_previous_month_bounds(m)[0]:%Y-%m}",
    lambda m: datetime.combine(_previous_month_bounds(m)[0], m.timetz()),
    _previous_month_bounds,
)
PREVIOUS_QUARTER = Cadence(
    "previous quarter",
    _quarter_key,
    lambda m: datetime.combine(_previous_quarter_bounds(m)[0], m.timetz()),
    _previous_quarter_bounds,
)


def _quarter_bounds(m: datetime) -> tuple[date, date]:
    start = _quarter_start(m.date())
    return start, add_months(start, 3)


QUARTER = Cadence(
    "quarter",
    lambda m: f"{m.year}Q{(m.month - 1) // 3 + 1}",
    lambda m: datetime.combine(add_months(_quarter_start(m.date()), -3), m.timetz()),
    _quarter_bounds,
)
