"""`ledger scheduler`: APScheduler 3.11 in the foreground, every job on its trigger.

One BlockingScheduler with a thread pool (`workers`), each job at most one instance at
a time, missed runs coalesced into one when they are within the misfire grace time.
A failed run is retried for the same period after `retry_minutes`, up to
`max_attempts` attempts in all. SIGTERM or SIGINT stops the scheduler cleanly:
running jobs stop between two items and record themselves as interrupted (so the
period can be run again), then the ledger is closed and the process exits 0.
"""

from __future__ import annotations

import logging
import signal
import threading
from datetime import datetime, timedelta
from types import FrameType

from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.schedulers.blocking import BlockingScheduler

from scheduler.runner import JobRunner

log = logging.getLogger("scheduler")


def build_scheduler(runner: JobRunner) -> BlockingScheduler:
    """A BlockingScheduler with every enabled job of the runner on its trigger."""
    settings = runner.settings
    scheduler = BlockingScheduler(
        timezone=settings.timezone,
        executors={"default": ThreadPoolExecutor(settings.workers)},
        job_defaults={
            "coalesce": True,
            "max_instances": 1,
            "misfire_grace_time": settings.misfire_grace_seconds,
        },
    )
    for name in settings.enabled():
        scheduler.add_job(
            run_scheduled,
            trigger=settings.trigger(name),
            args=[runner, scheduler, name],
            id=name,
            name=name,
            replace_existing=True,
        )
    return scheduler


def run_scheduled(
    runner: JobRunner,
    scheduler: BlockingScheduler,
    name: str,
    period_at: datetime | None = None,
) -> None:
    """One scheduled (or retried) run; a failure schedules a retry of the same period."""
    outcome = runner.run(name, period_at=period_at, how="retry" if period_at else "scheduled")
    settings = runner.settings
    if outcome.state != "failed" or runner.stop.is_set():
        return
    if outcome.attempt >= settings.max_attempts:
        log.error(
            "job %s period %s: giving up after %d attempts; run it by hand",
            name,
            outcome.period,
            outcome.attempt,
        )
        return
    when = runner.clock.base_now() + timedelta(minutes=settings.retry_minutes)
    log.warning("job %s period %s: retry at %s", name, outcome.period, when.isoformat())
    scheduler.add_job(
        run_scheduled,
        trigger="date",
        run_date=when,
        args=[runner, scheduler, name, outcome.at],
        id=f"{name}:retry:{outcome.period}",
        name=f"{name} (retry {outcome.period})",
        replace_existing=True,
    )


def serve(runner: JobRunner) -> None:
    """Run the scheduler in the foreground until SIGTERM or SIGINT, then stop cleanly."""
    scheduler = build_scheduler(runner)
    stopper: list[threading.Thread] = []

    def on_signal(signum: int, frame: FrameType | None) -> None:
        if stopper:
            return
        log.info("received %s: stopping after the running jobs", signal.Signals(signum).name)
        runner.stop.set()
        # Waiting for running jobs happens off the signal handler, in its own thread.
        thread = threading.Thread(target=scheduler.shutdown, name="scheduler-shutdown")
        stopper.append(thread)
        thread.start()

    previous = {sig: signal.signal(sig, on_signal) for sig in (signal.SIGTERM, signal.SIGINT)}
    try:
        for name in runner.settings.enabled():
            next_run = runner.next_run(name)
            log.info(
                "job %s: cron %s, next run %s",
                name,
                runner.settings.schedules[name].cron,
                next_run.isoformat() if next_run else "never",
            )
        log.info(
            "scheduler %s starting: %d jobs, time zone %s",
            runner.settings.instance_id,
            len(scheduler.get_jobs()),
            runner.settings.timezone,
        )
        scheduler.start()  # blocks until shutdown
    finally:
        for thread in stopper:
            thread.join()
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        runner.close()
        log.info("scheduler %s stopped", runner.settings.instance_id)
