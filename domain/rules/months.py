"""Calendar-month arithmetic that clamps to the month's last day (Aug 31 + 6 months = Feb 28)."""

from __future__ import annotations

import calendar
from datetime import date


def add_months(d: date, months: int) -> date:
    """Return `d` moved by `months` calendar months, clamped to the target month's last day.

    Guarantees: the result's day is min(d.day, days in the target month); months may be
    negative.
    """
    index = d.year * 12 + (d.month - 1) + months
    year, month0 = divmod(index, 12)
    last_day = calendar.monthrange(year, month0 + 1)[1]
    return date(year, month0 + 1, min(d.day, last_day))


def add_years(d: date, years: int) -> date:
    """Return `d` moved by `years`, with Feb 29 clamped to Feb 28 in a common year."""
    return add_months(d, 12 * years)
