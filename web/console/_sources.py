"""Where the console's customer page gets a customer's history: one place, so the
cross-aggregate timeline service (being built) can replace the API calls here alone.

Today: the customer aggregate's timeline (/customers/{id}/timeline) with the
before/after of each version's field changes (/customers/{id}/changes), both through
the API, masked unless disclosed for the stated purpose (then access-logged there).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any
from uuid import UUID

import web.console._api as _api


@dataclass
class TimelineRow:
    """One event: what, when, who, through which channel, why; its field changes."""

    version: int
    event: str
    at: str
    actor_id: str
    role: str
    channel: str
    reason: str | None
    changes: list[dict[str, Any]] = field(default_factory=list)


@dataclass(frozen=True)
class Timeline:
    rows: list[TimelineRow]
    disclosure: str  # "full" or "masked", as the API said
    problem: str | None = None


def customer_timeline(customer_id: UUID, purpose: str | None) -> Timeline:
    """The customer's events, newest first, each with its before/after changes."""
    events = _api.get(f"/customers/{customer_id}/timeline")
    if not events.ok:
        return Timeline([], "masked", events.problem)
    changes = _api.get(f"/customers/{customer_id}/changes", purpose=purpose, query={"from": 0})
    if not changes.ok:
        return Timeline([], "masked", changes.problem)
    rows = {
        entry["version"]: TimelineRow(
            entry["version"],
            entry["event"],
            entry["at"],
            entry["actor_id"],
            entry["role"],
            entry["channel"],
            entry.get("reason"),
        )
        for entry in events.body["events"]
    }
    for change in changes.body["changes"]:
        row = rows.get(change["version"])
        if row is not None:
            row.changes.append(change)
    ordered = sorted(rows.values(), key=lambda row: row.version, reverse=True)
    return Timeline(ordered, changes.body["disclosure"])
