"""Where the console's customer page gets a customer's history: one place.

The whole timeline across the customer's streams (`GET /customers/{id}/timeline`:
profile, KYC, consents, cases, grades, value, erasure ...), with the before/after of
each change, as of a moment if one is picked; through the API, so masked unless
disclosed for the stated purpose (then access-logged there as `customer.timeline`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

import web.console._api as _api

PAGE = 500  # events per API call
MAX_EVENTS = 5000  # shown on one page; the rest is said, never silently dropped


@dataclass(frozen=True)
class Timeline:
    rows: list[dict[str, Any]]
    disclosure: str  # "full" or "masked", as the API said
    problem: str | None = None
    truncated: bool = False


def customer_timeline(customer_id: UUID, purpose: str | None, as_of: datetime | None) -> Timeline:
    """The customer's events, oldest first, each with its field changes (before/after)."""
    rows: list[dict[str, Any]] = []
    after = 0
    disclosure = "masked"
    while True:
        query: dict[str, Any] = {"after": after, "limit": PAGE}
        if as_of is not None:
            query["as_of"] = as_of.astimezone(UTC).isoformat()
        answer = _api.get(f"/customers/{customer_id}/timeline", purpose=purpose, query=query)
        if not answer.ok:
            return Timeline([], "masked", answer.problem)
        disclosure = answer.body["disclosure"]
        rows.extend(answer.body["events"])
        after = answer.body.get("next_after")
        if after is None:
            return Timeline(rows, disclosure)
        if len(rows) >= MAX_EVENTS:
            return Timeline(rows, disclosure, truncated=True)
