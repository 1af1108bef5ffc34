"""Running a job for a period: claim it, do it, record the outcome — exactly once.

Every run of job J for period P is the JobRun stream uuid5(J, P) (`domain.ids.job_run_id`):

- `start_job_run` claims the period. It refuses when P was completed, when another
  scheduler holds it (its lease has not run out), or when another scheduler claimed it
  at the same instant (the store refuses the second write). A refused claim runs
  nothing and records nothing: that is how two schedulers, a retry or a backfill never
  record the same period twice.
- The job then works item by item (`JobContext.each`), each item idempotent, so a
  failed run can be started again (a new attempt of the same stream) and does only the
  rest.
- JobRunCompleted records the summary (counts, no personal data); on failure
  JobRunFailed records the error, a `job_failure` security alert is raised and the
  failure is logged at error level. A run stopped by shutdown is recorded as failed
  ("interrupted") without an alert.

Time comes only from the injected `JobClock`; a run "as of" a moment shifts it.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field
from datetime import datetime

from eventsourcing.persistence import InternalError, OperationalError

from domain.actor import Actor
from domain.errors import DomainError
from domain.events import recording_clock
from domain.ids import job_run_id
from domain.records import JobRunRecord
from domain.services.base import utc_now
from scheduler.clock import JobClock
from scheduler.config import SchedulerSettings, load_scheduler_settings
from scheduler.context import Interrupted, JobContext, JobOptions
from scheduler.periods import utc
from scheduler.registry import DEFAULT_CRONS, JOBS, JobSpec, job
from security.bootstrap import Ledger, Settings, build_ledger

log = logging.getLogger("scheduler")
LOOKBACK_PERIODS = 100
STARTUP_ATTEMPTS = 5


class FutureRun(DomainError):
    """A run by hand, or a replay, for a moment that has not come yet."""

    code = "future_run"


class IncompleteRun(Exception):
    """Some items of the run failed; the run is recorded as failed and can be re-run."""


@dataclass(frozen=True)
class RunOutcome:
    """What became of one run: completed, skipped (already recorded or claimed
    elsewhere), failed or interrupted. `at` is the moment the period was taken from."""

    job: str
    period: str
    state: str
    at: datetime
    attempt: int = 0
    summary: dict[str, int | str] = field(default_factory=dict)
    error: str | None = None


class JobRunner:
    """Runs the registry's jobs against one ledger, recording each period once."""

    def __init__(
        self,
        ledger: Ledger,
        clock: JobClock,
        settings: SchedulerSettings,
        *,
        jobs: tuple[JobSpec, ...] = JOBS,
    ) -> None:
        self.ledger = ledger
        self.clock = clock
        self.settings = settings
        self.jobs = jobs
        self._by_name = {spec.name: spec for spec in jobs}
        self.stop = threading.Event()
        self.options = JobOptions(unusual_reads_per_hour=settings.unusual_reads_per_hour)

    def spec(self, name: str) -> JobSpec:
        """The job called `name`; UnknownJob otherwise."""
        found = self._by_name.get(name)
        return found if found is not None else job(name)

    # --- running -------------------------------------------------------------------

    def run(
        self,
        name: str,
        *,
        as_of: datetime | None = None,
        period_at: datetime | None = None,
        how: str = "scheduled",
    ) -> RunOutcome:
        """Run job `name` for the period of now, of `period_at`, or as of `as_of`.

        `as_of` shifts the ledger's clock to that moment for the run (a backfill): its
        rules see that moment, but its events are dated by the real clock (the moment
        they are about is in their fields and the run's reason), and its lease runs in
        real time. `period_at` only chooses the period (a retry of an earlier period,
        now). Guarantees: the period is recorded at most once, whatever runs
        concurrently; nothing is dated in the past.
        """
        spec = self.spec(name)
        shift: AbstractContextManager[None] = (
            self.clock.shifted_to(utc(as_of)) if as_of is not None else nullcontext()
        )
        with shift, recording_clock(self.clock.base_now):
            moment = utc(period_at) if period_at is not None else self.clock()
            return self._run(spec, moment, how)

    def _run(self, spec: JobSpec, moment: datetime, how: str) -> RunOutcome:
        app = self.ledger.app
        period = spec.cadence.key(moment)
        actor = Actor(
            self.settings.instance_id, "system", "scheduler", f"{how} run of {spec.name} {period}"
        )
        if not app.start_job_run(spec.name, period, actor, lease=spec.lease):
            existing: JobRunRecord | None = app.get_job_run(spec.name, period)
            state = existing.state if existing is not None else "claimed"
            log.info("job %s period %s: skipped, already %s", spec.name, period, state)
            summary = dict(existing.summary) if existing is not None else {}
            return RunOutcome(spec.name, period, "skipped", moment, 0, summary)
        started = app.get_job_run(spec.name, period)
        attempt = started.attempt if started is not None else 1
        ctx = JobContext(
            ledger=self.ledger,
            job=spec.name,
            period=period,
            moment=self.clock(),
            actor=actor,
            run_id=job_run_id(spec.name, period),
            bounds=spec.cadence.bounds(moment),
            options=self.options,
            stop=self.stop,
            log=log,
        )
        log.info("job %s period %s: started (%s, attempt %d)", spec.name, period, how, attempt)
        began = self.clock.base_now()
        try:
            spec.run(ctx)
            if ctx.failures:
                raise IncompleteRun(ctx.failure_summary())
            summary = ctx.summary_record()
            app.complete_job_run(spec.name, period, actor, summary=summary)
        except Interrupted as exc:
            self._record_failure(ctx, str(exc), alert=False)
            log.warning("job %s period %s: interrupted by shutdown", spec.name, period)
            return RunOutcome(spec.name, period, "interrupted", moment, attempt, error=str(exc))
        except Exception as exc:  # any failure is recorded; the period can be run again
            error = f"{type(exc).__name__}: {exc}"[:2000]
            log.error("job %s period %s: failed: %s", spec.name, period, error, exc_info=True)
            self._record_failure(ctx, error, alert=True, attempt=attempt)
            return RunOutcome(spec.name, period, "failed", moment, attempt, error=error)
        seconds = (self.clock.base_now() - began).total_seconds()
        log.info("job %s period %s: completed in %.2fs: %s", spec.name, period, seconds, summary)
        return RunOutcome(spec.name, period, "completed", moment, attempt, summary)

    def _record_failure(
        self, ctx: JobContext, error: str, *, alert: bool, attempt: int = 0
    ) -> None:
        try:
            ctx.app.fail_job_run(ctx.job, ctx.period, error, ctx.actor)
        except Exception:  # the store itself may be what failed: keep the log line
            log.exception(
                "job %s period %s: the failure could not be recorded", ctx.job, ctx.period
            )
        if not alert:
            return
        try:
            ctx.alert(
                "job_failure",
                "critical" if ctx.job == "security_checks" else "warning",
                f"job {ctx.job} period {ctx.period} attempt {attempt} failed: {error}",
                key=f"{ctx.period}:job_failure:{attempt}",
            )
        except Exception:  # as above: the error-level log line stands in for the alert
            log.exception("job %s period %s: the alert could not be recorded", ctx.job, ctx.period)

    def run_by_hand(self, name: str, as_of: datetime | None = None) -> RunOutcome:
        """`ledger jobs run`: run `name` now, or as of a past moment (a backfill).

        Refuses (FutureRun) a moment still to come, whose period would then be taken
        from the scheduler that should run it.
        """
        self.spec(name)
        if as_of is not None and utc(as_of) > self.clock.base_now():
            raise FutureRun(f"--as-of {as_of.isoformat()} is in the future")
        return self.run(name, as_of=as_of, how="backfill" if as_of else "manual")

    # --- replay --------------------------------------------------------------------

    def fire_times(self, start: datetime, end: datetime) -> list[tuple[datetime, JobSpec]]:
        """Every fire time in [start, end) of every enabled job's trigger, in order."""
        found: list[tuple[datetime, int, JobSpec]] = []
        enabled = set(self.settings.enabled())
        for index, spec in enumerate(self.jobs):
            if spec.name not in enabled:
                continue
            trigger = self.settings.trigger(spec.name)
            fire = trigger.get_next_fire_time(None, utc(start))
            while fire is not None and fire < end:
                found.append((utc(fire), index, spec))
                fire = trigger.get_next_fire_time(fire, fire)
        return [(at, spec) for at, _, spec in sorted(found, key=lambda f: (f[0], f[1]))]

    def replay(self, start: datetime, end: datetime) -> Iterator[RunOutcome]:
        """Run every job at each of its fire times in [start, end), as of that time.

        For catching up after downtime, or simulating a day; each period is claimed as
        usual, so concurrent replays and live schedulers still record it once.
        """
        if utc(end) > self.clock.base_now():
            raise FutureRun(f"the replay ends at {end.isoformat()}, in the future")
        for at, spec in self.fire_times(utc(start), utc(end)):
            if self.stop.is_set():
                return
            yield self.run(spec.name, as_of=at, how="replay")

    # --- status --------------------------------------------------------------------

    def last_run(self, name: str) -> JobRunRecord | None:
        """The most recent period of `name` with a JobRun record (any state), looking
        back at most LOOKBACK_PERIODS periods from now."""
        spec = self.spec(name)
        moment = self.clock()
        for _ in range(LOOKBACK_PERIODS):
            view: JobRunRecord | None = self.ledger.app.get_job_run(name, spec.cadence.key(moment))
            if view is not None:
                return view
            moment = spec.cadence.earlier(moment)
        return None

    def next_run(self, name: str) -> datetime | None:
        """When `name` fires next by its trigger; None when it is disabled."""
        self.spec(name)
        if not self.settings.schedules[name].enabled:
            return None
        fire: datetime | None = self.settings.trigger(name).get_next_fire_time(None, self.clock())
        return fire

    def close(self) -> None:
        """Close the ledger."""
        self.ledger.close()


def open_runner(
    config: Settings | None = None,
    settings: SchedulerSettings | None = None,
    *,
    base_clock: Callable[[], datetime] = utc_now,
) -> JobRunner:
    """Build the ledger (the one composition root) with a JobClock over `base_clock`,
    and a runner over it. Configuration defaults to the process environment."""
    ledger_config = config or Settings.from_env()
    scheduler_settings = settings or load_scheduler_settings(
        DEFAULT_CRONS, ledger_config.scheduler_env
    )
    clock = JobClock(base_clock)
    for attempt in range(1, STARTUP_ATTEMPTS + 1):
        try:
            ledger = build_ledger(ledger_config, clock=clock)
            break
        except (InternalError, OperationalError) as exc:
            # Processes starting together on one PostgreSQL schema can collide in the
            # store's CREATE ... IF NOT EXISTS / CREATE OR REPLACE statements ("tuple
            # concurrently updated"); the tables exist after the winner: try again.
            if attempt == STARTUP_ATTEMPTS:
                raise
            log.warning("opening the ledger failed (%s); retrying", exc)
            time.sleep(0.2 * attempt)
    return JobRunner(ledger, clock, scheduler_settings)
