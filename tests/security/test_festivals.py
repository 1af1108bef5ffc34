"""The festivals' days from the lunar and solar calendars (the `holidays` package)."""

from __future__ import annotations

from datetime import date

import pytest

from security.festivals import PACKAGE_NAMES, FestivalUnknown, festival_dates

pytestmark = pytest.mark.unit


def test_festivals_fall_on_their_lunar_and_solar_days() -> None:
    assert festival_dates(2026) == {
        "spring_festival": date(2026, 2, 17),
        "mid_autumn": date(2026, 9, 25),
        "national_day": date(2026, 10, 1),
    }
    assert festival_dates(2027)["spring_festival"] == date(2027, 2, 6)
    assert festival_dates(2027)["mid_autumn"] == date(2027, 9, 15)
    assert festival_dates(2025)["mid_autumn"] == date(2025, 10, 6)
    assert festival_dates(2035)["spring_festival"] == date(2035, 2, 8)


def test_a_day_with_two_festivals_gives_both() -> None:
    # 1 October 2020 was both the Mid-Autumn Festival and National Day
    days = festival_dates(2020)
    assert days["mid_autumn"] == days["national_day"] == date(2020, 10, 1)


def test_a_festival_the_package_does_not_give_is_an_error_not_a_guess(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setitem(PACKAGE_NAMES, "lantern_festival", "Lantern Festival")
    with pytest.raises(FestivalUnknown, match="lantern_festival in 2026"):
        festival_dates(2026)
