"""Chapter 1: KYC (identity documents, risk rating, re-verification) and activity."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from decimal import Decimal
from uuid import UUID

from domain import kyc as kyc_model
from domain.activity import Activity
from domain.actor import Actor
from domain.errors import IllegalTransition, ValidationFailed
from domain.ids import activity_id, kyc_file_id
from domain.kyc import KycFile
from domain.personal_data import refuse_c3_names
from domain.records import ActivityRecord, KycRecord, record_of
from domain.rules.kyc import (
    ID_DOCUMENT_EXPIRING_VERSION,
    ID_DOCUMENT_STATUS_VERSION,
    REVERIFICATION_DUE_VERSION,
    REVERIFICATION_STATUS_VERSION,
    RISK_LEVELS,
    RISK_RATING_OVERDUE_VERSION,
    id_document_status,
    reverification_due,
    reverification_status,
    risk_rating_overdue,
)
from domain.services.grading import measures_after_rating
from domain.services.identity import IdentityClaims
from domain.settings import RuleSettings
from domain.validation import amount_error, check, id_number_error, one_of_error, text_error

_SCHEDULE_VERSION = f"{REVERIFICATION_DUE_VERSION}+{REVERIFICATION_STATUS_VERSION}"


def checked_document_status(
    doc_type: str, doc_number: str, expires_on: date, today: date, settings: RuleSettings
) -> str:
    """Check an identity document's fields; its status today. An expired one is refused
    with ValidationFailed, as is any bad field (all bad fields at once)."""
    check(
        doc_type=one_of_error(doc_type, kyc_model.DOC_TYPES),
        doc_number=id_number_error(doc_number) if isinstance(doc_number, str) else "text",
        expires_on=None if isinstance(expires_on, date) else "must be a date",
    )
    status = id_document_status(expires_on, today, settings)
    if status == "expired":
        raise ValidationFailed({"expires_on": "the document has already expired"})
    return status


class KycCommands(IdentityClaims):
    """Identity documents, risk ratings, re-verification, suspension; transactions."""

    def _kyc(self, customer_id: UUID) -> KycFile:
        self._customer(customer_id, "kyc")
        return self._load(KycFile, kyc_file_id(customer_id))

    def record_identity_document(
        self,
        customer_id: UUID,
        doc_type: str,
        doc_number: str,
        expires_on: date,
        actor: Actor,
        *,
        expected_version: int | None = None,
    ) -> str:
        """Record an identity document; returns its status (valid / expiring). An expired
        document is refused; a valid one restores business suspended by an expired one."""
        status = checked_document_status(
            doc_type, doc_number, expires_on, self.today(), self.settings
        )
        kyc = self._kyc(customer_id)
        self._expect(kyc, expected_version)
        kyc.record_document(
            doc_type, doc_number, expires_on, status, ID_DOCUMENT_STATUS_VERSION, actor, self.now()
        )
        numbers: list[tuple[str, str | None]] = [(doc_type, doc_number)]
        claims = self._claims(customer_id, numbers, actor, self.now())
        self._save_claiming(customer_id, numbers, kyc, *claims)
        return status

    def assign_risk_rating(
        self,
        customer_id: UUID,
        risk_level: str,
        actor: Actor,
        *,
        factors: Sequence[str] = (),
        expected_version: int | None = None,
    ) -> date:
        """Assign the risk rating; returns the next re-verification due date."""
        check(risk_level=one_of_error(risk_level, RISK_LEVELS))
        refuse_c3_names(factors)
        kyc = self._kyc(customer_id)
        self._expect(kyc, expected_version)
        today = self.today()
        due = reverification_due(risk_level, kyc.last_verified_on or today, self.settings)
        kyc.assign_risk_rating(
            risk_level, list(factors), today, due, REVERIFICATION_DUE_VERSION, actor, self.now()
        )
        self._save(kyc, measures_after_rating(self, customer_id, risk_level, actor))
        return due

    def check_reverification(self, customer_id: UUID, actor: Actor) -> str:
        """Mark the file due soon or overdue as the rule says today; returns its state."""
        kyc = self._kyc(customer_id)
        if kyc.next_review_due is None or kyc.review_state in ("pending_rating", "in_review"):
            return kyc.review_state
        status = reverification_status(kyc.next_review_due, self.today(), self.settings)
        kyc.mark_due(status, kyc.next_review_due, _SCHEDULE_VERSION, actor, self.now())
        self._save(kyc)
        return kyc.review_state

    def start_reverification(
        self,
        customer_id: UUID,
        actor: Actor,
        *,
        trigger: str | None = None,
        expected_version: int | None = None,
    ) -> None:
        """Start a review: when due, or at once for a trigger (ownership change,
        screening hit, ID expiry, customer request)."""
        if trigger is not None:
            check(trigger=one_of_error(trigger, kyc_model.TRIGGERS))
        kyc = self._kyc(customer_id)
        self._expect(kyc, expected_version)
        kyc.start_review(trigger, actor, self.now())
        self._save(kyc)

    def complete_reverification(
        self,
        customer_id: UUID,
        actor: Actor,
        *,
        risk_level: str | None = None,
        expected_version: int | None = None,
    ) -> date:
        """Complete the review in progress (the rating may change); returns the next due
        date. A file that is due but not yet in review is started and completed at once."""
        kyc = self._kyc(customer_id)
        self._expect(kyc, expected_version)
        level = risk_level or kyc.risk_level
        check(risk_level=one_of_error(level, RISK_LEVELS))
        assert level is not None
        at, today = self.now(), self.today()
        if kyc.review_state in ("current", "due_soon", "overdue"):
            kyc.start_review(None, actor, at)
        due = reverification_due(level, today, self.settings)
        kyc.complete_review(level, today, due, REVERIFICATION_DUE_VERSION, actor, at)
        self._save(kyc, measures_after_rating(self, customer_id, level, actor))
        return due

    def check_identity_document(self, customer_id: UUID, actor: Actor) -> str | None:
        """Return the document's status today; an expired one is recorded, business is
        suspended and a review is forced at once. None when no document is on file."""
        kyc = self._kyc(customer_id)
        if kyc.doc_expires_on is None:
            return None
        status = id_document_status(kyc.doc_expires_on, self.today(), self.settings)
        if status == "expired" and kyc.doc_status != "expired":
            at = self.now()
            kyc.expire_document(self.today(), ID_DOCUMENT_STATUS_VERSION, actor, at)
            if kyc.review_state in ("current", "due_soon", "overdue"):
                kyc.start_review("id_expiry", actor, at)
            self._save(kyc)
        return status

    def note_identity_document_expiring(self, customer_id: UUID, actor: Actor) -> bool:
        """Record IdentityDocumentExpiring when the document on file is in its expiry
        window today (90 days by default); once per document and expiry date. Returns
        True when recorded now."""
        kyc = self._kyc(customer_id)
        if kyc.doc_expires_on is None:
            return False
        today = self.today()
        if id_document_status(kyc.doc_expires_on, today, self.settings) != "expiring":
            return False
        noted = kyc.note_document_expiring(
            today, self.settings.id_expiring_days, ID_DOCUMENT_EXPIRING_VERSION, actor, self.now()
        )
        self._save(kyc)
        return noted

    def note_risk_rating_overdue(self, customer_id: UUID, actor: Actor) -> bool:
        """Record RiskRatingOverdue when the first rating is past its deadline (10
        working days by default) today; once per file. Returns True when recorded now."""
        kyc = self._kyc(customer_id)
        due = kyc.rating_due_on
        rated = kyc.review_state != "pending_rating"
        if due is None or not risk_rating_overdue(due, rated, self.today()):
            return False
        noted = kyc.note_rating_overdue(
            self.today(), RISK_RATING_OVERDUE_VERSION, actor, self.now()
        )
        self._save(kyc)
        return noted

    def restore_business(
        self,
        customer_id: UUID,
        actor: Actor,
        *,
        expected_version: int | None = None,
    ) -> None:
        """Lift a suspension by hand (compliance); needs a document that has not expired."""
        actor.require_role("compliance_officer")
        kyc = self._kyc(customer_id)
        self._expect(kyc, expected_version)
        kyc.restore_business("manual_review", actor, self.now())
        self._save(kyc)

    def get_kyc(self, customer_id: UUID) -> KycRecord:
        """The customer's KYC file."""
        return record_of(KycRecord, self._load(KycFile, kyc_file_id(customer_id)))

    # --- activity ----------------------------------------------------------------

    def record_transactions(
        self,
        customer_id: UUID,
        period_start: date,
        period_end: date,
        count: int,
        amount: Decimal,
        actor: Actor,
        *,
        products: Sequence[str] = (),
        profit_contribution: Decimal = Decimal(0),
        source_ref: str,
    ) -> None:
        """Record a period summary (or a single trade) from the core system.

        Refused while business is suspended (for periods ending on or after the
        suspension) and for prospects; a dormant customer becomes active again.
        """
        check(
            period_end=None if period_start <= period_end <= self.today() else "bad period",
            count=None if isinstance(count, int) and count >= 0 else "must be a count",
            amount=amount_error(amount),
            profit_contribution=None
            if isinstance(profit_contribution, Decimal) and profit_contribution.is_finite()
            else "must be a decimal amount",
            source_ref=text_error(source_ref, max_length=100),
        )
        customer = self._customer(customer_id, "transactions")
        if customer.status in ("prospect", "ended", "retention_expired"):
            raise IllegalTransition(f"no transactions for a customer who is {customer.status}")
        kyc = self._find(KycFile, kyc_file_id(customer_id))
        if kyc is not None:
            kyc.require_business(period_end)
        at = self.now()
        activity = self._load_or_blank(Activity, activity_id(customer_id), at)
        activity.record(
            customer_id=customer_id,
            period_start=period_start,
            period_end=period_end,
            count=count,
            amount=amount,
            products=list(products),
            profit_contribution=profit_contribution,
            source_ref=source_ref,
            actor=actor,
            at=at,
        )
        if customer.status == "dormant" and not customer.processing_restricted:
            customer.change_status("active", "transactions", actor, at)
        self._save(activity, customer)

    def get_activity(self, customer_id: UUID) -> ActivityRecord:
        """The customer's recorded activity and totals."""
        activity = self._load(Activity, activity_id(customer_id))
        count, amount, profit = activity.totals(date.min, date.max)
        return record_of(
            ActivityRecord,
            activity,
            periods=len(activity.periods),
            transaction_count=count,
            amount=amount,
            profit_contribution=profit,
        )
