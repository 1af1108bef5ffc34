"""Every scheduled job: its name, what it does, its period and its default trigger.

The name is what `ledger jobs run NAME` takes and what the JobRun stream id is derived
from (with the period key), so names must never change once runs are recorded.
Default triggers are cron expressions in the scheduler's time zone (UTC by default).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

from domain.errors import DomainError
from scheduler import (
    complaint_sla,
    grading,
    holiday_greetings,
    performance,
    quality_reviews,
    relationship_care,
    retention,
    reverification,
    security_checks,
    surveys,
    value_churn,
)
from scheduler.context import JobContext
from scheduler.periods import (
    DAILY,
    HOURLY,
    PREVIOUS_MONTH,
    PREVIOUS_QUARTER,
    QUARTER,
    QUARTER_HOURLY,
    Cadence,
)


class UnknownJob(DomainError):
    """No job has that name."""

    code = "unknown_job"


@dataclass(frozen=True)
class JobSpec:
    """One job: how a run is named, cut into periods, triggered by default and done.

    `lease` is how long a started run holds its period before another scheduler may
    take it over (a run whose process died); it must exceed the job's longest run.
    """

    name: str
    title: str
    cadence: Cadence
    default_cron: str
    run: Callable[[JobContext], None]
    lease: timedelta = timedelta(hours=1)


JOBS: tuple[JobSpec, ...] = (
    JobSpec(
        "reverification",
        "Re-verification by risk rating; ID documents expiring and expired; ratings overdue",
        DAILY,
        "0 1 * * *",
        reverification.run,
        timedelta(hours=2),
    ),
    JobSpec(
        "security_checks",
        "Verify and sign the logs; KEK age, DEK unwrap, unusual reads",
        HOURLY,
        "5 * * * *",
        security_checks.run,
    ),
    JobSpec(
        "integrity_full",
        "Verify both logs in full (every leaf recomputed) and the key store, then sign",
        DAILY,
        "20 3 * * *",
        security_checks.run_full,
        timedelta(hours=2),
    ),
    JobSpec(
        "performance_monthly",
        "KPIs of the month just ended, per branch, staff member and overall",
        PREVIOUS_MONTH,
        "0 3 1 * *",
        performance.evaluate,
        timedelta(hours=6),
    ),
    JobSpec(
        "performance_quarterly",
        "KPIs of the quarter just ended, per branch, staff member and overall",
        PREVIOUS_QUARTER,
        "30 3 1 1,4,7,10 *",
        performance.evaluate,
        timedelta(hours=6),
    ),
    JobSpec(
        "grading",
        "Grade and tier every customer for the quarter just ended",
        PREVIOUS_QUARTER,
        "0 4 1 1,4,7,10 *",
        grading.run,
        timedelta(hours=6),
    ),
    JobSpec(
        "value_churn",
        "Value assessment (RFM, CLV), churn early warning, dormancy",
        DAILY,
        "0 2 * * *",
        value_churn.run,
        timedelta(hours=3),
    ),
    JobSpec(
        "complaint_sla",
        "Escalate complaints at 80 % of their deadline and at breach",
        QUARTER_HOURLY,
        "*/15 * * * *",
        complaint_sla.run,
    ),
    JobSpec(
        "relationship_care",
        "Greetings within consent; special care, follow-ups overdue; consents expired",
        DAILY,
        "0 8 * * *",
        relationship_care.run,
        timedelta(hours=2),
    ),
    JobSpec(
        "surveys",
        "Regular satisfaction surveys: a sample of customers not surveyed lately",
        QUARTER,
        "0 9 2 1,4,7,10 *",
        surveys.run,
        timedelta(hours=3),
    ),
    JobSpec(
        "holiday_greetings",
        "Spring Festival, Mid-Autumn and National Day greetings within consent",
        DAILY,
        "30 8 * * *",
        holiday_greetings.run,
        timedelta(hours=2),
    ),
    JobSpec(
        "quality_reviews",
        "Service standards past their yearly review; improvement plans past their due date",
        DAILY,
        "45 8 * * *",
        quality_reviews.run,
    ),
    JobSpec(
        "retention",
        "Retention expiry; erasure (crypto-shredding) when allowed",
        DAILY,
        "30 2 * * *",
        retention.run,
        timedelta(hours=2),
    ),
)
BY_NAME: dict[str, JobSpec] = {spec.name: spec for spec in JOBS}
DEFAULT_CRONS: dict[str, str] = {spec.name: spec.default_cron for spec in JOBS}


def job(name: str) -> JobSpec:
    """The job called `name`; UnknownJob (listing the names) otherwise."""
    try:
        return BY_NAME[name]
    except KeyError:
        raise UnknownJob(f"no job {name!r}; jobs: {', '.join(BY_NAME)}") from None
