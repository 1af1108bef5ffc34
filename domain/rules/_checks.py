"""Input checks shared by the rules; each failure is a RuleError naming the input."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation

from domain.rules.errors import RuleError


def aware_utc(name: str, value: datetime) -> datetime:
    """Return `value` in UTC; a naive datetime is refused because its instant is unknown."""
    if value.tzinfo is None or value.utcoffset() is None:
        raise RuleError(f"{name} must be timezone-aware")
    return value.astimezone(UTC)


def decimal_input(name: str, value: Decimal | int | str) -> Decimal:
    """Return `value` as a finite Decimal; floats and bools are refused (money is exact)."""
    if isinstance(value, bool) or not isinstance(value, (Decimal, int, str)):
        raise RuleError(f"{name} must be a Decimal or an integer, got {type(value).__name__}")
    try:
        result = Decimal(value)
    except InvalidOperation:
        raise RuleError(f"{name} is not a number: {value!r}") from None
    if not result.is_finite():
        raise RuleError(f"{name} must be finite")
    return result


def count_input(name: str, value: int) -> int:
    """Return `value` when it is a non-negative integer (not a bool)."""
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise RuleError(f"{name} must be a non-negative integer, got {value!r}")
    return value


def one_of(name: str, value: str, allowed: tuple[str, ...]) -> str:
    """Return `value` when it is one of `allowed`."""
    if value not in allowed:
        raise RuleError(f"unknown {name} {value!r}; expected one of {', '.join(allowed)}")
    return value
