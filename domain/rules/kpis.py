"""Performance KPI formulas. Each returns a Decimal rounded half-even to 4 places, or None
when its denominator is 0 (no basis for a rate, which is not the same as a rate of 0).

Rates are fractions (0.0523 = 5.23 %). Record `KPI_FORMULA_VERSION` with the values.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from decimal import ROUND_HALF_EVEN, Decimal

from domain.rules._checks import count_input, decimal_input
from domain.rules.errors import RuleError
from domain.rules.months import add_months

KPI_FORMULA_VERSION = "kpis/2"  # 2: loyalty counts tenure as well as products
_PLACES = Decimal("0.0001")


def _ratio(numerator: Decimal | int, denominator: Decimal | int) -> Decimal | None:
    if denominator == 0:
        return None
    return (Decimal(numerator) / Decimal(denominator)).quantize(_PLACES, rounding=ROUND_HALF_EVEN)


def _part_of(name: str, part: int, whole_name: str, whole: int) -> None:
    count_input(name, part)
    count_input(whole_name, whole)
    if part > whole:
        raise RuleError(f"{name} ({part}) cannot exceed {whole_name} ({whole})")


def is_loyal(
    joined_on: date | None, products_held: int, end: date, tenure_months: int, min_products: int
) -> bool:
    """Loyalty (8.1): a customer at the period's `end` (exclusive) who joined at least
    `tenure_months` before it and holds at least `min_products` products."""
    count_input("products_held", products_held)
    if joined_on is None:
        return False
    return joined_on <= add_months(end, -tenure_months) and products_held >= min_products


def churn_rate(lost: int, at_start: int) -> Decimal | None:
    """Return customers lost / customers at the start of the period.

    Counts must be non-negative; `lost` may not exceed `at_start` (RuleError).
    """
    _part_of("lost", lost, "at_start", at_start)
    return _ratio(lost, at_start)


def retention_rate(at_end: int, new: int, at_start: int) -> Decimal | None:
    """Return (customers at end - new customers) / customers at start.

    Counts must be non-negative and `new` may not exceed `at_end`, nor the retained
    customers exceed `at_start` (RuleError); so the result lies in 0..1.
    """
    _part_of("new", new, "at_end", at_end)
    _part_of("retained", at_end - new, "at_start", at_start)
    return _ratio(at_end - new, at_start)


def value_uplift(
    values_start: Mapping[str, Decimal], values_end: Mapping[str, Decimal]
) -> Decimal | None:
    """Return (value at end - value at start) / value at start, over customers in both maps.

    Customers who joined or left during the period are ignored on both sides. None when
    no customer is in both or their starting value sums to 0; a negative starting sum
    raises RuleError because the ratio's sign would then mislead.
    """
    common = values_start.keys() & values_end.keys()
    start = sum((decimal_input("value at start", values_start[c]) for c in common), Decimal(0))
    end = sum((decimal_input("value at end", values_end[c]) for c in common), Decimal(0))
    if start < 0:
        raise RuleError("value uplift is undefined for a negative starting value")
    return _ratio(end - start, start)


def complaint_sla_rate(resolved_in_time: int, resolved: int) -> Decimal | None:
    """Return complaints resolved within their deadline / complaints resolved, in 0..1."""
    _part_of("resolved_in_time", resolved_in_time, "resolved", resolved)
    return _ratio(resolved_in_time, resolved)


def first_contact_resolution(resolved_first_contact: int, all_cases: int) -> Decimal | None:
    """Return cases resolved at first contact / all cases, in 0..1."""
    _part_of("resolved_first_contact", resolved_first_contact, "all_cases", all_cases)
    return _ratio(resolved_first_contact, all_cases)
