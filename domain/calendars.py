"""Business calendars: the protocol the rules count working days with, and a table calendar.

A rule that counts business days (the 10-working-day risk-rating deadline, the UK
complaint deadline) asks a `Calendar` whether a day is a business day. The calendar
knows which years it covers; asked about a day in any other year it raises
`CalendarNotCovered`, never guesses: a year nobody has published holidays for is an
error the operator must fix (a newer calendar package, or the firm's override file),
not a year without holidays.

The data-backed calendars (statutory holidays from maintained packages, the firm's
override file) live outside the domain (`security.calendars`) and are injected into
the application as `Calendars`; the domain itself holds only `TableCalendar`, a
calendar over explicit lists of holidays and adjusted working days per year.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Protocol, runtime_checkable

from domain.errors import DomainError
from domain.settings import RuleSettings

JURISDICTIONS = ("CN", "HK", "UK", "US")
_ONE_DAY = timedelta(days=1)


class CalendarNotCovered(DomainError):
    """A day falls in a year the calendar has no holiday data for."""

    code = "calendar_not_covered"

    def __init__(self, calendar: str, year: int) -> None:
        super().__init__(
            f"the {calendar} business calendar does not cover {year}: install a calendar "
            "package release with that year or add it to LEDGER_CALENDAR_OVERRIDES"
        )
        self.calendar = calendar
        self.year = year


@runtime_checkable
class Calendar(Protocol):
    """Which days are business days in one jurisdiction, for the years it covers."""

    @property
    def name(self) -> str:
        """The jurisdiction's code (CN, HK, UK, US)."""
        ...

    def covers(self, year: int) -> bool:
        """True when the calendar has holiday data for `year`."""
        ...

    def is_business_day(self, day: date) -> bool:
        """True for a working day; CalendarNotCovered for a day in an uncovered year."""
        ...


@dataclass(frozen=True)
class TableCalendar:
    """A calendar from explicit lists: Monday to Friday unless a listed holiday, plus the
    listed working days (a weekend day made a working day, China's 调休). A day listed as
    both is a holiday. Covers exactly `years`."""

    name: str
    years: frozenset[int]
    holidays: frozenset[date] = field(default_factory=frozenset)
    workdays: frozenset[date] = field(default_factory=frozenset)

    def covers(self, year: int) -> bool:
        """True when `year` is one of the table's years."""
        return year in self.years

    def is_business_day(self, day: date) -> bool:
        """Monday-Friday or a listed working day, and not a listed holiday."""
        if day.year not in self.years:
            raise CalendarNotCovered(self.name, day.year)
        if day in self.holidays:
            return False
        return day.weekday() < 5 or day in self.workdays


def table_calendar(
    name: str, years: Iterable[int], holidays: Collection[date], workdays: Collection[date] = ()
) -> TableCalendar:
    """A TableCalendar from any collections."""
    return TableCalendar(name, frozenset(years), frozenset(holidays), frozenset(workdays))


@dataclass(frozen=True)
class Calendars:
    """The business calendar of each jurisdiction the rules count business days in."""

    cn: Calendar
    hk: Calendar
    uk: Calendar
    us: Calendar

    def of(self, jurisdiction: str) -> Calendar:
        """The calendar of `jurisdiction` (one of JURISDICTIONS)."""
        return {"CN": self.cn, "HK": self.hk, "UK": self.uk, "US": self.us}[jurisdiction]

    def uncovered(self, years: Iterable[int]) -> list[str]:
        """`<jurisdiction> <year>` for every calendar and year not covered, in order."""
        return [
            f"{name} {year}"
            for year in years
            for name in JURISDICTIONS
            if not self.of(name).covers(year)
        ]


def add_business_days_in(start: date, n: int, calendar: Calendar) -> date:
    """The `n`th business day after `start` (`start` itself never counts; n = 0 gives
    the first business day on or after `start`). Raises CalendarNotCovered when the walk
    reaches a day of a year the calendar does not cover."""
    if n < 0:
        raise ValueError("n must not be negative")
    current = start
    if n == 0:
        while not calendar.is_business_day(current):
            current += _ONE_DAY
        return current
    counted = 0
    while counted < n:
        current += _ONE_DAY
        if calendar.is_business_day(current):
            counted += 1
    return current


def settings_calendars(settings: RuleSettings) -> Calendars:
    """Calendars from the rule settings' own tables (`holidays`, `workdays`,
    `uk_holidays`), covering only the years those tables list; HK and US cover none.
    What the application counts with when no data-backed calendars are injected."""
    return Calendars(
        cn=table_calendar(
            "CN", {d.year for d in settings.holidays}, settings.holidays, settings.workdays
        ),
        hk=table_calendar("HK", (), ()),
        uk=table_calendar("UK", {d.year for d in settings.uk_holidays}, settings.uk_holidays),
        us=table_calendar("US", (), ()),
    )
