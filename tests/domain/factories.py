"""Test data for the domain tests: a settable clock, actors and ready-made customers."""

from __future__ import annotations

import functools
import hashlib
import hmac
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any
from uuid import UUID, uuid4

from domain.actor import Actor
from domain.application import LedgerApplication
from domain.calendars import Calendars

POPO = {"PERSISTENCE_MODULE": "eventsourcing.popo"}
START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)  # a Monday

FRONT = Actor("fo-001", "front_office", "branch")
RM = Actor("rm-007", "relationship_manager", "phone")
COMPLIANCE = Actor("co-003", "compliance_officer", "console", "audit request 2026-17")
SYSTEM = Actor("scheduler", "system", "scheduler")


class Clock:
    """A clock the test moves by hand."""

    def __init__(self, start: datetime = START) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> datetime:
        self.now += timedelta(**delta)
        return self.now

    def set(self, when: datetime) -> datetime:
        self.now = when
        return self.now


class RecordingKeys:
    """A SubjectKeys double that remembers what was shredded."""

    def __init__(self) -> None:
        self.shredded: list[UUID] = []

    def shred(self, subject_id: UUID) -> None:
        self.shredded.append(subject_id)

    def is_shredded(self, subject_id: UUID) -> bool:
        return subject_id in self.shredded


class FixedIdentityIndex:
    """An IdentityIndex under a fixed test key: claim ids are the same in every run, so
    a generated ledger is byte-for-byte reproducible."""

    def digest(self, text: str) -> str:
        return hmac.new(b"test identity index", text.encode(), hashlib.sha256).hexdigest()


def new_app(clock: Clock | None = None, **kwargs: Any) -> LedgerApplication:
    """A ledger on in-memory persistence, with the business calendars a ledger process
    gets (the packages' data and the tests' override file)."""
    kwargs.setdefault("identity_index", FixedIdentityIndex())
    kwargs.setdefault("calendars", ledger_calendars())
    return LedgerApplication(env=POPO, clock=clock or Clock(), **kwargs)


@functools.cache
def ledger_calendars() -> Calendars:
    """The data-backed calendars with tests/support/calendar_overrides.json (built once)."""
    from security.calendars import load_calendars
    from tests.conftest import CALENDAR_OVERRIDES

    return load_calendars(CALENDAR_OVERRIDES)


def recorded(app: LedgerApplication) -> int:
    """How many events the ledger holds."""
    return app.recorder.max_notification_id() or 0


def individual(app: LedgerApplication, **overrides: Any) -> UUID:
    """Register an active individual customer with a full profile."""
    profile: dict[str, Any] = {
        "name": "王芳",
        "date_of_birth": date(1985, 6, 15),
        "gender": "female",
        "phone": "13812345678",
        "email": "wang.fang@example.cn",
        "address": "北京市朝阳区建国路88号",
        "occupation": "engineer",
        "income_band": "high",
        "risk_preference": "balanced",
        "branch": "BJ-01",
        "relationship_manager": "rm-007",
    }
    status = overrides.pop("status", "active")
    profile.update(overrides)
    return app.register_customer("individual", profile, FRONT, status=status)


def corporate(app: LedgerApplication, **overrides: Any) -> UUID:
    """Register an active corporate customer."""
    profile: dict[str, Any] = {
        "name": "Shanghai Bright Logistics Co., Ltd.",
        "credit_code": "91310000MA1FL3LQ2X",
        "legal_representative": "李强",
        "company_size": "medium",
        "industry": "logistics",
        "stage": "growth",
        "phone": "02155551234",
        "branch": "SH-02",
    }
    profile.update(overrides)
    return app.register_customer("corporate", profile, FRONT)


def grant_marketing(app: LedgerApplication, customer_id: UUID, purpose: str = "marketing") -> UUID:
    """Grant a live consent for `purpose` (ordinary contact data)."""
    return app.grant_consent(
        customer_id,
        purpose,
        FRONT,
        data_categories=["contact", "preferences"],
        notice_version="2026.1",
        method="electronic",
        evidence="app-consent-7731",
    )


def quarter_of_trades(
    app: LedgerApplication, customer_id: UUID, start: date, count: int, amount: str, ref: str
) -> None:
    """Record a quarter's transaction summary ending 89 days after `start`."""
    app.record_transactions(
        customer_id,
        start,
        start + timedelta(days=89),
        count,
        Decimal(amount),
        SYSTEM,
        products=["deposit", "fund"],
        profit_contribution=Decimal(amount) / 100,
        source_ref=ref,
    )


def trade_on(app: LedgerApplication, customer_id: UUID, day: date, ref: str) -> None:
    """Record a single trade on `day`."""
    app.record_transactions(
        customer_id, day, day, 1, Decimal("250.00"), SYSTEM, products=["fx"], source_ref=ref
    )


def legacy_uk_complaint(app: LedgerApplication, customer_id: UUID, received: datetime) -> UUID:
    """A UK complaint as complaint_deadline/1 recorded it: `due_at` the 3-business-day
    summary window (here 3 days), `final_due_at` the 8-week final response."""
    from domain.feedback import FeedbackCase

    case_id = uuid4()
    legacy = FeedbackCase.blank(case_id, received)
    legacy.receive(
        FRONT,
        received,
        customer_id=customer_id,
        kind="complaint",
        category="fees",
        narrative="Fee",
        source="phone",
        branch=None,
        product=None,
        survey_id=None,
        rule_set="UK",
        complexity="standard",
        received_at=received,
        due_at=received + timedelta(days=3),
        final_due_at=received + timedelta(weeks=8),
        requires_approval=False,
        rule_version="complaint_deadline/1",
        summary_resolution_by=None,
    )
    app.save(legacy)
    return case_id
