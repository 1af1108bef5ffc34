"""Scheduled job runs: one stream per (job, period), so no period is recorded twice.

started -> completed | failed; a failed run, or a started one whose lease ran out (its
process died), may start again as a new attempt; a completed run never restarts.
"""

from __future__ import annotations

from datetime import datetime

from domain.actor import Actor
from domain.errors import IllegalTransition
from domain.events import LedgerAggregate, LedgerEvent, OpeningEvent


class JobRunStarted(OpeningEvent):
    job: str
    period: str
    attempt: int
    lease_until: datetime

    def apply(self, aggregate: JobRun) -> None:
        aggregate.job = self.job
        aggregate.period = self.period
        aggregate.attempt = self.attempt
        aggregate.state = "started"
        aggregate.lease_until = self.lease_until
        aggregate.started_at = self.occurred_at


class JobRunCompleted(LedgerEvent):
    summary: dict[str, int | str]

    def apply(self, aggregate: JobRun) -> None:
        aggregate.state = "completed"
        aggregate.summary = dict(self.summary)
        aggregate.finished_at = self.occurred_at


class JobRunFailed(LedgerEvent):
    error: str

    def apply(self, aggregate: JobRun) -> None:
        aggregate.state = "failed"
        aggregate.error = self.error
        aggregate.finished_at = self.occurred_at


class JobRun(LedgerAggregate):
    """The run of one job for one period."""

    def __init__(self) -> None:
        self.job: str | None = None
        self.period: str | None = None
        self.attempt = 0
        self.state = ""
        self.lease_until: datetime | None = None
        self.started_at: datetime | None = None
        self.finished_at: datetime | None = None
        self.summary: dict[str, int | str] = {}
        self.error: str | None = None

    def can_start(self, at: datetime) -> bool:
        """True when a (new attempt at the) run may start now."""
        if self.state in ("", "failed"):
            return True
        if self.state == "started":
            return self.lease_until is not None and at >= self.lease_until
        return False

    def start(
        self, job: str, period: str, lease_until: datetime, actor: Actor, at: datetime
    ) -> None:
        """Start an attempt; refused for a completed run or one still running."""
        if not self.can_start(at):
            raise IllegalTransition(f"the run is {self.state}")
        self._record(
            JobRunStarted,
            actor,
            at,
            job=job,
            period=period,
            attempt=self.attempt + 1,
            lease_until=lease_until,
        )

    def complete(self, summary: dict[str, int | str], actor: Actor, at: datetime) -> None:
        """started -> completed."""
        if self.state != "started":
            raise IllegalTransition(f"a run cannot complete when {self.state or 'not started'}")
        self._record(JobRunCompleted, actor, at, summary=summary)

    def fail(self, error: str, actor: Actor, at: datetime) -> None:
        """started -> failed (the error text must not hold personal data)."""
        if self.state != "started":
            raise IllegalTransition(f"a run cannot fail when {self.state or 'not started'}")
        self._record(JobRunFailed, actor, at, error=error[:2000])
