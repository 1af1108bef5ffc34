"""What a job run is given, and how it works through customers one at a time.

A job does its work through `JobContext.each`: every item (a customer, a case, a
scope) is its own write, retried on a version conflict, so a run interrupted or
failing midway leaves whole items behind and a re-run of the period redoes only what
is missing (each job checks what was already recorded for the period). Items that
fail are counted and logged by id; the run then fails, so the period can be run again.
Nothing personal is logged: ids are pseudonymous, counts are counts.
"""

from __future__ import annotations

import logging
import threading
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, TypeVar
from uuid import UUID, uuid5

from domain.actor import Actor
from domain.errors import IllegalTransition, ProcessingRestricted, SubjectErased, VersionConflict
from domain.ids import JOB_NAMESPACE
from security.bootstrap import Ledger

T = TypeVar("T")
ALERT_NAMESPACE = uuid5(JOB_NAMESPACE, "security-alert")
CONFLICT_RETRIES = 3


class Interrupted(Exception):
    """The scheduler is shutting down: the run stopped between two items."""


@dataclass(frozen=True)
class JobOptions:
    """The scheduler settings jobs read (not the policy's rules: those are the app's)."""

    unusual_reads_per_hour: int = 200


@dataclass
class JobContext:
    """One run of one job for one period; `bounds` are the [first, after last) days of it."""

    ledger: Ledger
    job: str
    period: str
    moment: datetime
    actor: Actor
    run_id: UUID
    bounds: tuple[date, date]
    options: JobOptions = field(default_factory=JobOptions)
    stop: threading.Event = field(default_factory=threading.Event)
    log: logging.Logger = field(default_factory=lambda: logging.getLogger("scheduler"))
    summary: Counter[str] = field(default_factory=Counter)
    notes: dict[str, str] = field(default_factory=dict)
    failures: list[str] = field(default_factory=list)  # error class of each failed item

    @property
    def app(self) -> Any:
        """The ledger's application service (a LedgerApplication)."""
        return self.ledger.app

    @property
    def today(self) -> date:
        """The ledger's today: the as-of day of the run."""
        day: date = self.app.today()
        return day

    def count(self, key: str, n: int = 1) -> None:
        """Add `n` to a counter of the run's summary."""
        self.summary[key] += n

    def note(self, key: str, value: str) -> None:
        """Record a short text (no personal data) in the run's summary."""
        self.notes[key] = value[:200]

    def check_stop(self) -> None:
        """Raise Interrupted once shutdown was requested."""
        if self.stop.is_set():
            raise Interrupted(f"{self.job} {self.period} interrupted by shutdown")

    def fail_item(self, item: object, exc: BaseException) -> None:
        """Count a failed item and log it (by id and error class) at error level."""
        self.failures.append(type(exc).__name__)
        self.log.error(
            "job %s period %s: item %s failed: %s: %s",
            self.job,
            self.period,
            item,
            type(exc).__name__,
            exc,
        )

    def attempt(self, item: T, work: Callable[[T], str | None]) -> str | None:
        """Run `work(item)`; retry on a version conflict; return its outcome label.

        Erased or restricted customers give "erased" / "restricted" (not failures);
        any other error is counted by `fail_item` and gives None.
        """
        for tries in range(1, CONFLICT_RETRIES + 1):
            try:
                return work(item)
            except VersionConflict as exc:
                if tries == CONFLICT_RETRIES:
                    self.fail_item(item, exc)
            except SubjectErased:
                return "erased"
            except ProcessingRestricted:
                return "restricted"
            except Interrupted:
                raise
            except Exception as exc:  # a failed item must not stop the others
                self.fail_item(item, exc)
                return None
        return None

    def each(self, items: Iterable[T], work: Callable[[T], str | None], prefix: str) -> None:
        """Apply `work` to every item, counting outcomes as `<prefix>_<outcome>`.

        Stops between items (Interrupted) when shutdown is requested.
        """
        for item in items:
            self.check_stop()
            outcome = self.attempt(item, work)
            if outcome:
                self.count(f"{prefix}_{outcome}")

    def alert(self, kind: str, severity: str, detail: str, *, key: str | None = None) -> bool:
        """Record a security alert once per `key` (default: this period and kind) and log
        it at error level. Returns False when that alert was already recorded."""
        alert_id = uuid5(ALERT_NAMESPACE, f"{self.job}:{key or self.period + ':' + kind}")
        self.log.error(
            "security alert %s (%s) from %s %s: %s", kind, severity, self.job, self.period, detail
        )
        try:
            self.app.raise_security_alert(
                kind, severity, detail, self.actor, job_run_id=self.run_id, alert_id=alert_id
            )
        except IllegalTransition:
            return False
        self.count(f"alerts_{kind}")
        return True

    def alert_warnings(self, kind: str, counter: str, what: str) -> bool:
        """Raise one `warning` alert for this period when the run recorded warning
        events, counted under `counter`; the detail is the count, never a customer.
        Returns False when there were none or that alert was already raised."""
        recorded = self.summary[counter]
        if not recorded:
            return False
        return self.alert(
            kind,
            "warning",
            f"{recorded} {what} recorded by {self.job} {self.period}; see the watch-lists",
        )

    def failure_summary(self) -> str:
        """The failed items as counts per error class (their ids are in the error log)."""
        counts = Counter(self.failures)
        kinds = ", ".join(f"{name} x{n}" for name, n in sorted(counts.items()))
        return f"{len(self.failures)} item(s) failed: {kinds}; their ids are in the error log"

    def summary_record(self) -> dict[str, int | str]:
        """The summary recorded on JobRunCompleted: counters and notes, sorted."""
        record: dict[str, int | str] = {k: v for k, v in sorted(self.summary.items()) if v}
        record.update(sorted(self.notes.items()))
        return record
