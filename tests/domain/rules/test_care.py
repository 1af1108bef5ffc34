"""Elderly care: age on a date, the 60+ flag, the 90-day follow-up; festival greetings."""

from __future__ import annotations

from datetime import date

import pytest

from domain.rules import RuleError
from domain.rules.care import (
    age_on,
    care_follow_up_due,
    care_follow_up_overdue,
    festivals_on,
    greeting_text,
    is_elderly,
    next_care_follow_up,
)
from domain.settings import RuleSettings, SettingsError, parse_rule_settings, settings_as_dict

pytestmark = pytest.mark.unit

S = RuleSettings()
BORN = date(1966, 5, 20)


def test_customer_turning_60_today_is_elderly() -> None:
    assert age_on(BORN, date(2026, 5, 20)) == 60
    assert is_elderly(BORN, date(2026, 5, 20), S)


def test_customer_turning_60_tomorrow_is_not_yet_elderly() -> None:
    assert age_on(BORN, date(2026, 5, 19)) == 59
    assert not is_elderly(BORN, date(2026, 5, 19), S)


def test_leap_day_birthday_counts_from_march_1_in_a_common_year() -> None:
    born = date(1964, 2, 29)
    assert age_on(born, date(2025, 2, 28)) == 60
    assert age_on(born, date(2025, 3, 1)) == 61
    assert age_on(born, date(2024, 2, 29)) == 60


def test_age_before_birth_is_refused() -> None:
    with pytest.raises(RuleError):
        age_on(BORN, date(1966, 5, 19))


def test_elderly_age_is_configurable() -> None:
    assert not is_elderly(BORN, date(2026, 5, 20), RuleSettings(elderly_age=65))


def test_next_follow_up_is_90_days_after_the_last_visit() -> None:
    assert next_care_follow_up(date(2026, 1, 1), S) == date(2026, 4, 1)


def test_the_follow_up_is_due_from_the_last_visit_else_from_the_flagging() -> None:
    flagged = date(2026, 3, 2)
    assert care_follow_up_due(None, flagged, S) == date(2026, 5, 31)
    assert care_follow_up_due(date(2026, 8, 31), flagged, S) == date(2026, 8, 31)
    assert care_follow_up_due(None, None, S) is None
    assert care_follow_up_due(None, flagged, RuleSettings(elderly_follow_up_days=30)) == date(
        2026, 4, 1
    )
    assert not care_follow_up_overdue(date(2026, 5, 31), date(2026, 5, 31))
    assert care_follow_up_overdue(date(2026, 5, 31), date(2026, 6, 1))


def test_festivals_on_gives_the_configured_festivals_of_the_day_in_order() -> None:
    days = {
        "spring_festival": date(2020, 1, 25),
        "mid_autumn": date(2020, 10, 1),
        "national_day": date(2020, 10, 1),
    }
    assert festivals_on(date(2020, 10, 1), days, RuleSettings()) == (
        "mid_autumn",
        "national_day",
    )
    only = RuleSettings(greeting_festivals=("national_day",))
    assert festivals_on(date(2020, 10, 1), days, only) == ("national_day",)
    assert festivals_on(date(2020, 1, 25), days, only) == ()
    assert festivals_on(date(2020, 1, 25), days, RuleSettings(greeting_festivals=())) == ()


def test_a_configured_festival_without_a_day_is_an_error_not_a_skip() -> None:
    with pytest.raises(RuleError):
        festivals_on(date(2020, 1, 25), {"mid_autumn": date(2020, 10, 1)}, RuleSettings())


def test_the_festival_list_is_configured_by_name_only() -> None:
    settings = parse_rule_settings(None, {"LEDGER_RULE_GREETING_FESTIVALS": "mid_autumn"})
    assert settings.greeting_festivals == ("mid_autumn",)
    assert settings_as_dict(settings)["greeting_festivals"] == ["mid_autumn"]
    with pytest.raises(SettingsError, match="greeting_festivals"):
        parse_rule_settings({"greeting_festivals": ["easter"]})
    with pytest.raises(SettingsError, match="greeting_festivals"):
        RuleSettings(greeting_festivals=("mid_autumn", "mid_autumn"))


def test_greetings_are_written_in_the_customers_language_zh_cn_by_default() -> None:
    assert greeting_text("spring_festival", None) == greeting_text("spring_festival", "zh-CN")
    assert greeting_text("spring_festival", "en") != greeting_text("spring_festival", "zh-CN")
    assert greeting_text("anniversary", "en") is None
