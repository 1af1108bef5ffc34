"""Chapter 1: the customer's KYC file: identity document, risk rating, re-verification.

Re-verification: pending_rating -> current -> due_soon -> overdue -> in_review ->
current (a trigger such as an ownership change, a screening hit or an ID expiry starts
a review at once, from any of current, due_soon or overdue). An identity document that
expires suspends business until a valid document restores it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from uuid import UUID

from domain.actor import Actor
from domain.errors import BusinessSuspended as BusinessSuspendedError
from domain.errors import IllegalTransition
from domain.events import CustomerEvent, CustomerOpeningEvent, LedgerAggregate

REVIEW_STATES = ("pending_rating", "current", "due_soon", "overdue", "in_review")
TRIGGERS = ("ownership_change", "screening_hit", "id_expiry", "customer_request")
DOC_TYPES = (
    "resident_id",
    "passport",
    "hk_macau_permit",
    "taiwan_permit",
    "foreign_permanent_resident",
    "business_licence",
    "residence_permit",
    "other",
)


@dataclass(frozen=True)
class IdentityDocument:
    """An identity document as presented at registration."""

    doc_type: str
    number: str
    expires_on: date


_DUE_MOVES = {
    "current": frozenset({"due_soon", "overdue"}),
    "due_soon": frozenset({"overdue"}),
}


class KycFileOpened(CustomerOpeningEvent):
    """The KYC file opened at registration; `rating_due_on` counts working days of the
    `calendar` jurisdiction's business calendar (the customer's jurisdiction)."""

    # v2 adds `calendar`: the jurisdiction whose working days set `rating_due_on`.
    class_version = 2

    registered_on: date
    rating_due_on: date
    rule_version: str
    calendar: str

    @staticmethod
    def upcast_v1_v2(state: dict[str, object]) -> None:
        """Files opened before v2 counted CN working days."""
        state["calendar"] = "CN"

    def apply(self, aggregate: KycFile) -> None:
        aggregate.customer_id = self.customer_id
        aggregate.registered_on = self.registered_on
        aggregate.rating_due_on = self.rating_due_on
        aggregate.rating_calendar = self.calendar


class IdentityDocumentRecorded(CustomerEvent):
    doc_type: str
    doc_number: str
    expires_on: date
    doc_status: str
    rule_version: str

    def apply(self, aggregate: KycFile) -> None:
        aggregate.doc_type = self.doc_type
        aggregate.doc_number = self.doc_number
        if aggregate.doc_expires_on != self.expires_on or self.doc_status == "valid":
            aggregate.expiring_noted_for = None
        aggregate.doc_expires_on = self.expires_on
        aggregate.doc_status = self.doc_status


class RiskRatingAssigned(CustomerEvent):
    risk_level: str
    factors: list[str]
    verified_on: date
    next_review_due: date
    within_deadline: bool
    rule_version: str

    def apply(self, aggregate: KycFile) -> None:
        aggregate.risk_level = self.risk_level
        aggregate.risk_factors = list(self.factors)
        aggregate.last_verified_on = self.verified_on
        aggregate.next_review_due = self.next_review_due
        if aggregate.review_state == "pending_rating":
            aggregate.review_state = "current"


class ReverificationDue(CustomerEvent):
    review_state: str
    due_on: date
    rule_version: str

    def apply(self, aggregate: KycFile) -> None:
        aggregate.review_state = self.review_state


class ReverificationStarted(CustomerEvent):
    trigger: str | None

    def apply(self, aggregate: KycFile) -> None:
        aggregate.review_state = "in_review"
        aggregate.review_trigger = self.trigger


class ReverificationCompleted(CustomerEvent):
    verified_on: date
    risk_level: str
    next_review_due: date
    rule_version: str

    def apply(self, aggregate: KycFile) -> None:
        aggregate.review_state = "current"
        aggregate.review_trigger = None
        aggregate.risk_level = self.risk_level
        aggregate.last_verified_on = self.verified_on
        aggregate.next_review_due = self.next_review_due


class IdentityDocumentExpired(CustomerEvent):
    expired_on: date
    rule_version: str

    def apply(self, aggregate: KycFile) -> None:
        aggregate.doc_status = "expired"


class IdentityDocumentExpiring(CustomerEvent):
    """The identity document entered its expiry window (90 days by default): a
    warning, recorded once per document and expiry date."""

    doc_type: str
    expires_on: date
    as_of: date
    window_days: int
    rule_version: str

    def apply(self, aggregate: KycFile) -> None:
        aggregate.doc_status = "expiring"
        aggregate.expiring_noted_for = self.expires_on


class RiskRatingOverdue(CustomerEvent):
    """No risk rating by its deadline (10 working days by default): a warning,
    recorded once per file."""

    rating_due_on: date
    as_of: date
    rule_version: str

    def apply(self, aggregate: KycFile) -> None:
        aggregate.rating_overdue = True


class BusinessSuspended(CustomerEvent):
    cause: str

    def apply(self, aggregate: KycFile) -> None:
        aggregate.business_suspended = True
        aggregate.suspended_at = self.occurred_at


class BusinessRestored(CustomerEvent):
    cause: str

    def apply(self, aggregate: KycFile) -> None:
        aggregate.business_suspended = False
        aggregate.suspended_at = None


class KycFile(LedgerAggregate):
    """One customer's know-your-customer file."""

    def __init__(self) -> None:
        self.customer_id: UUID | None = None
        self.registered_on: date | None = None
        self.rating_due_on: date | None = None
        self.rating_calendar: str | None = None
        self.risk_level: str | None = None
        self.risk_factors: list[str] = []
        self.last_verified_on: date | None = None
        self.next_review_due: date | None = None
        self.review_state = "pending_rating"
        self.review_trigger: str | None = None
        self.doc_type: str | None = None
        self.doc_number: str | None = None
        self.doc_expires_on: date | None = None
        self.doc_status: str | None = None
        self.business_suspended = False
        self.suspended_at: datetime | None = None
        self.expiring_noted_for: date | None = None
        self.rating_overdue = False

    def require_business(self, on: date) -> None:
        """Raise BusinessSuspended for business on or after the day of a suspension still in
        force (facts dated before it may still be recorded)."""
        suspended = self.suspended_at
        if self.business_suspended and suspended is not None and on >= suspended.date():
            raise BusinessSuspendedError("business with this customer is suspended: ID expired")

    def open(
        self,
        customer_id: UUID,
        registered_on: date,
        rating_due_on: date,
        rule_version: str,
        actor: Actor,
        at: datetime,
        calendar: str = "CN",
    ) -> None:
        """Open the file at registration, with the risk rating deadline counted in the
        working days of `calendar` (a jurisdiction)."""
        if self.exists:
            raise IllegalTransition("the KYC file is already open")
        self._record(
            KycFileOpened,
            actor,
            at,
            customer_id=customer_id,
            registered_on=registered_on,
            rating_due_on=rating_due_on,
            rule_version=rule_version,
            calendar=calendar,
        )

    def record_document(
        self,
        doc_type: str,
        doc_number: str,
        expires_on: date,
        doc_status: str,
        rule_version: str,
        actor: Actor,
        at: datetime,
    ) -> None:
        """Record a (new) identity document; a valid one restores suspended business."""
        self._record(
            IdentityDocumentRecorded,
            actor,
            at,
            customer_id=self.customer_id,
            doc_type=doc_type,
            doc_number=doc_number,
            expires_on=expires_on,
            doc_status=doc_status,
            rule_version=rule_version,
        )
        if self.business_suspended and doc_status != "expired":
            self._record(
                BusinessRestored, actor, at, customer_id=self.customer_id, cause="document_renewed"
            )

    def assign_risk_rating(
        self,
        risk_level: str,
        factors: list[str],
        today: date,
        next_review_due: date,
        rule_version: str,
        actor: Actor,
        at: datetime,
    ) -> None:
        """Assign (or change) the risk rating; the first rating counts as a verification."""
        self.require_exists()
        if self.review_state == "in_review":
            raise IllegalTransition("complete the review in progress to change the rating")
        within = self.rating_due_on is None or today <= self.rating_due_on
        self._record(
            RiskRatingAssigned,
            actor,
            at,
            customer_id=self.customer_id,
            risk_level=risk_level,
            factors=factors,
            verified_on=self.last_verified_on or today,
            next_review_due=next_review_due,
            within_deadline=within,
            rule_version=rule_version,
        )

    def mark_due(
        self, review_state: str, due_on: date, rule_version: str, actor: Actor, at: datetime
    ) -> bool:
        """Move current -> due_soon -> overdue; False (nothing recorded) when already there."""
        self.require_exists()
        if review_state == self.review_state or review_state == "current":
            return False
        if review_state not in _DUE_MOVES.get(self.review_state, frozenset()):
            raise IllegalTransition(
                f"re-verification cannot go from {self.review_state} to {review_state}"
            )
        self._record(
            ReverificationDue,
            actor,
            at,
            customer_id=self.customer_id,
            review_state=review_state,
            due_on=due_on,
            rule_version=rule_version,
        )
        return True

    def start_review(self, trigger: str | None, actor: Actor, at: datetime) -> None:
        """Start a re-verification (due, or forced at once by a trigger)."""
        self.require_exists()
        if self.review_state not in ("current", "due_soon", "overdue"):
            raise IllegalTransition(f"a review cannot start from {self.review_state}")
        self._record(
            ReverificationStarted, actor, at, customer_id=self.customer_id, trigger=trigger
        )

    def complete_review(
        self,
        risk_level: str,
        today: date,
        next_review_due: date,
        rule_version: str,
        actor: Actor,
        at: datetime,
    ) -> None:
        """Complete the review in progress: the file is current until `next_review_due`."""
        if self.review_state != "in_review":
            raise IllegalTransition(f"no review in progress ({self.review_state})")
        self._record(
            ReverificationCompleted,
            actor,
            at,
            customer_id=self.customer_id,
            verified_on=today,
            risk_level=risk_level,
            next_review_due=next_review_due,
            rule_version=rule_version,
        )

    def expire_document(self, today: date, rule_version: str, actor: Actor, at: datetime) -> bool:
        """Record the expiry and suspend business; False when already recorded."""
        self.require_exists()
        if self.doc_expires_on is None or self.doc_status == "expired":
            return False
        if today <= self.doc_expires_on:
            raise IllegalTransition("the identity document has not expired")
        self._record(
            IdentityDocumentExpired,
            actor,
            at,
            customer_id=self.customer_id,
            expired_on=self.doc_expires_on,
            rule_version=rule_version,
        )
        if not self.business_suspended:
            self._record(
                BusinessSuspended, actor, at, customer_id=self.customer_id, cause="id_expired"
            )
        return True

    def note_document_expiring(
        self, as_of: date, window_days: int, rule_version: str, actor: Actor, at: datetime
    ) -> bool:
        """Record that the document on file entered its expiry window; False (nothing
        recorded) when it has not, has already expired, or was already noted."""
        self.require_exists()
        expires_on, doc_type = self.doc_expires_on, self.doc_type
        if expires_on is None or doc_type is None or self.doc_status == "expired":
            return False
        if self.expiring_noted_for == expires_on or as_of > expires_on:
            return False
        if (expires_on - as_of).days > window_days:
            return False
        self._record(
            IdentityDocumentExpiring,
            actor,
            at,
            customer_id=self.customer_id,
            doc_type=doc_type,
            expires_on=expires_on,
            as_of=as_of,
            window_days=window_days,
            rule_version=rule_version,
        )
        return True

    def note_rating_overdue(
        self, as_of: date, rule_version: str, actor: Actor, at: datetime
    ) -> bool:
        """Record that the first risk rating is past its deadline; False (nothing
        recorded) when rated, not yet late, or already recorded."""
        self.require_exists()
        due = self.rating_due_on
        if self.rating_overdue or self.review_state != "pending_rating" or due is None:
            return False
        if as_of <= due:
            return False
        self._record(
            RiskRatingOverdue,
            actor,
            at,
            customer_id=self.customer_id,
            rating_due_on=due,
            as_of=as_of,
            rule_version=rule_version,
        )
        return True

    def restore_business(self, cause: str, actor: Actor, at: datetime) -> None:
        """Lift a suspension; only once a document that has not expired is on file."""
        if not self.business_suspended:
            raise IllegalTransition("business is not suspended")
        if self.doc_status == "expired":
            raise IllegalTransition("record a valid identity document first")
        self._record(BusinessRestored, actor, at, customer_id=self.customer_id, cause=cause)
