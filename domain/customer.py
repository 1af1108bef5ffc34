"""Chapter 1: the customer, its profile, lifecycle, special care and erasure.

Lifecycle: prospect -> active <-> at_risk -> dormant -> ended -> retention_expired ->
erased (dormant customers may come back to active). Independently of the lifecycle, an
erasure request restricts processing to what law requires, and legal holds block
erasure. `CustomerErased` has no subject: it is written after the customer's key is
destroyed and must stay readable.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any
from uuid import UUID

from domain.actor import Actor
from domain.errors import (
    IllegalTransition,
    LegalHoldActive,
    RetentionRunning,
    SubjectErased,
    ValidationFailed,
)
from domain.errors import (
    ProcessingRestricted as ProcessingRestrictedError,
)
from domain.events import LedgerAggregate, LedgerEvent, OpeningEvent
from domain.personal_data import PROFILE_FIELDS

KINDS = ("individual", "corporate")
STATUSES = ("prospect", "active", "at_risk", "dormant", "ended", "retention_expired", "erased")
# Moves through CustomerStatusChanged; ending, retention expiry and erasure have events.
STATUS_MOVES: dict[str, frozenset[str]] = {
    "prospect": frozenset({"active"}),
    "active": frozenset({"at_risk", "dormant"}),
    "at_risk": frozenset({"active", "dormant"}),
    "dormant": frozenset({"active"}),
}
LIVE_STATUSES = frozenset({"prospect", "active", "at_risk", "dormant"})
CARE_REASONS = ("elderly", "disabled")
# The languages the firm writes to customers in; a customer with none set gets the first.
LANGUAGES = ("zh-CN", "en")
# The jurisdiction whose complaint rules govern the customer's cases (as RULE_SETS);
# a customer with none set is CN.
JURISDICTIONS = ("CN", "UK", "US")
# Needs a customer may have (policy 7.1), as codes: C1, internal data. Interests are
# the customer's own codes (hobbies, topics), checked for form only.
NEEDS = (
    "wealth_growth",
    "capital_preservation",
    "retirement",
    "education_funding",
    "home_purchase",
    "insurance_protection",
    "liquidity",
    "cross_border",
    "business_financing",
    "other",
)
CARE_MEASURES = ("priority_channel", "home_service", "periodic_follow_up")
# What a customer under processing restriction still accepts: what law requires
# (AML record keeping and KYC, complaint handling, consent withdrawal, rectification,
# holds, the end of the relationship and the erasure itself).
REQUIRED_BY_LAW = frozenset(
    {
        "kyc",
        "transactions",
        "complaint",
        "consent_withdrawal",
        "rectification",
        "legal_hold",
        "relationship_end",
        "retention",
        "erasure",
    }
)


class CustomerFact(LedgerEvent):
    """An event of the Customer aggregate: its subject is the customer itself."""

    @property
    def subject_id(self) -> UUID | None:
        """The customer: this aggregate's id."""
        return self.originator_id


class CustomerRegistered(CustomerFact, OpeningEvent):
    # v2 adds `jurisdiction` and `language` (profile fields; None when not given).
    class_version = 2

    kind: str
    status: str
    registered_on: date
    name: str
    date_of_birth: date | None
    gender: str | None
    phone: str | None
    email: str | None
    address: str | None
    occupation: str | None
    income_band: str | None
    account_number: str | None
    risk_preference: str | None
    credit_code: str | None
    legal_representative: str | None
    company_size: str | None
    industry: str | None
    stage: str | None
    branch: str
    relationship_manager: str | None
    jurisdiction: str | None
    language: str | None
    source: str

    def apply(self, aggregate: Customer) -> None:
        aggregate.kind = self.kind
        aggregate.status = self.status
        aggregate.registered_on = self.registered_on
        for name in PROFILE_FIELDS:
            setattr(aggregate, name, getattr(self, name))

    @staticmethod
    def upcast_v1_v2(state: dict[str, Any]) -> None:
        """Registrations before v2 named no jurisdiction or language (CN, zh-CN apply)."""
        state.update(jurisdiction=None, language=None)


class ProfileFieldChanged(CustomerFact):
    field: str
    value: Any
    source: str

    def apply(self, aggregate: Customer) -> None:
        setattr(aggregate, self.field, self.value)


class CustomerStatusChanged(CustomerFact):
    from_status: str
    to_status: str
    trigger: str

    def apply(self, aggregate: Customer) -> None:
        aggregate.status = self.to_status


class CustomerClassified(CustomerFact):
    segment: str
    dimensions: dict[str, str]
    rule_version: str

    def apply(self, aggregate: Customer) -> None:
        aggregate.segment = self.segment
        aggregate.segment_dimensions = dict(self.dimensions)


class PreferencesRecorded(CustomerFact):
    """The customer's needs and interests as they stand now (policy 7.1), replacing the
    previous ones: `needs` (codes of NEEDS) and `interests` (codes) are C1; `notes`, in
    the customer's or the staff's words, is personal (C2: masked)."""

    needs: list[str]
    interests: list[str]
    notes: str

    def apply(self, aggregate: Customer) -> None:
        aggregate.needs = list(self.needs)
        aggregate.interests = list(self.interests)
        aggregate.preference_notes = self.notes


class SpecialCareFlagged(CustomerFact):
    reasons: list[str]
    measures: list[str]
    follow_up_days: int | None
    rule_version: str

    def apply(self, aggregate: Customer) -> None:
        if self.reasons and not aggregate.special_care:
            # the care cycle counts from the flagging (or the last visit), never from
            # any later change of the profile
            aggregate.care_flagged_on = self.occurred_at.date()
        elif not self.reasons:
            aggregate.care_flagged_on = None
        aggregate.special_care = sorted(self.reasons)
        aggregate.care_measures = sorted(self.measures)
        aggregate.care_follow_up_days = self.follow_up_days


class RelationshipEnded(CustomerFact):
    ended_on: date
    retention_ends_on: date
    rule_version: str

    def apply(self, aggregate: Customer) -> None:
        aggregate.status = "ended"
        aggregate.relationship_ended_on = self.ended_on
        aggregate.retention_ends_on = self.retention_ends_on


class RelationshipEndChanged(CustomerFact):
    """A correction of the day the relationship ended (the event's `reason` says why)."""

    previous_ended_on: date
    ended_on: date
    retention_ends_on: date
    rule_version: str

    def apply(self, aggregate: Customer) -> None:
        aggregate.relationship_ended_on = self.ended_on
        aggregate.retention_ends_on = self.retention_ends_on


class RetentionExpired(CustomerFact):
    retention_ended_on: date

    def apply(self, aggregate: Customer) -> None:
        aggregate.status = "retention_expired"


class ErasureRequested(CustomerFact):
    requested_on: date

    def apply(self, aggregate: Customer) -> None:
        aggregate.erasure_requested_on = self.requested_on


class ProcessingRestricted(CustomerFact):
    decision: str
    rule_version: str

    def apply(self, aggregate: Customer) -> None:
        aggregate.processing_restricted = True


class ErasureRequestWithdrawn(CustomerFact):
    """The erasure request is withdrawn and the restriction lifted (`reason` says why)."""

    requested_on: date

    def apply(self, aggregate: Customer) -> None:
        aggregate.erasure_requested_on = None
        aggregate.processing_restricted = False


class LegalHoldPlaced(CustomerFact):
    hold_ref: str
    authority: str

    def apply(self, aggregate: Customer) -> None:
        aggregate.legal_holds = sorted({*aggregate.legal_holds, self.hold_ref})


class LegalHoldLifted(CustomerFact):
    hold_ref: str

    def apply(self, aggregate: Customer) -> None:
        aggregate.legal_holds = [ref for ref in aggregate.legal_holds if ref != self.hold_ref]


class CustomerErased(CustomerFact):
    decision: str
    rule_version: str

    @property
    def subject_id(self) -> UUID | None:
        """None: written after the key is shredded, so it must not need that key."""
        return None

    def apply(self, aggregate: Customer) -> None:
        aggregate.status = "erased"
        for name, field_class in PROFILE_FIELDS.items():
            if field_class.personal:
                setattr(aggregate, name, None)
        aggregate.segment_dimensions = {}


class Customer(LedgerAggregate):
    """An individual or corporate customer (or prospect) and its lifecycle."""

    def __init__(self) -> None:
        self.kind = ""
        self.status = ""
        self.registered_on: date | None = None
        self.name: str | None = None
        self.date_of_birth: date | None = None
        self.gender: str | None = None
        self.phone: str | None = None
        self.email: str | None = None
        self.address: str | None = None
        self.occupation: str | None = None
        self.income_band: str | None = None
        self.account_number: str | None = None
        self.risk_preference: str | None = None
        self.credit_code: str | None = None
        self.legal_representative: str | None = None
        self.company_size: str | None = None
        self.industry: str | None = None
        self.stage: str | None = None
        self.branch: str | None = None
        self.relationship_manager: str | None = None
        self.jurisdiction: str | None = None
        self.language: str | None = None
        self.segment: str | None = None
        self.segment_dimensions: dict[str, str] = {}
        self.special_care: list[str] = []
        self.needs: list[str] = []
        self.interests: list[str] = []
        self.preference_notes: str | None = None
        self.care_measures: list[str] = []
        self.care_follow_up_days: int | None = None
        self.care_flagged_on: date | None = None
        self.relationship_ended_on: date | None = None
        self.retention_ends_on: date | None = None
        self.erasure_requested_on: date | None = None
        self.processing_restricted = False
        self.legal_holds: list[str] = []

    # --- guards ------------------------------------------------------------------

    def require_processing(self, purpose: str) -> None:
        """Raise unless `purpose` may be processed: the customer exists and is not erased,
        and, under restriction, only purposes in REQUIRED_BY_LAW pass."""
        self.require_exists()
        if self.status == "erased":
            raise SubjectErased("the customer was erased")
        if self.processing_restricted and purpose not in REQUIRED_BY_LAW:
            raise ProcessingRestrictedError(
                f"processing is restricted for this customer: {purpose!r} is not required by law"
            )

    @property
    def legal_hold(self) -> bool:
        """True while at least one legal hold is in place."""
        return bool(self.legal_holds)

    # --- commands ----------------------------------------------------------------

    def register(self, actor: Actor, at: datetime, **profile: Any) -> None:
        """Record the registration (validated by the caller); only on a blank stream."""
        if self.exists:
            raise IllegalTransition("the customer is already registered")
        self._record(CustomerRegistered, actor, at, **profile)

    def change_profile(
        self, field: str, value: Any, source: str, actor: Actor, at: datetime
    ) -> bool:
        """Record a profile field change; False (and nothing recorded) when unchanged."""
        self.require_processing("rectification")
        if getattr(self, field) == value:
            return False
        self._record(ProfileFieldChanged, actor, at, field=field, value=value, source=source)
        return True

    def change_status(self, to_status: str, trigger: str, actor: Actor, at: datetime) -> None:
        """Move along the lifecycle; an illegal move raises IllegalTransition."""
        self.require_processing("lifecycle")
        if to_status not in STATUS_MOVES.get(self.status, frozenset()):
            raise IllegalTransition(f"a customer cannot go from {self.status} to {to_status}")
        self._record(
            CustomerStatusChanged,
            actor,
            at,
            from_status=self.status,
            to_status=to_status,
            trigger=trigger,
        )

    def classify(
        self,
        segment: str,
        dimensions: dict[str, str],
        rule_version: str,
        actor: Actor,
        at: datetime,
    ) -> bool:
        """Record the classification; False when it is unchanged."""
        self.require_processing("classification")
        if segment == self.segment and dimensions == self.segment_dimensions:
            return False
        self._record(
            CustomerClassified,
            actor,
            at,
            segment=segment,
            dimensions=dimensions,
            rule_version=rule_version,
        )
        return True

    def record_preferences(
        self, needs: list[str], interests: list[str], notes: str, actor: Actor, at: datetime
    ) -> bool:
        """Record the customer's needs and interests (validated by the caller); False
        when they are unchanged."""
        self.require_processing("care")
        if (needs, interests, notes) == (self.needs, self.interests, self.preference_notes or ""):
            return False
        self._record(PreferencesRecorded, actor, at, needs=needs, interests=interests, notes=notes)
        return True

    def flag_special_care(
        self,
        reasons: list[str],
        measures: list[str],
        follow_up_days: int | None,
        rule_version: str,
        actor: Actor,
        at: datetime,
    ) -> bool:
        """Record special care; False when the same care is already flagged."""
        self.require_processing("care")
        if sorted(reasons) == self.special_care and sorted(measures) == self.care_measures:
            return False
        self._record(
            SpecialCareFlagged,
            actor,
            at,
            reasons=sorted(reasons),
            measures=sorted(measures),
            follow_up_days=follow_up_days,
            rule_version=rule_version,
        )
        return True

    def _check_end_day(self, ended_on: date, today: date) -> None:
        """A relationship ends neither before the customer was registered nor after today:
        back-dating an end cannot make retention run out early."""
        if self.registered_on is not None and ended_on < self.registered_on:
            raise ValidationFailed({"ended_on": "must not be before the registration"})
        if ended_on > today:
            raise ValidationFailed({"ended_on": "must not be after today"})

    def end_relationship(
        self,
        ended_on: date,
        retention_ends_on: date,
        rule_version: str,
        actor: Actor,
        at: datetime,
        *,
        today: date | None = None,
    ) -> None:
        """End the relationship; the retention period starts on `ended_on`, which lies
        between the registration and today (ValidationFailed otherwise)."""
        self.require_processing("relationship_end")
        if self.status not in LIVE_STATUSES:
            raise IllegalTransition(f"a customer cannot end from {self.status}")
        self._check_end_day(ended_on, today or at.date())
        self._record(
            RelationshipEnded,
            actor,
            at,
            ended_on=ended_on,
            retention_ends_on=retention_ends_on,
            rule_version=rule_version,
        )

    def change_relationship_end(
        self,
        ended_on: date,
        retention_ends_on: date,
        rule_version: str,
        actor: Actor,
        at: datetime,
        *,
        today: date,
    ) -> bool:
        """Correct the day an ended relationship ended (same bounds as ending it); needs
        a reason (the actor's), recorded with the event. False when unchanged."""
        self.require_processing("relationship_end")
        if self.status != "ended" or self.relationship_ended_on is None:
            raise IllegalTransition(f"the relationship end cannot change from {self.status}")
        if not (actor.reason or "").strip():
            raise ValidationFailed({"reason": "required to change the relationship end"})
        self._check_end_day(ended_on, today)
        if ended_on == self.relationship_ended_on:
            return False
        self._record(
            RelationshipEndChanged,
            actor,
            at,
            previous_ended_on=self.relationship_ended_on,
            ended_on=ended_on,
            retention_ends_on=retention_ends_on,
            rule_version=rule_version,
        )
        return True

    def expire_retention(self, today: date, actor: Actor, at: datetime) -> None:
        """Record that the retention period has run out (only once it has)."""
        self.require_processing("retention")
        if self.status != "ended" or self.retention_ends_on is None:
            raise IllegalTransition(f"retention cannot expire from {self.status}")
        if today < self.retention_ends_on:
            raise RetentionRunning("the retention period has not run out")
        self._record(RetentionExpired, actor, at, retention_ended_on=self.retention_ends_on)

    def request_erasure(
        self, today: date, decision: str, rule_version: str, actor: Actor, at: datetime
    ) -> None:
        """Record the request and restrict processing until erasure is allowed."""
        self.require_processing("erasure")
        if self.erasure_requested_on is not None:
            raise IllegalTransition("erasure was already requested")
        self._record(ErasureRequested, actor, at, requested_on=today)
        self._record(ProcessingRestricted, actor, at, decision=decision, rule_version=rule_version)

    def withdraw_erasure_request(self, actor: Actor, at: datetime) -> None:
        """Withdraw the erasure request and lift the restriction; needs a reason (the
        actor's), recorded with the event."""
        self.require_processing("erasure")
        if self.erasure_requested_on is None:
            raise IllegalTransition("no erasure request is pending")
        if not (actor.reason or "").strip():
            raise ValidationFailed({"reason": "required to withdraw an erasure request"})
        self._record(ErasureRequestWithdrawn, actor, at, requested_on=self.erasure_requested_on)

    @property
    def never_onboarded(self) -> bool:
        """A prospect with no account: nothing of it has to be retained (the caller also
        checks that no KYC file and no transactions exist)."""
        return self.status == "prospect" and self.account_number is None

    def place_legal_hold(self, hold_ref: str, authority: str, actor: Actor, at: datetime) -> None:
        """Place a legal hold (blocks erasure until lifted)."""
        self.require_processing("legal_hold")
        if hold_ref in self.legal_holds:
            raise IllegalTransition("that legal hold is already in place")
        self._record(LegalHoldPlaced, actor, at, hold_ref=hold_ref, authority=authority)

    def lift_legal_hold(self, hold_ref: str, actor: Actor, at: datetime) -> None:
        """Lift a legal hold that is in place."""
        self.require_processing("legal_hold")
        if hold_ref not in self.legal_holds:
            raise IllegalTransition("no such legal hold is in place")
        self._record(LegalHoldLifted, actor, at, hold_ref=hold_ref)

    def erase(
        self, today: date, decision: str, rule_version: str, actor: Actor, at: datetime
    ) -> None:
        """Record the erasure; refused under a hold or while retention runs. A prospect
        never onboarded has nothing to retain: `decision` is then "erase" at once."""
        self.require_processing("erasure")
        if self.erasure_requested_on is None:
            raise IllegalTransition("erasure was not requested")
        if self.legal_hold or decision == "blocked_by_hold":
            raise LegalHoldActive("a legal hold blocks erasure")
        if decision != "erase":
            raise RetentionRunning("the retention period has not run out")
        if self.status == "ended":
            self.expire_retention(today, actor, at)
        if self.status != "retention_expired" and not self.never_onboarded:
            raise IllegalTransition(f"a customer cannot be erased from {self.status}")
        self._record(CustomerErased, actor, at, decision=decision, rule_version=rule_version)
