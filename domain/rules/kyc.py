"""KYC timing rules: risk rating deadline, re-verification cycle, ID document expiry."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from domain.calendars import Calendar, add_business_days_in, settings_calendars
from domain.rules._checks import one_of
from domain.rules.months import add_months
from domain.settings import RuleSettings

# /2: working days of the customer's jurisdiction (CN, UK, US; CN when none is recorded),
# not always CN.
RISK_RATING_DEADLINE_VERSION = "risk_rating_deadline/2"
DEFAULT_RATING_CALENDAR = "CN"
REVERIFICATION_DUE_VERSION = "reverification_due/1"
REVERIFICATION_STATUS_VERSION = "reverification_status/1"
ID_DOCUMENT_STATUS_VERSION = "id_document_status/1"
ID_DOCUMENT_EXPIRING_VERSION = "id_document_expiring/1"
RISK_RATING_OVERDUE_VERSION = "risk_rating_overdue/1"

RISK_LEVELS = ("high", "medium", "low")
REVERIFICATION_STATUSES = ("current", "due_soon", "overdue")
ID_DOCUMENT_STATUSES = ("valid", "expiring", "expired")


def reverification_due(risk_level: str, last_verified: date, settings: RuleSettings) -> date:
    """Return the date the next re-verification falls due: last verification plus the cycle.

    Cycles are calendar months by risk level (default high 6, medium 12, low 24), clamped
    to the month's last day. An unknown risk level raises RuleError.
    """
    months = {
        "high": settings.reverification_months_high,
        "medium": settings.reverification_months_medium,
        "low": settings.reverification_months_low,
    }[one_of("risk level", risk_level, RISK_LEVELS)]
    return add_months(last_verified, months)


def reverification_status(due: date, today: date, settings: RuleSettings) -> str:
    """Return "overdue" after `due`, "due_soon" from the window's start (default 30 days
    before) through `due` itself, else "current"."""
    if today > due:
        return "overdue"
    if today >= due - timedelta(days=settings.reverification_due_soon_days):
        return "due_soon"
    return "current"


def risk_rating_deadline(
    registered_on: date, settings: RuleSettings, calendar: Calendar | None = None
) -> date:
    """Return the last day to assign a risk rating: the 10th working day after registration.

    Working days follow `calendar`: the business calendar of the customer's
    jurisdiction (`rating_calendar`) the application was given; without one, the
    settings' own CN tables. The registration day itself is not counted. A walk into a
    year the calendar does not cover raises CalendarNotCovered.
    """
    cn = calendar if calendar is not None else settings_calendars(settings).cn
    return add_business_days_in(registered_on, settings.risk_rating_working_days, cn)


def rating_calendar(jurisdiction: str | None) -> str:
    """Return the jurisdiction whose working days count toward the risk-rating deadline:
    the customer's own, CN when none is recorded."""
    return jurisdiction or DEFAULT_RATING_CALENDAR


def id_document_status(expires_on: date, today: date, settings: RuleSettings) -> str:
    """Return "expired" after `expires_on`, "expiring" from 90 days before it (by default)
    through the expiry day itself, else "valid". The document is valid on its expiry day."""
    if today > expires_on:
        return "expired"
    if today >= expires_on - timedelta(days=settings.id_expiring_days):
        return "expiring"
    return "valid"


@dataclass(frozen=True)
class ReverificationSchedule:
    """A re-verification due date and status, with the inputs and versions behind them."""

    risk_level: str
    last_verified: date
    today: date
    due: date
    status: str
    rule_version: str = f"{REVERIFICATION_DUE_VERSION}+{REVERIFICATION_STATUS_VERSION}"


def reverification_schedule(
    risk_level: str, last_verified: date, today: date, settings: RuleSettings
) -> ReverificationSchedule:
    """Return due date and status together, ready to record on a ReverificationDue event."""
    due = reverification_due(risk_level, last_verified, settings)
    return ReverificationSchedule(
        risk_level=risk_level,
        last_verified=last_verified,
        today=today,
        due=due,
        status=reverification_status(due, today, settings),
    )


def risk_rating_overdue(rating_due_on: date, rated: bool, today: date) -> bool:
    """True when no risk rating was assigned and `today` is after its deadline (the
    deadline day itself is still in time)."""
    return not rated and today > rating_due_on
