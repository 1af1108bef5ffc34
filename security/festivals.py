"""The days of the festivals the firm greets customers on (policy 7.1), from maintained data.

Spring Festival (the first day of the first lunar month) and the Mid-Autumn Festival
(the 15th of the eighth lunar month) move on the solar calendar; National Day is 1
October. All three come from the `holidays` package's China calendar, which computes
the lunisolar dates for any year it supports (it is already the ledger's source of HK,
UK and US holidays), so no year needs a table of ours.

The package names each day; a festival is the first day bearing its name (the days off
around it and "observed" days are other names). A year in which a festival cannot be
found raises `FestivalUnknown`, never a guess.
"""

from __future__ import annotations

from datetime import date

import holidays

from domain.errors import DomainError

# The package's English name of each festival's day (language en_US).
PACKAGE_NAMES = {
    "spring_festival": "Chinese New Year (Spring Festival)",
    "mid_autumn": "Mid-Autumn Festival",
    "national_day": "National Day",
}


class FestivalUnknown(DomainError):
    """The calendar package gives no date for a festival in a year."""

    code = "festival_unknown"


def festival_dates(year: int) -> dict[str, date]:
    """Each festival of `PACKAGE_NAMES` and its day in `year`.

    Guarantees: every festival is present, on the first day of `year` the package names
    it (a day may carry several names, e.g. 1 October 2020 was both Mid-Autumn and
    National Day). A festival the package does not give raises FestivalUnknown.
    """
    china = holidays.country_holidays("CN", years=year, language="en_US")
    found: dict[str, date] = {}
    for day in sorted(china):
        names = {name.strip() for name in china.get_list(day)}
        for festival, name in PACKAGE_NAMES.items():
            if name in names and festival not in found:
                found[festival] = day
    missing = sorted(set(PACKAGE_NAMES) - set(found))
    if missing:
        raise FestivalUnknown(
            f"the holidays package gives no date for {', '.join(missing)} in {year}"
        )
    return found
