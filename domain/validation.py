"""Field checks shared by the commands: each returns an error text or None, never the value."""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import date
from decimal import Decimal

from domain.errors import ValidationFailed

_PHONE = re.compile(r"^\+?[0-9][0-9 \-]{5,18}[0-9]$")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_CREDIT_CODE = re.compile(r"^[0-9A-HJ-NPQRTUWXY]{2}[0-9]{6}[0-9A-HJ-NPQRTUWXY]{10}$")
_ACCOUNT = re.compile(r"^[0-9]{12,19}$")
_ID_NUMBER = re.compile(r"^[0-9A-Za-z\-]{5,30}$")
_CODE = re.compile(r"^[a-z][a-z0-9_]{0,39}$")


def phone_error(value: str) -> str | None:
    """None when `value` looks like a phone number (7 to 20 digits, optional +)."""
    return None if _PHONE.match(value) else "not a phone number"


def email_error(value: str) -> str | None:
    """None when `value` looks like an e-mail address."""
    return None if _EMAIL.match(value) else "not an e-mail address"


def credit_code_error(value: str) -> str | None:
    """None for an 18-character unified social credit code (GB 32100-2015 alphabet)."""
    return None if _CREDIT_CODE.match(value) else "not a unified social credit code"


def account_error(value: str) -> str | None:
    """None for a 12 to 19 digit account or card number."""
    return None if _ACCOUNT.match(value) else "not an account number"


def id_number_error(value: str) -> str | None:
    """None for an identity document number (5 to 30 letters, digits or hyphens)."""
    return None if _ID_NUMBER.match(value) else "not a document number"


def one_of_error(value: object, allowed: Iterable[str]) -> str | None:
    """None when `value` is one of `allowed`."""
    options = tuple(allowed)
    return None if value in options else "one of " + ", ".join(options)


def codes_error(
    value: object, *, allowed: Iterable[str] | None = None, max_items: int = 20
) -> str | None:
    """None for a list of distinct codes (lower-case letters, digits, underscores, at
    most 40 characters), each one of `allowed` when given, at most `max_items`."""
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        return "must be a list of codes"
    if len(value) > max_items:
        return f"at most {max_items} codes"
    if len(set(value)) != len(value):
        return "must not repeat a code"
    options = None if allowed is None else tuple(allowed)
    for item in value:
        if options is not None and item not in options:
            return "each one of " + ", ".join(options)
        if not _CODE.match(item):
            return "codes are lower-case letters, digits and underscores (at most 40)"
    return None


def text_error(value: object, *, max_length: int = 4000, required: bool = True) -> str | None:
    """None for a string within `max_length` (non-blank when required)."""
    if value is None:
        return "required" if required else None
    if not isinstance(value, str):
        return "must be text"
    if required and not value.strip():
        return "required"
    if len(value) > max_length:
        return f"at most {max_length} characters"
    return None


def amount_error(value: object, *, allow_zero: bool = True) -> str | None:
    """None for a finite, non-negative Decimal (floats are refused: money is exact)."""
    if not isinstance(value, Decimal) or not value.is_finite():
        return "must be a decimal amount"
    if value < 0 or (value == 0 and not allow_zero):
        return "must be positive" if not allow_zero else "must not be negative"
    return None


def past_date_error(value: object, today: date) -> str | None:
    """None for a date not after `today`."""
    if not isinstance(value, date):
        return "must be a date"
    return "must not be in the future" if value > today else None


def check(**errors: str | None) -> None:
    """Raise ValidationFailed with every field whose check returned an error."""
    found = {name: error for name, error in errors.items() if error is not None}
    if found:
        raise ValidationFailed(found)
