"""Business-day arithmetic over a holiday calendar.

A business day is Monday to Friday and not a holiday; a weekend date listed in
`workdays` (China's make-up working days, 调休) is a business day too. Counting always
starts after the given date: "the 3rd business day after receipt" never counts the day
of receipt, whatever day that was.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import date, timedelta

_ONE_DAY = timedelta(days=1)


def _as_set(days: Collection[date]) -> Collection[date]:
    # Membership is tested once per day walked; a list would make that quadratic.
    return days if isinstance(days, (set, frozenset)) else frozenset(days)


def _is_business_day(d: date, holidays: Collection[date], workdays: Collection[date]) -> bool:
    if d in holidays:
        return False
    return d.weekday() < 5 or d in workdays


def is_business_day(
    d: date, holidays: Collection[date], *, workdays: Collection[date] = ()
) -> bool:
    """True when `d` is Monday-Friday (or a listed make-up workday) and not a holiday.

    A date listed both as holiday and as workday is a holiday.
    """
    return _is_business_day(d, _as_set(holidays), _as_set(workdays))


def add_business_days(
    start: date, n: int, holidays: Collection[date], *, workdays: Collection[date] = ()
) -> date:
    """Return the n-th business day after `start` (before it when n < 0).

    `start` itself is never counted. For n == 0 the result is `start` when that is a
    business day, else the next business day (so n == 0 and n == 1 then agree).
    Guarantees: the result is a business day; it is non-decreasing in `start` and in
    `n`, strictly in `n` for n >= 1; for n >= 1, `business_days_between(start, result) == n`.
    """
    hol, work = _as_set(holidays), _as_set(workdays)
    if n == 0:
        current = start
        while not _is_business_day(current, hol, work):
            current += _ONE_DAY
        return current
    step = _ONE_DAY if n > 0 else -_ONE_DAY
    current, remaining = start, abs(n)
    while remaining:
        current += step
        if _is_business_day(current, hol, work):
            remaining -= 1
    return current


def business_days_between(
    a: date, b: date, holidays: Collection[date], *, workdays: Collection[date] = ()
) -> int:
    """Return how many business days lie after `a` up to and including `b`.

    Negative when `b` is before `a`: `business_days_between(a, b) == -business_days_between(b, a)`,
    and 0 when they are equal.
    """
    if b < a:
        return -business_days_between(b, a, holidays, workdays=workdays)
    hol, work = _as_set(holidays), _as_set(workdays)
    total_days = (b - a).days
    # Whole weeks hold exactly five weekdays; only the holidays and workdays inside the
    # range and the leftover days need looking at one by one.
    weeks, rest = divmod(total_days, 7)
    count = weeks * 5
    for offset in range(1, rest + 1):
        if (a + timedelta(days=weeks * 7 + offset)).weekday() < 5:
            count += 1
    count -= sum(1 for h in hol if a < h <= b and h.weekday() < 5)
    count += sum(1 for w in work if a < w <= b and w.weekday() >= 5 and w not in hol)
    return count
