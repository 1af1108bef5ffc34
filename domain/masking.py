"""Masking of personal data for display: pure functions, one per kind of field.

The one masking implementation: the API, the views, the console, exports of what is
not disclosed and the logs all show a personal field through `mask`.

DOMAIN.md: at most 4 visible characters of any identifier, fewer when it is short.
An identifier of n characters (separators dropped) shows `visible_budget(n)`: 4 from
10 characters up, 2 from 6 to 9, 1 from 3 to 5, none under 3 (under 10 characters,
less than a third of it).

- phone: the last digits of the budget (`*******5678`);
- passport, account and card: the last characters of the budget (`********9012`);
- resident ID number (18 or 15 characters): the first character and, for 18, the
  check character (`1****************X`): never the birth date (characters 7-14, or
  7-12 of a 15-character number) nor the sequence digits, whose last (the 17th, or
  the 15th) gives the gender;
- e-mail: the first letter of the local part (when it has 3 or more) and the domain;
- name: the surname only; date of birth: the year; address: the coarsest part;
  amounts and free text: `***`.

Every masked string keeps no more of the original than that, and none of them can be
reversed.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import date
from typing import Any

from domain.personal_data import Masking

STARS = "***"
_CJK = re.compile(r"[\u3400-\u9fff]")
_SEPARATORS = re.compile(r"[\s\-()./]")
# CN resident identity card numbers: 18 characters (6 region, 8 birth date, 3 sequence
# whose last gives the gender, 1 check) or the old 15 (6 region, 6 birth date, 3
# sequence, the last the gender). Any ID number of those lengths is masked as one.
RESIDENT_ID_LENGTHS = (15, 18)
# Care reasons only those who may see health data read; others see that care applies.
SENSITIVE_CARE_REASONS = frozenset({"disabled"})


def visible_budget(length: int) -> int:
    """How many characters of an identifier of `length` characters may stay visible."""
    if length >= 10:
        return 4
    return min(2, length // 3)


def _show(text: str, head: int, tail: int) -> str:
    """`text` with all but its first `head` and last `tail` characters starred."""
    hidden = len(text) - head - tail
    if hidden <= 0:
        return "*" * len(text)
    return text[:head] + "*" * hidden + text[len(text) - tail :]


def _compact(value: str) -> str:
    return _SEPARATORS.sub("", value)


def mask_name(name: str) -> str:
    """Keep the surname only.

    Chinese names ("张伟", "欧阳娜娜"): the first character, then one star per hidden
    character ("张*"). Latin names "Given Family" keep the family name ("*** Smith");
    "Family, Given" keeps the part before the comma. A single Latin word keeps its first
    letter only.
    """
    text = name.strip()
    if not text:
        return ""
    if _CJK.match(text):
        compact = text.replace(" ", "")
        return compact[0] + "*" * (len(compact) - 1)
    if "," in text:
        family = text.split(",", 1)[0].strip()
        return f"{family}, {STARS}"
    parts = text.split()
    if len(parts) == 1:
        return parts[0][0] + STARS
    return f"{STARS} {parts[-1]}"


def mask_phone(phone: str) -> str:
    """Keep the last digits of the budget ("*******5678"); separators are dropped."""
    digits = _compact(phone)
    return _show(digits, 0, visible_budget(len(digits)))


def mask_id_number(id_number: str) -> str:
    """A resident ID number keeps its first character and, at 18 characters, the check
    character ("1****************X"); any other document number (a passport) keeps
    the last characters of the budget ("*******32")."""
    text = _compact(id_number)
    if len(text) in RESIDENT_ID_LENGTHS:
        return _show(text, 1, 1 if len(text) == 18 else 0)
    return _show(text, 0, visible_budget(len(text)))


def mask_card(card_number: str) -> str:
    """An account or card number keeps the last characters of the budget
    ("************1234"; 9 digits or fewer: "*******12")."""
    digits = _compact(card_number)
    return _show(digits, 0, visible_budget(len(digits)))


def mask_email(email: str) -> str:
    """Keep the first letter of the local part and the domain ("w***@example.cn"); a
    local part under 3 characters shows none of it."""
    local, at, domain = email.strip().partition("@")
    if not at:
        return STARS
    return (local[:1] if len(local) >= 3 else "") + STARS + "@" + domain


def mask_address(address: str) -> str:
    """Keep only the coarsest part: a Chinese address's first 3 characters (province or
    city), or a Latin address's last comma-separated part (town or country)."""
    text = address.strip()
    if _CJK.match(text):
        return text[:3] + STARS
    if "," in text:
        return f"{STARS}, {text.rsplit(',', 1)[1].strip()}"
    return STARS


def mask_date_of_birth(value: date | str) -> str:
    """Keep the year only ("1958-**-**")."""
    year = value.year if isinstance(value, date) else str(value)[:4]
    return f"{year}-**-**"


def mask_care_reasons(reasons: Iterable[str]) -> list[str]:
    """Special-care reasons for someone who may not see health data: that care applies
    (`["***"]`), never which reason, so a disability cannot be told from age."""
    return [STARS] if list(reasons) else []


def mask(value: Any, masking: Masking | str) -> Any:
    """Mask `value` as `masking` says; None stays None, `none` returns the value unchanged.

    Amounts and free text are hidden entirely (`***`): any part of them may identify.
    """
    if value is None:
        return None
    kind = Masking(masking)
    if kind is Masking.NONE:
        return value
    if kind is Masking.DATE_OF_BIRTH:
        return mask_date_of_birth(value)
    if kind is Masking.CARE_REASONS:
        return mask_care_reasons([value] if isinstance(value, str) else value)
    text = str(value)
    if kind is Masking.NAME:
        return mask_name(text)
    if kind is Masking.PHONE:
        return mask_phone(text)
    if kind is Masking.ID_NUMBER:
        return mask_id_number(text)
    if kind is Masking.CARD:
        return mask_card(text)
    if kind is Masking.EMAIL:
        return mask_email(text)
    if kind is Masking.ADDRESS:
        return mask_address(text)
    return STARS
