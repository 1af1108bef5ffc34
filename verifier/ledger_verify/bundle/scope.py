"""manifest.json's `scope`, read strictly (docs/export-format.md, "manifest.json").

The scope decides which completeness checks run, so a scope that is not exactly the
documented shape must fail, never select a weaker check: exactly the members `all`
(a bool), `customers` (a list of distinct canonical UUIDs: lowercase, hyphenated, as
`str(uuid.UUID(x))` writes them), `since` and `until` (null or ISO 8601 date-times,
since < until); `all` true with no customers and no window, else customers or a
window or both. A customer id must be canonical because its map key is the SHA-256
of its exact text: another spelling of the same UUID is another key, which the map
lacks, and its proof of absence would prove nothing about the customer.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Final

CANONICAL_UUID: Final = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
MEMBERS: Final = frozenset({"all", "customers", "since", "until"})


class ScopeError(ValueError):
    """manifest.json's scope is not the documented shape."""


@dataclass(frozen=True)
class Scope:
    """A checked scope: the whole log, or customers and/or a window [since, until)."""

    everything: bool
    customers: tuple[str, ...]
    since: datetime | None
    until: datetime | None

    @property
    def windowed(self) -> bool:
        return self.since is not None or self.until is not None


def aware_time(text: object) -> datetime:
    """An ISO 8601 date-time string as an aware UTC datetime (no zone: UTC);
    ValueError if it is not one, or lies outside the range of UTC datetimes."""
    if not isinstance(text, str):
        raise ValueError("a time is an ISO 8601 string")
    moment = datetime.fromisoformat(text)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    try:
        return moment.astimezone(UTC)
    except OverflowError:
        raise ValueError(f"{text!r} lies outside the range of UTC times") from None


def check_customer(value: object) -> str:
    """`value` if it is a canonical lowercase hyphenated UUID string; ScopeError if not."""
    if not isinstance(value, str) or not CANONICAL_UUID.fullmatch(value):
        raise ScopeError(f"customer {repr(value)[:60]} is not a canonical lowercase UUID")
    return value


def parse_scope(header: dict[str, Any]) -> Scope:
    """The checked scope of manifest.json's members; ScopeError if it is not exactly
    the documented shape (see the module docstring)."""
    scope = header.get("scope")
    if not isinstance(scope, dict):
        raise ScopeError("it is not an object")
    if set(scope) != MEMBERS:
        raise ScopeError(f"it needs exactly the members {', '.join(sorted(MEMBERS))}")
    everything, customers = scope["all"], scope["customers"]
    if not isinstance(everything, bool):
        raise ScopeError("'all' is not true or false")
    if not isinstance(customers, list):
        raise ScopeError("'customers' is not a list")
    checked = tuple(check_customer(c) for c in customers)
    if len(set(checked)) != len(checked):
        raise ScopeError("'customers' names a customer twice")
    try:
        since = None if scope["since"] is None else aware_time(scope["since"])
        until = None if scope["until"] is None else aware_time(scope["until"])
    except ValueError as exc:
        raise ScopeError(f"its window is malformed: {exc}") from None
    if since is not None and until is not None and since >= until:
        raise ScopeError("'since' is not earlier than 'until'")
    windowed = since is not None or until is not None
    if everything and (checked or windowed):
        raise ScopeError("'all' excludes customers and a window")
    if not everything and not (checked or windowed):
        raise ScopeError("it selects nothing: no customers, no window, not 'all'")
    return Scope(everything, checked, since, until)
