"""Pages, filters and sort orders shared by every view query.

A query builds its WHERE clause with `Where` (only `?` placeholders, never values
in the SQL text), validates the requested sort against the columns it allows
(`order_by`), and returns a `Page`: the items, the total, and the position of the
log the page reflects.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from domain.errors import ValidationFailed

MAX_LIMIT = 200


@dataclass(frozen=True)
class Page:
    """One page of a view query."""

    items: list[dict[str, Any]]
    total: int
    limit: int
    offset: int
    position: int = 0


@dataclass
class Where:
    """AND-ed conditions with their parameters."""

    conditions: list[str] = field(default_factory=list)
    params: list[Any] = field(default_factory=list)

    def add(self, condition: str, *params: Any) -> Where:
        """AND one condition with its parameters."""
        self.conditions.append(condition)
        self.params.extend(params)
        return self

    def equal(self, column: str, value: Any) -> Where:
        """`column = value`, unless value is None (no filter)."""
        if value is not None:
            self.add(f"{column}=?", value)
        return self

    def one_of(self, column: str, values: Sequence[Any]) -> Where:
        """`column IN (...)`; an empty sequence matches nothing."""
        if not values:
            return self.add("1=0")
        marks = ", ".join("?" for _ in values)
        return self.add(f"{column} IN ({marks})", *values)

    @property
    def sql(self) -> str:
        """The WHERE clause (empty without conditions)."""
        return (" WHERE " + " AND ".join(self.conditions)) if self.conditions else ""


def check_page(limit: int, offset: int) -> None:
    """Raise ValidationFailed for a limit outside 1..MAX_LIMIT or a negative offset."""
    errors = {}
    if not 1 <= limit <= MAX_LIMIT:
        errors["limit"] = f"from 1 to {MAX_LIMIT}"
    if offset < 0:
        errors["offset"] = "0 or more"
    if errors:
        raise ValidationFailed(errors)


def order_by(sort: str | None, allowed: Mapping[str, str], default: str, tiebreak: str) -> str:
    """An ORDER BY clause from `sort` ("field" or "-field", comma-separated).

    `allowed` maps public sort names to SQL expressions; anything else raises
    ValidationFailed. NULLs sort last either way; `tiebreak` makes the order total.
    """
    terms = []
    for name in (sort or default).split(","):
        name = name.strip()
        descending = name.startswith("-")
        key = name.lstrip("-")
        if key not in allowed:
            raise ValidationFailed(
                {"sort": f"one of {', '.join(sorted(allowed))}, '-' for descending"}
            )
        expression = allowed[key]
        terms.append(f"({expression}) IS NULL, {expression} {'DESC' if descending else 'ASC'}")
    return " ORDER BY " + ", ".join([*terms, tiebreak])
