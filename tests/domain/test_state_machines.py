"""Property tests: any sequence of commands leaves each aggregate in a legal state, and a
refused command records nothing (the stored event count is unchanged)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any
from uuid import UUID

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule

from domain.customer import STATUSES
from domain.errors import DomainError, IllegalTransition
from domain.feedback import STATES as CASE_STATES
from tests.domain.factories import (
    COMPLIANCE,
    FRONT,
    RM,
    SYSTEM,
    Clock,
    RecordingKeys,
    individual,
    new_app,
    recorded,
)

pytestmark = pytest.mark.unit

RUNS = settings(
    max_examples=40,
    stateful_step_count=25,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)

# The FeedbackCase machine exactly as DOMAIN.md states it, written out independently.
CASE_SPEC: dict[str, dict[str, str]] = {
    "received": {"acknowledge": "acknowledged", "withdraw": "withdrawn"},
    "acknowledged": {"investigate": "investigating", "withdraw": "withdrawn"},
    "investigating": {"resolve": "resolved", "withdraw": "withdrawn"},
    "resolved": {"follow_up": "followed_up", "withdraw": "withdrawn"},
    "followed_up": {"close": "closed", "withdraw": "withdrawn"},
    "closed": {"reopen": "reopened"},
    "reopened": {"investigate": "investigating", "withdraw": "withdrawn"},
    "withdrawn": {},
}


class LedgerMachine(RuleBasedStateMachine):
    """Shared plumbing: run a command, and if it is refused check nothing was recorded."""

    def __init__(self) -> None:
        super().__init__()
        self.clock = Clock()
        self.keys = RecordingKeys()
        self.app = new_app(self.clock, subject_keys=self.keys)

    def attempt(self, command: Callable[[], Any]) -> bool:
        before = recorded(self.app)
        try:
            command()
        except DomainError:
            assert recorded(self.app) == before, "a refused command recorded something"
            return False
        return True

    def teardown(self) -> None:
        self.app.close()


class FeedbackCaseMachine(LedgerMachine):
    @initialize()
    def open_case(self) -> None:
        self.customer_id = individual(self.app)
        self.case_id = self.app.receive_feedback(
            self.customer_id, "complaint", "fees", "Charged twice", FRONT
        )
        self.state = "received"
        self.level = 0

    def _move(self, name: str, command: Callable[[], Any]) -> None:
        allowed = name in CASE_SPEC[self.state]
        done = self.attempt(command)
        assert done == allowed, f"{name} from {self.state}: expected allowed={allowed}"
        if done:
            self.state = CASE_SPEC[self.state][name]

    @rule()
    def acknowledge(self) -> None:
        self._move("acknowledge", lambda: self.app.acknowledge_case(self.case_id, FRONT))

    @rule()
    def investigate(self) -> None:
        self._move("investigate", lambda: self.app.start_investigation(self.case_id, RM))

    @rule()
    def resolve(self) -> None:
        self._move("resolve", lambda: self.app.resolve_case(self.case_id, "Refunded", "system", RM))

    @rule()
    def follow_up(self) -> None:
        self._move(
            "follow_up", lambda: self.app.complete_follow_up(self.case_id, RM, method="phone")
        )

    @rule()
    def close(self) -> None:
        self._move("close", lambda: self.app.close_case(self.case_id, RM))

    @rule()
    def reopen(self) -> None:
        self._move("reopen", lambda: self.app.reopen_case(self.case_id, FRONT))

    @rule()
    def withdraw(self) -> None:
        self._move("withdraw", lambda: self.app.withdraw_case(self.case_id, FRONT))

    @rule(repeat=st.integers(min_value=1, max_value=6))
    def the_case_moves_on(self, repeat: int) -> None:
        # Random choice alone seldom gets a case to closed and back: walk the main path.
        commands = {
            "acknowledge": self.acknowledge,
            "investigate": self.investigate,
            "resolve": self.resolve,
            "follow_up": self.follow_up,
            "close": self.close,
            "reopen": self.reopen,
        }
        for _ in range(repeat):
            forward = [name for name in CASE_SPEC[self.state] if name != "withdraw"]
            if not forward:
                return
            commands[forward[0]]()

    @rule(days=st.integers(min_value=0, max_value=20))
    def time_passes_and_the_sla_job_runs(self, days: int) -> None:
        self.clock.advance(days=days)
        self.attempt(lambda: self.app.check_case_escalation(self.case_id, SYSTEM))

    @rule(amount=st.integers(min_value=-5, max_value=500))
    def pay_redress(self, amount: int) -> None:
        allowed = self.state in ("resolved", "followed_up") and amount > 0
        done = self.attempt(lambda: self.app.pay_redress(self.case_id, Decimal(amount), RM))
        assert done == allowed

    @invariant()
    def the_case_is_in_the_state_the_spec_says(self) -> None:
        if hasattr(self, "case_id"):
            case = self.app.get_case(self.case_id)
            assert case.state == self.state
            assert case.state in CASE_STATES
            assert case.escalation_level in (0, 1, 2)
            assert self.app.events_of(self.case_id)[-1].originator_version == case.version


class ConsentMachine(LedgerMachine):
    @initialize()
    def customer(self) -> None:
        self.customer_id = individual(self.app)
        self.state = "none"
        self.notice: str | None = None
        self.valid_to: datetime | None = None
        self.records: set[UUID] = set()

    @rule(notice=st.sampled_from(["2026.1", "2026.2"]), days=st.sampled_from([None, 30, 365]))
    def grant(self, notice: str, days: int | None) -> None:
        allowed = self.state != "granted" or notice != self.notice
        valid_to = None if days is None else self.clock.now + timedelta(days=days)
        holder: list[UUID] = []

        def command() -> None:
            holder.append(
                self.app.grant_consent(
                    self.customer_id,
                    "marketing",
                    FRONT,
                    data_categories=["contact"],
                    notice_version=notice,
                    method="electronic",
                    evidence="web-form",
                    valid_to=valid_to,
                )
            )

        assert self.attempt(command) == allowed
        if allowed:
            assert holder[0] not in self.records  # granting again opens a new record
            self.records.add(holder[0])
            self.state, self.notice, self.valid_to = "granted", notice, valid_to

    @rule()
    def withdraw(self) -> None:
        allowed = self.state == "granted"
        done = self.attempt(lambda: self.app.withdraw_consent(self.customer_id, "marketing", FRONT))
        assert done == allowed
        if done:
            self.state = "withdrawn"

    @rule()
    def the_expiry_job_runs(self) -> None:
        due = (
            self.state == "granted"
            and self.valid_to is not None
            and self.clock.now >= self.valid_to
        )
        before = recorded(self.app)
        assert self.app.expire_consent(self.customer_id, "marketing", SYSTEM) == due
        assert recorded(self.app) == before + (1 if due else 0)
        if due:
            self.state = "expired"

    @rule(days=st.integers(min_value=0, max_value=400))
    def time_passes(self, days: int) -> None:
        self.clock.advance(days=days)

    @invariant()
    def consent_is_live_exactly_when_granted_and_in_time(self) -> None:
        if not hasattr(self, "customer_id"):
            return
        live = self.app.live_consent(self.customer_id, "marketing") is not None
        in_time = self.valid_to is None or self.clock.now < self.valid_to
        assert live == (self.state == "granted" and in_time)
        if self.state != "none":
            assert self.app.get_consent(self.customer_id, "marketing").state == self.state


# Every status change a customer may make (besides staying where it is).
CUSTOMER_EDGES = {
    ("prospect", "active"),
    ("active", "at_risk"),
    ("active", "dormant"),
    ("at_risk", "active"),
    ("at_risk", "dormant"),
    ("dormant", "active"),
    *((live, "ended") for live in ("prospect", "active", "at_risk", "dormant")),
    ("ended", "retention_expired"),
    ("ended", "erased"),  # retention expiry and erasure in one command
    ("retention_expired", "erased"),
    ("prospect", "erased"),  # a prospect never onboarded is erased on request at once
}


class CustomerMachine(LedgerMachine):
    @initialize(prospect=st.booleans())
    def register(self, prospect: bool) -> None:
        self.customer_id = individual(self.app, status="prospect" if prospect else "active")
        self.status = "prospect" if prospect else "active"
        self.trades = 0

    @rule()
    def activate(self) -> None:
        self.attempt(lambda: self.app.activate_customer(self.customer_id, RM))

    @rule()
    def end(self) -> None:
        self.attempt(lambda: self.app.end_relationship(self.customer_id, RM))

    @rule()
    def churn_scan(self) -> None:
        self.attempt(lambda: self.app.scan_churn(self.customer_id, SYSTEM, latest_nps=3))

    @rule()
    def lifecycle_job(self) -> None:
        self.attempt(lambda: self.app.review_lifecycle(self.customer_id, SYSTEM))

    @rule()
    def trade(self) -> None:
        self.trades += 1
        today = self.clock.now.date()
        self.attempt(
            lambda: self.app.record_transactions(
                self.customer_id,
                today,
                today,
                1,
                Decimal(10),
                SYSTEM,
                source_ref=f"t{self.trades}",
            )
        )

    @rule()
    def request_erasure(self) -> None:
        self.attempt(lambda: self.app.request_erasure(self.customer_id, FRONT))

    @rule()
    def withdraw_erasure_request(self) -> None:
        self.attempt(
            lambda: self.app.withdraw_erasure_request(self.customer_id, "withdrawn", COMPLIANCE)
        )

    @rule(ref=st.sampled_from(["h1", "h2"]))
    def place_hold(self, ref: str) -> None:
        self.attempt(lambda: self.app.place_legal_hold(self.customer_id, ref, "court", COMPLIANCE))

    @rule(ref=st.sampled_from(["h1", "h2"]))
    def lift_hold(self, ref: str) -> None:
        self.attempt(lambda: self.app.lift_legal_hold(self.customer_id, ref, COMPLIANCE))

    @rule()
    def retention_job(self) -> None:
        self.attempt(lambda: self.app.expire_retention(self.customer_id, SYSTEM))

    @rule()
    def erase(self) -> None:
        self.attempt(lambda: self.app.erase_customer(self.customer_id, COMPLIANCE))

    @rule(phone=st.sampled_from(["13700000001", "13700000002"]))
    def change_phone(self, phone: str) -> None:
        self.attempt(lambda: self.app.change_profile(self.customer_id, "phone", phone, RM))

    @rule(days=st.sampled_from([1, 90, 181, 2000, 3700]))
    def time_passes(self, days: int) -> None:
        self.clock.advance(days=days)

    @invariant()
    def the_customer_moved_only_along_the_lifecycle(self) -> None:
        if not hasattr(self, "customer_id"):
            return
        view = self.app.get_customer(self.customer_id)
        assert view.status in STATUSES
        if view.status != self.status:
            assert (self.status, view.status) in CUSTOMER_EDGES
            self.status = view.status
        assert view.processing_restricted == (view.erasure_requested_on is not None)
        erased = view.status == "erased"
        assert erased == (self.keys.shredded == [self.customer_id])
        if erased:
            assert view.name is None and view.phone is None and not view.legal_holds


TestFeedbackCaseMachine = RUNS(FeedbackCaseMachine).TestCase
TestConsentMachine = RUNS(ConsentMachine).TestCase
TestCustomerMachine = RUNS(CustomerMachine).TestCase


def test_an_illegal_move_names_both_states() -> None:
    app = new_app()
    customer_id = individual(app)
    case_id = app.receive_feedback(customer_id, "praise", "staff_conduct", "Great help", FRONT)
    with pytest.raises(IllegalTransition) as refused:
        app.close_case(case_id, FRONT)
    assert "received" in refused.value.message and "closed" in refused.value.message
    assert datetime.now(UTC)  # the test itself may read the wall clock; the domain may not
