"""How far behind each view is, and whether the views are fit to serve (readiness).

Lag in events is the head of the log minus the view's position (exact on SQLite; on
PostgreSQL an id burnt by a failed insert counts too, so it may overstate). Lag in
seconds is 0 for a view at the head; otherwise the time since the view was last
known to be at the head (an upper bound on how stale it is).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from projections.base import ViewProjection
from projections.projector import SHADOW_MARK
from projections.tracking import Position, Tracking

MAX_LAG_EVENTS = 1000
MAX_LAG_SECONDS = 30.0


@dataclass(frozen=True)
class ViewStatus:
    """Where one view stands."""

    name: str
    position: int
    head: int
    lag_events: int
    lag_seconds: float
    skipped: int
    generation: int
    schema_current: bool
    rebuilding_at: int | None
    error: str | None

    @property
    def caught_up(self) -> bool:
        """True at the head of the log."""
        return self.lag_events == 0


@dataclass(frozen=True)
class Readiness:
    """Whether every view is within the lag limits; `reasons` names those that are not."""

    ready: bool
    reasons: tuple[str, ...]
    views: tuple[ViewStatus, ...]


def _seconds_since(stamp: str | None, now: datetime) -> float:
    if stamp is None:
        return float("inf")
    then = datetime.strptime(stamp, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC)
    return max(0.0, (now - then).total_seconds())


def view_statuses(
    tracking: Tracking, projections: list[ViewProjection], head: int
) -> list[ViewStatus]:
    """The status of each view, against the log's `head` notification id."""
    found = tracking.positions()
    now = datetime.now(UTC)
    result = []
    for projection in projections:
        seen = found.get(projection.name) or Position(
            projection.name, 0, 0, "", 0, None, None, None, "not installed"
        )
        lag = max(0, head - seen.position)
        shadow = found.get(projection.name + SHADOW_MARK)
        result.append(
            ViewStatus(
                name=projection.name,
                position=seen.position,
                head=head,
                lag_events=lag,
                lag_seconds=0.0 if lag == 0 else _seconds_since(seen.synced_at, now),
                skipped=seen.skipped,
                generation=seen.generation,
                schema_current=seen.schema_hash == projection.schema_hash(),
                rebuilding_at=None if shadow is None else shadow.position,
                error=seen.error,
            )
        )
    return result


def readiness(
    statuses: list[ViewStatus],
    *,
    max_lag_events: int = MAX_LAG_EVENTS,
    max_lag_seconds: float = MAX_LAG_SECONDS,
) -> Readiness:
    """Ready when every view's schema is current and its lag is within both limits."""
    reasons = []
    for status in statuses:
        if not status.schema_current:
            reasons.append(f"{status.name}: built for another schema, rebuild it")
        elif status.lag_events > max_lag_events:
            reasons.append(f"{status.name}: {status.lag_events} events behind")
        elif status.lag_seconds == float("inf"):
            reasons.append(f"{status.name}: {status.lag_events} events behind, never caught up")
        elif status.lag_seconds > max_lag_seconds:
            reasons.append(f"{status.name}: behind for {status.lag_seconds:.0f} s")
    return Readiness(not reasons, tuple(reasons), tuple(statuses))
