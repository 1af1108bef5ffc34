"""Complaint deadlines under the CN (default), UK and US rule sets, and their escalation.

What each rule set models:

- CN: one deadline, the handling decision within 15 / 30 / 60 calendar days by
  complexity; a case unresolved at `due_at` is in breach.
- UK (FCA DISP 1.5, 1.6): a complaint resolved by the end of the 3rd business day after
  receipt may be closed with a summary resolution communication
  (`summary_resolution_by`); that window is no deadline. A complaint not resolved in it
  simply continues to the final response, due 8 weeks after receipt (`due_at`): the
  only breach, escalated at 80 % of the 8 weeks.
- US (the CFPB company-response process): a response within 15 days (`due_at`), which
  may be an "in progress" response (an acknowledgement telling the customer how the
  case stands), then the final response within 60 days (`final_due_at`). A case not
  responded to by day 15 breaches the response stage; a case not resolved by day 60
  breaches the final stage.

`due_at` is the instant the first binding deadline runs out. Calendar-day limits run
from the instant of receipt; the UK "end of the 3rd business day" is the midnight (UTC)
that ends that day.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from domain.calendars import Calendar, add_business_days_in, settings_calendars
from domain.rules._checks import aware_utc, one_of
from domain.rules.errors import RuleError
from domain.settings import RuleSettings

# /2: the UK 3-business-day limit is the summary-resolution window, not a deadline;
# `due_at` is the 8-week final response (under /1 it was the window, and the 8 weeks
# `final_due_at`).
COMPLAINT_DEADLINE_VERSION = "complaint_deadline/2"
LEGACY_UK_DEADLINE_VERSION = "complaint_deadline/1"
# /2: escalation follows `binding_deadlines` (no UK summary window; the US response
# stage is met by a response).
ESCALATION_LEVEL_VERSION = "escalation_level/2"
FEEDBACK_DEADLINE_VERSION = "feedback_deadline/1"

RULE_SETS = ("CN", "UK", "US")
# The kinds of feedback, other than complaints, that are answered by a deadline of their own.
ANSWERED_KINDS = ("enquiry", "suggestion")
# An escalation is about the first deadline (`due_at`) or the outer, final one (UK, US).
STAGES = ("response", "final")
COMPLEXITIES = ("standard", "complex", "especially_complex")

NO_ESCALATION = 0
NEAR_DEADLINE = 1
BREACHED = 2


@dataclass(frozen=True)
class ComplaintDeadline:
    """When a complaint must be answered, with the inputs and rule version that set it.

    `final_due_at` is the outer limit where the rule set has two stages (US: final
    response within 60 days); None for CN and UK. `summary_resolution_by` is the UK
    window for a summary resolution (no breach when missed); None for CN and US.
    `requires_approval` marks CN's especially complex cases, which need an approver
    and a notice to the customer.
    """

    received_at: datetime
    rule_set: str
    complexity: str
    due_at: datetime
    final_due_at: datetime | None
    requires_approval: bool
    summary_resolution_by: datetime | None = None
    rule_version: str = COMPLAINT_DEADLINE_VERSION


UK_TIME = ZoneInfo("Europe/London")


def complaint_deadline(
    received_at: datetime,
    rule_set: str,
    complexity: str,
    settings: RuleSettings,
    calendar: Calendar | None = None,
) -> ComplaintDeadline:
    """Return the deadline(s) of a complaint received at `received_at`.

    CN: 15 / 30 / 60 calendar days by complexity. UK: the final response is due 8 weeks
    after receipt; the summary-resolution window ends with the 3rd UK business day
    after the day of receipt, in London time (UK business days of `calendar`, the UK calendar the
    application was given; without one, `settings.uk_holidays`; a year it does not
    cover raises CalendarNotCovered). US: response 15 days, final 60 days after
    receipt; UK and US do not vary with complexity, which is still validated and
    recorded. Guarantees: all datetimes are UTC, `received_at < due_at <= final_due_at`
    and `received_at < summary_resolution_by <= due_at`. An unknown rule set or
    complexity, or a naive `received_at`, raises RuleError.
    """
    received = aware_utc("received_at", received_at)
    one_of("rule set", rule_set, RULE_SETS)
    one_of("complexity", complexity, COMPLEXITIES)
    final_due_at: datetime | None = None
    summary_by: datetime | None = None
    if rule_set == "CN":
        days = {
            "standard": settings.complaint_days_cn_standard,
            "complex": settings.complaint_days_cn_complex,
            "especially_complex": settings.complaint_days_cn_especially_complex,
        }[complexity]
        due_at = received + timedelta(days=days)
    elif rule_set == "UK":
        uk = calendar if calendar is not None else settings_calendars(settings).uk
        # business days are UK days: a complaint received at 00:30 in London is of that
        # London day, and the window ends at midnight in London (DISP 1.5)
        local_day = received.astimezone(UK_TIME).date()
        last_day = add_business_days_in(local_day, settings.complaint_uk_business_days, uk)
        summary_by = datetime.combine(
            last_day + timedelta(days=1), time.min, tzinfo=UK_TIME
        ).astimezone(UTC)
        due_at = received + timedelta(weeks=settings.complaint_uk_final_weeks)
        if due_at < summary_by:
            raise RuleError("UK final response limit falls before the summary-resolution window")
    else:
        due_at = received + timedelta(days=settings.complaint_us_response_days)
        final_due_at = received + timedelta(days=settings.complaint_us_final_days)
    if final_due_at is not None and final_due_at < due_at:
        # Only reachable with settings that make the outer limit shorter than the first.
        raise RuleError(f"{rule_set} final response limit falls before the first deadline")
    return ComplaintDeadline(
        received_at=received,
        rule_set=rule_set,
        complexity=complexity,
        due_at=due_at,
        final_due_at=final_due_at,
        requires_approval=rule_set == "CN" and complexity == "especially_complex",
        summary_resolution_by=summary_by,
    )


def binding_deadlines(
    rule_set: str,
    rule_version: str,
    due_at: datetime | None,
    final_due_at: datetime | None,
    responded: bool,
) -> tuple[tuple[str, datetime], ...]:
    """Return the (stage, deadline) pairs an unresolved case can still breach.

    `responded`: the customer was given a response (the case was acknowledged with how
    it stands). A two-stage case (US) is no longer bound by its response stage once
    responded; its final stage binds until resolved. A UK complaint recorded under
    complaint_deadline/1 (`due_at` was the 3-business-day summary-resolution window) is
    bound by its final response only. Otherwise the single `due_at` binds. Guarantees:
    stages in the order of `STAGES`; no stage whose deadline is None.
    """
    if rule_set == "UK" and rule_version == LEGACY_UK_DEADLINE_VERSION:
        return () if final_due_at is None else (("final", final_due_at),)
    stages: list[tuple[str, datetime]] = []
    if due_at is not None and not (final_due_at is not None and responded):
        stages.append(("response", due_at))
    if final_due_at is not None:
        stages.append(("final", final_due_at))
    return tuple(stages)


def breach_deadline(due_at: datetime | None, final_due_at: datetime | None) -> datetime | None:
    """Return the deadline by which a case must be resolved to be resolved in time: the
    final response where the rule set has one, else `due_at` (None: no deadline)."""
    return final_due_at if final_due_at is not None else due_at


def summary_resolution(resolved_at: datetime, summary_resolution_by: datetime | None) -> bool:
    """Return True when a UK complaint is resolved within its summary-resolution window
    (a summary resolution communication suffices); False otherwise or with no window."""
    at = aware_utc("resolved_at", resolved_at)
    return summary_resolution_by is not None and at < summary_resolution_by


def escalation_level(
    received_at: datetime, due_at: datetime, now: datetime, settings: RuleSettings
) -> int:
    """Return 0 (none), 1 (at least 80 % of the time allowed has elapsed) or 2 (breached).

    Level 1 starts exactly when the elapsed share reaches `settings.escalation_fraction`,
    level 2 exactly at `due_at`. Guarantees: non-decreasing in `now`; compared in whole
    microseconds with the fraction as an exact ratio, so no rounding decides a boundary.
    Naive datetimes or `due_at <= received_at` raise RuleError.
    """
    start = aware_utc("received_at", received_at)
    due = aware_utc("due_at", due_at)
    current = aware_utc("now", now)
    if due <= start:
        raise RuleError("due_at must be after received_at")
    if current >= due:
        return BREACHED
    numerator, denominator = settings.escalation_fraction.as_integer_ratio()
    elapsed = (current - start) // timedelta(microseconds=1)
    allowed = (due - start) // timedelta(microseconds=1)
    if elapsed * denominator >= allowed * numerator:
        return NEAR_DEADLINE
    return NO_ESCALATION


def escalation_at(received_at: datetime, due_at: datetime, settings: RuleSettings) -> datetime:
    """Return the first instant at which `escalation_level` is at least 1 (for scheduling)."""
    start = aware_utc("received_at", received_at)
    due = aware_utc("due_at", due_at)
    if due <= start:
        raise RuleError("due_at must be after received_at")
    numerator, denominator = settings.escalation_fraction.as_integer_ratio()
    allowed = (due - start) // timedelta(microseconds=1)
    # Ceiling division: the earliest whole microsecond that satisfies the rule's inequality.
    micros = -(-allowed * numerator // denominator)
    return start + timedelta(microseconds=micros)


def feedback_deadline(received_at: datetime, kind: str, settings: RuleSettings) -> datetime:
    """Return when an enquiry or a suggestion must be answered (`due_at`).

    Enquiry: `settings.enquiry_response_days` (default 5) calendar days from receipt;
    suggestion: `settings.suggestion_response_days` (default 30). Same for every rule
    set; praise and complaints are not this rule's (praise has no deadline, complaints
    use `complaint_deadline`). Guarantees: UTC and after `received_at`. Another kind or a
    naive `received_at` raises RuleError.
    """
    received = aware_utc("received_at", received_at)
    one_of("kind", kind, ANSWERED_KINDS)
    days = (
        settings.enquiry_response_days if kind == "enquiry" else settings.suggestion_response_days
    )
    return received + timedelta(days=days)
