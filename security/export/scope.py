"""What an audit-trail bundle discloses: some customers, a time window, both, or
the whole log (see `security.export.exporter` for how a window treats erased events)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from security.export.errors import ExportScopeError


def aware(moment: datetime | None) -> datetime | None:
    """`moment` with a time zone: a time without zone is taken as UTC."""
    # UTC is the ledger's own zone
    if moment is None or moment.tzinfo is not None:
        return moment
    return moment.replace(tzinfo=UTC)


@dataclass(frozen=True)
class ExportScope:
    """What a bundle discloses. Guarantees on construction: exactly one of
    `everything` or (customers and/or a window); customers are canonical UUID
    strings; times are timezone-aware and `since < until`."""

    customers: tuple[str, ...] = ()
    since: datetime | None = None
    until: datetime | None = None
    everything: bool = False

    def __post_init__(self) -> None:
        if self.everything and (self.customers or self.since or self.until):
            raise ExportScopeError("--all cannot be combined with --customer, --since or --until")
        if not (self.everything or self.customers or self.since or self.until):
            raise ExportScopeError("choose a scope: --customer ID, --since/--until, or --all")
        try:
            customers = tuple(dict.fromkeys(str(UUID(str(c))) for c in self.customers))
        except ValueError as exc:
            raise ExportScopeError("a customer id is not a UUID") from exc
        object.__setattr__(self, "customers", customers)
        object.__setattr__(self, "since", aware(self.since))
        object.__setattr__(self, "until", aware(self.until))
        if self.since and self.until and self.since >= self.until:
            raise ExportScopeError("--since must be earlier than --until")

    @property
    def windowed(self) -> bool:
        return self.since is not None or self.until is not None

    def contains(self, moment: datetime) -> bool:
        """True if `moment` lies in `[since, until)`."""
        moment = aware(moment) or moment
        return (self.since is None or moment >= self.since) and (
            self.until is None or moment < self.until
        )

    def meets(self, low: datetime | None, high: datetime | None) -> bool:
        """True if the interval `[low, high]` (None: unbounded) meets the window."""
        if low is not None and high is not None and low > high:
            low, high = high, low
        return (high is None or self.since is None or high >= self.since) and (
            low is None or self.until is None or low < self.until
        )

    def as_dict(self) -> dict[str, Any]:
        """The scope as recorded in manifest.json and in the AuditTrailExported event."""
        return {
            "all": self.everything,
            "customers": list(self.customers),
            "since": self.since.isoformat() if self.since else None,
            "until": self.until.isoformat() if self.until else None,
        }
