"""Special care for elderly customers: age, the elderly flag, and the follow-up cycle."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime, timedelta

from domain.rules._checks import aware_utc
from domain.rules.errors import RuleError
from domain.settings import RuleSettings

IS_ELDERLY_VERSION = "is_elderly/1"
CARE_FOLLOW_UP_VERSION = "next_care_follow_up/1"
CARE_FOLLOW_UP_DUE_VERSION = "care_follow_up_due/2"
CARE_OVERDUE_VERSION = "care_follow_up_overdue/1"

GREETING_FESTIVALS_VERSION = "greeting_festivals/1"
CRISIS_FIRST_CONTACT_VERSION = "crisis_first_contact/1"

FESTIVALS = ("spring_festival", "mid_autumn", "national_day")
DEFAULT_LANGUAGE = "zh-CN"
# The greeting of each occasion in each language the firm writes in (zh-CN, en).
GREETING_TEXTS: dict[str, dict[str, str]] = {
    "birthday": {"zh-CN": "祝您生日快乐，万事如意！", "en": "Happy birthday from all of us."},
    "spring_festival": {
        "zh-CN": "恭贺新春，阖家幸福，万事如意！",
        "en": "Wishing you a happy and prosperous Spring Festival.",
    },
    "mid_autumn": {
        "zh-CN": "中秋快乐，花好月圆，阖家团圆！",
        "en": "Wishing you and your family a happy Mid-Autumn Festival.",
    },
    "national_day": {"zh-CN": "国庆快乐，祝您假期愉快！", "en": "Happy National Day holiday."},
    "new_year": {"zh-CN": "新年快乐，万事如意！", "en": "Happy New Year."},
}


def age_on(date_of_birth: date, on: date) -> int:
    """Return completed years of age on `on`; the birthday itself counts.

    Someone born on Feb 29 turns a year older on Mar 1 in a common year. A date before
    birth raises RuleError.
    """
    if on < date_of_birth:
        raise RuleError("cannot compute an age before the date of birth")
    before_birthday = (on.month, on.day) < (date_of_birth.month, date_of_birth.day)
    return on.year - date_of_birth.year - int(before_birthday)


def is_elderly(date_of_birth: date, on: date, settings: RuleSettings) -> bool:
    """True from the day the customer reaches `settings.elderly_age` (60) onwards."""
    return age_on(date_of_birth, on) >= settings.elderly_age


def next_care_follow_up(last_visit: date, settings: RuleSettings) -> date:
    """Return the latest date for the next care follow-up: last visit + 90 days (default)."""
    return last_visit + timedelta(days=settings.elderly_follow_up_days)


def care_follow_up_due(
    next_due_after_visit: date | None, flagged_on: date | None, settings: RuleSettings
) -> date | None:
    """Return when the next care follow-up is due: the due date set by the last visit,
    else 90 days (by default) after the special-care flagging; None with neither.

    Version 2: counts from the flagging, never from a later change of the profile
    (version 1 counted from the customer's last modification).
    """
    if next_due_after_visit is not None:
        return next_due_after_visit
    if flagged_on is not None:
        return next_care_follow_up(flagged_on, settings)
    return None


def care_follow_up_overdue(due_on: date, today: date) -> bool:
    """True once `today` is after the due date (the due day itself is still in time)."""
    return today > due_on


def festivals_on(
    today: date, festival_days: Mapping[str, date], settings: RuleSettings
) -> tuple[str, ...]:
    """Return the festivals to greet on `today`: those of `settings.greeting_festivals`
    (default Spring Festival, Mid-Autumn, National Day) whose day in `festival_days`
    (festival -> its day this year, from the lunar and solar calendars) is `today`.

    Guarantees: in the configured order; several when they coincide (1 October 2020
    was both Mid-Autumn and National Day). A configured festival missing from
    `festival_days` raises RuleError rather than being skipped.
    """
    missing = [name for name in settings.greeting_festivals if name not in festival_days]
    if missing:
        raise RuleError(f"no day given for festival {', '.join(missing)}")
    return tuple(name for name in settings.greeting_festivals if festival_days[name] == today)


def greeting_text(occasion: str, language: str | None) -> str | None:
    """Return the firm's greeting for `occasion` in `language` (None: zh-CN, the
    default); None when the firm has no text for the occasion. A language without a
    text of its own falls back to zh-CN."""
    texts = GREETING_TEXTS.get(occasion)
    if texts is None:
        return None
    return texts.get(language or DEFAULT_LANGUAGE, texts[DEFAULT_LANGUAGE])


def crisis_first_contact(opened_at: datetime, settings: RuleSettings) -> datetime:
    """Return when every customer affected by a crisis opened at `opened_at` must have
    been contacted: `settings.crisis_first_contact_hours` (24) later. A contact at that
    very instant is in time. A naive `opened_at` raises RuleError."""
    return aware_utc("opened_at", opened_at) + timedelta(hours=settings.crisis_first_contact_hours)
