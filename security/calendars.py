"""The business calendars the ledger counts working days with, from maintained data.

- CN: statutory holidays and adjusted working days (调休) from the `chinese-calendar`
  package, which covers the years its release knows (1.11.0: 2004-2026; the State
  Council publishes the next year's arrangement each autumn and a new release follows).
- HK, UK (England and Wales bank holidays), US (federal holidays): the `holidays`
  package, which computes any year in its range.
- The firm's override file (`LEDGER_CALENDAR_OVERRIDES`, JSON) adds or replaces whole
  years of any jurisdiction: what the packages lack (a year not yet released) or what
  the firm observes differently. Format (docs/rules.md "Business calendars")::

      {"CN": {"2027": {"holidays": ["2027-01-01", ...], "workdays": ["2027-02-06"]}},
       "UK": {"2027": {"holidays": [...]}}}

A year in the file replaces that jurisdiction's package data for the year entirely.
A day in a year neither covers raises `domain.calendars.CalendarNotCovered` (a 503
problem on the API, a failed job with an alert). Start-up (`require_coverage`) refuses
to run when the CURRENT year is uncovered and `/readyz` is then not ready; an uncovered
NEXT year is a warning at start-up and in `/readyz` (still ready: refusing service every
December until the State Council's arrangement is packaged would take a firm down for
nothing), and dates that fall in it fail as above until the year is added.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from domain.calendars import JURISDICTIONS, Calendar, CalendarNotCovered, Calendars, TableCalendar
from domain.settings import RuleSettings
from security.errors import ConfigurationError

OVERRIDES_VARIABLE = "LEDGER_CALENDAR_OVERRIDES"
# The lowest package releases the ledger is built against (pyproject.toml says the same):
# chinese-calendar 1.11.0 is the first release with the 2026 arrangement.
CHINESE_CALENDAR_MIN = "1.11.0"
MEMO_DAYS = 40_000  # package answers a calendar remembers (about a century of days)

_log = logging.getLogger("security.calendars")


@dataclass(frozen=True)
class DataCalendar:
    """One jurisdiction: the firm's override years first, then the package's data."""

    name: str
    package_years: frozenset[int]
    package_is_business_day: Callable[[date], bool]
    overrides: Mapping[int, TableCalendar] = field(default_factory=dict)
    # the package's answers, per day: its data is fixed for the life of the process,
    # and a lookup costs (chinese-calendar scans its tables each time; a registration's
    # risk-rating deadline walks ten or more days)
    _answers: dict[date, bool] = field(default_factory=dict, compare=False, repr=False)

    def covers(self, year: int) -> bool:
        """True when the override file or the package has `year`."""
        return year in self.overrides or year in self.package_years

    def is_business_day(self, day: date) -> bool:
        """The override's answer for its years, else the package's; CalendarNotCovered
        for a year neither has."""
        table = self.overrides.get(day.year)
        if table is not None:
            return table.is_business_day(day)
        answer = self._answers.get(day)
        if answer is not None:
            return answer
        if day.year not in self.package_years:
            raise CalendarNotCovered(self.name, day.year)
        answer = bool(self.package_is_business_day(day))
        if len(self._answers) >= MEMO_DAYS:
            self._answers.clear()
        self._answers[day] = answer  # a dict's item assignment is atomic: thread-safe
        return answer


def _chinese(overrides: Mapping[int, TableCalendar]) -> DataCalendar:
    import chinese_calendar

    years = frozenset(d.year for d in (*chinese_calendar.holidays, *chinese_calendar.workdays))

    def is_business_day(day: date) -> bool:
        return bool(chinese_calendar.is_workday(day))

    return DataCalendar("CN", years, is_business_day, overrides)


def _holidays_package(name: str, overrides: Mapping[int, TableCalendar]) -> DataCalendar:
    import holidays

    country = {"HK": "HK", "UK": "GB", "US": "US"}[name]
    options: dict[str, Any] = {"subdiv": "ENG"} if name == "UK" else {}
    table = holidays.country_holidays(country, **options)
    years = frozenset(range(int(table.start_year), int(table.end_year) + 1))

    def is_business_day(day: date) -> bool:
        return day.weekday() < 5 and day not in table

    return DataCalendar(name, years, is_business_day, overrides)


def _day(raw: object, where: str) -> date:
    if not isinstance(raw, str):
        raise ConfigurationError(f"{where}: a date must be a 'YYYY-MM-DD' string")
    try:
        return date.fromisoformat(raw)
    except ValueError:
        raise ConfigurationError(f"{where}: {raw!r} is not a 'YYYY-MM-DD' date") from None


def parse_overrides(data: object, source: str) -> dict[str, dict[int, TableCalendar]]:
    """The override years per jurisdiction; ConfigurationError with a one-line message
    naming the place at fault for anything malformed."""
    if not isinstance(data, dict):
        raise ConfigurationError(f"calendar overrides {source}: must hold a JSON object")
    found: dict[str, dict[int, TableCalendar]] = {}
    for name, years in data.items():
        if name not in JURISDICTIONS:
            raise ConfigurationError(
                f"calendar overrides {source}: unknown jurisdiction {name!r} "
                f"(one of {', '.join(JURISDICTIONS)})"
            )
        if not isinstance(years, dict):
            raise ConfigurationError(f"calendar overrides {source}: {name} must map years")
        for year_text, entry in years.items():
            where = f"calendar overrides {source}: {name} {year_text}"
            if not (isinstance(year_text, str) and year_text.isdigit() and len(year_text) == 4):
                raise ConfigurationError(f"{where}: the year must be four digits")
            if not isinstance(entry, dict) or set(entry) - {"holidays", "workdays"}:
                raise ConfigurationError(f"{where}: needs only 'holidays' and 'workdays' lists")
            year = int(year_text)
            lists: dict[str, frozenset[date]] = {}
            for key in ("holidays", "workdays"):
                raw = entry.get(key, [])
                if not isinstance(raw, list):
                    raise ConfigurationError(f"{where}: {key!r} must be a list")
                days = frozenset(_day(item, f"{where} {key}") for item in raw)
                if any(d.year != year for d in days):
                    raise ConfigurationError(f"{where}: {key!r} lists a day of another year")
                lists[key] = days
            found.setdefault(name, {})[year] = TableCalendar(
                name, frozenset({year}), lists["holidays"], lists["workdays"]
            )
    return found


def read_overrides(path: str | Path | None) -> dict[str, dict[int, TableCalendar]]:
    """The override file at `path` (none: no overrides), parsed."""
    if path is None:
        return {}
    try:
        with open(path, encoding="utf-8") as handle:
            data = json.load(handle)
    except OSError as exc:
        raise ConfigurationError(
            f"calendar overrides {str(path)!r} cannot be read: {exc.strerror}"
        ) from None
    except json.JSONDecodeError as exc:
        raise ConfigurationError(
            f"calendar overrides {str(path)!r} is not valid JSON: {exc.msg} (line {exc.lineno})"
        ) from None
    return parse_overrides(data, repr(str(path)))


def refuse_table_settings(rules: RuleSettings) -> None:
    """The rule settings' own tables (`holidays`, `workdays`, `uk_holidays`) are what an
    application without data-backed calendars counts with; a ledger process uses these
    calendars, so a changed table would be ignored: refuse it, naming the replacement."""
    defaults = RuleSettings()
    for name in ("holidays", "workdays", "uk_holidays"):
        if getattr(rules, name) != getattr(defaults, name):
            raise ConfigurationError(
                f"rule setting {name!r} is not used by the ledger's business calendars: "
                f"put the dates in {OVERRIDES_VARIABLE} instead"
            )


def load_calendars(overrides_path: str | Path | None = None) -> Calendars:
    """The data-backed calendars of every jurisdiction, with the firm's overrides."""
    overrides = read_overrides(overrides_path)
    built: dict[str, Calendar] = {"CN": _chinese(overrides.get("CN", {}))}
    for name in ("HK", "UK", "US"):
        built[name] = _holidays_package(name, overrides.get(name, {}))
    return Calendars(cn=built["CN"], hk=built["HK"], uk=built["UK"], us=built["US"])


def coverage_problems(calendars: Calendars, today: date) -> list[str]:
    """`<jurisdiction> <year>` for the current year's uncovered calendars (an error)."""
    return calendars.uncovered((today.year,))


def coverage_warnings(calendars: Calendars, today: date) -> list[str]:
    """`<jurisdiction> <year>` for the next year's uncovered calendars (a warning: dates
    in it fail until the year is added)."""
    return calendars.uncovered((today.year + 1,))


def coverage_reason(problems: Iterable[str]) -> str:
    """The one-line reason start-up and /readyz give for uncovered years."""
    return (
        "no business calendar for "
        + ", ".join(problems)
        + f": upgrade the calendar packages or add the years to {OVERRIDES_VARIABLE}"
    )


def require_coverage(calendars: Calendars, today: date) -> None:
    """Start-up: ConfigurationError (one line) when the current year is uncovered; a
    logged warning when the next year is."""
    problems = coverage_problems(calendars, today)
    if problems:
        raise ConfigurationError(coverage_reason(problems))
    warnings = coverage_warnings(calendars, today)
    if warnings:
        _log.warning("%s (dates in it fail until then)", coverage_reason(warnings))


def check_at_startup(overrides_path: str | Path | None, today: date) -> Calendars:
    """What a long-running process (`ledger serve`, `ledger scheduler`) does before it
    starts: load the calendars (a malformed override file is a one-line error) and
    require the current year (ConfigurationError otherwise; the next year: a warning)."""
    calendars = load_calendars(overrides_path)
    require_coverage(calendars, today)
    return calendars
