"""Masking of personal data for display: pure functions, one per kind of field.

DOMAIN.md: name, surname only; phone, first 3 + last 4; ID number, first 3 + last 4;
card, first 6 + last 4. Every masked string keeps no more of the original than that,
and none of them can be reversed.
"""

from __future__ import annotations

import re
from datetime import date
from typing import Any

from domain.personal_data import Masking

STARS = "***"
_CJK = re.compile(r"[\u3400-\u9fff]")
_SEPARATORS = re.compile(r"[\s\-()./]")


def _keep(text: str, head: int, tail: int) -> str:
    # Shorter than what would be kept: reveal nothing rather than nearly everything.
    if len(text) <= head + tail:
        return "*" * len(text)
    return text[:head] + "*" * (len(text) - head - tail) + text[len(text) - tail :]


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
    """Keep the first 3 and last 4 digits ("138****5678"); separators are dropped."""
    return _keep(_SEPARATORS.sub("", phone), 3, 4)


def mask_id_number(id_number: str) -> str:
    """Keep the first 3 and last 4 characters ("110***********123X")."""
    return _keep(_SEPARATORS.sub("", id_number), 3, 4)


def mask_card(card_number: str) -> str:
    """Keep the first 6 and last 4 digits ("622202******1234"); short numbers keep less."""
    digits = _SEPARATORS.sub("", card_number)
    if len(digits) <= 10:
        return _keep(digits, 0, 4)
    return _keep(digits, 6, 4)


def mask_email(email: str) -> str:
    """Keep the first character of the local part and the domain ("l***@example.com")."""
    local, at, domain = email.strip().partition("@")
    if not at:
        return STARS
    return (local[:1] + STARS if local else STARS) + "@" + domain


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
