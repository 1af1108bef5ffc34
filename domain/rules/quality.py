"""Service quality (policy 4.1): when a recorded measurement breaches its standard."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from domain.rules.errors import RuleError
from domain.rules.months import add_months
from domain.settings import RuleSettings

STANDARD_BREACH_VERSION = "standard_breached/1"
STANDARD_REVIEW_VERSION = "standard_review_due/1"

# Times are targets not to exceed; shares and scores are targets to reach.
LOWER_IS_BETTER = ("minutes", "hours", "days")
HIGHER_IS_BETTER = ("percent", "score")


def standard_breached(
    measured: Decimal, target: Decimal, unit: str, settings: RuleSettings
) -> bool:
    """True when `measured` breaches a standard of `target` in `unit`.

    A time (minutes, hours, days) breaches when it exceeds the target by more than
    `settings.standard_breach_tolerance` (a fraction of the target, default 0); a share
    or score (percent, score) when it falls short of the target by more than that
    fraction. Guarantees: a measurement exactly on target never breaches. A negative
    measurement or an unknown unit raises RuleError.
    """
    if measured < 0:
        raise RuleError(f"a measurement cannot be negative, got {measured}")
    allowance = target * settings.standard_breach_tolerance
    if unit in LOWER_IS_BETTER:
        return measured > target + allowance
    if unit in HIGHER_IS_BETTER:
        return measured < target - allowance
    raise RuleError(f"unknown unit {unit!r}")


def standard_review_due(reviewed_on: date, settings: RuleSettings) -> date:
    """Return the last day by which a service standard reviewed (or defined) on
    `reviewed_on` must be reviewed again: `settings.standard_review_months` (default
    12) calendar months later, clamped to the month's end. Guarantees: after
    `reviewed_on`; the due day itself is still in time."""
    return add_months(reviewed_on, settings.standard_review_months)


def standard_review_overdue(reviewed_on: date, today: date, settings: RuleSettings) -> bool:
    """True when a standard last reviewed on `reviewed_on` is past its review due day."""
    return today > standard_review_due(reviewed_on, settings)
