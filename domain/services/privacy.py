"""The erasure lifecycle: request -> restriction -> (retention out, no hold) -> erasure.

Erasure is crypto-shredding: `CustomerErased` (readable without the customer's key) is
recorded, then the customer's keys are destroyed through the `SubjectKeys` port, so
everything about the customer (profile, KYC, complaints, surveys, interactions)
becomes unreadable at once.
"""

from __future__ import annotations

from uuid import UUID

from domain.actor import Actor
from domain.customer import Customer
from domain.errors import SubjectKeysUnavailable
from domain.rules.retention import ERASURE_DECISION_VERSION, erasure_decision
from domain.services.base import LedgerServices
from domain.validation import check, text_error


class PrivacyCommands(LedgerServices):
    """Erasure requests, legal holds, retention expiry and crypto-shredding."""

    def _decision(self, customer: Customer) -> str:
        return erasure_decision(
            customer.erasure_requested_on is not None,
            customer.relationship_ended_on,
            customer.legal_hold,
            self.today(),
            self.settings,
        )

    def request_erasure(
        self,
        customer_id: UUID,
        actor: Actor,
        *,
        expected_version: int | None = None,
    ) -> str:
        """Record the request and restrict processing at once; returns today's decision
        ("restrict", "blocked_by_hold" or "erase": erasure itself is `erase_customer`)."""
        customer = self._load(Customer, customer_id)
        self._expect(customer, expected_version)
        at, today = self.now(), self.today()
        decision = erasure_decision(
            True, customer.relationship_ended_on, customer.legal_hold, today, self.settings
        )
        customer.request_erasure(today, decision, ERASURE_DECISION_VERSION, actor, at)
        self._save(customer)
        return decision

    def erasure_status(self, customer_id: UUID) -> str:
        """Today's erasure decision for the customer (see `erasure_decision`)."""
        return self._decision(self._load(Customer, customer_id))

    def place_legal_hold(
        self,
        customer_id: UUID,
        hold_ref: str,
        authority: str,
        actor: Actor,
        *,
        expected_version: int | None = None,
    ) -> None:
        """Place a legal hold (compliance): erasure is blocked until it is lifted."""
        actor.require_role("compliance_officer")
        check(hold_ref=text_error(hold_ref, max_length=100), authority=text_error(authority))
        customer = self._load(Customer, customer_id)
        self._expect(customer, expected_version)
        customer.place_legal_hold(hold_ref, authority, actor, self.now())
        self._save(customer)

    def lift_legal_hold(
        self,
        customer_id: UUID,
        hold_ref: str,
        actor: Actor,
        *,
        expected_version: int | None = None,
    ) -> None:
        """Lift a legal hold (compliance)."""
        actor.require_role("compliance_officer")
        customer = self._load(Customer, customer_id)
        self._expect(customer, expected_version)
        customer.lift_legal_hold(hold_ref, actor, self.now())
        self._save(customer)

    def expire_retention(self, customer_id: UUID, actor: Actor) -> bool:
        """Record that retention ran out for an ended relationship; False if not yet."""
        customer = self._load(Customer, customer_id)
        end = customer.retention_ends_on
        if customer.status != "ended" or end is None or self.today() < end:
            return False
        customer.expire_retention(self.today(), actor, self.now())
        self._save(customer)
        return True

    def erase_customer(self, customer_id: UUID, actor: Actor) -> None:
        """Erase the customer: allowed only when erasure was requested, retention has run
        out and no legal hold applies (LegalHoldActive / RetentionRunning otherwise).
        Records CustomerErased, then shreds the customer's keys. If shredding failed
        after the record, calling again completes it."""
        actor.require_role("compliance_officer")
        if self.subject_keys is None:
            raise SubjectKeysUnavailable("erasure needs the key store; none is configured")
        customer = self._load(Customer, customer_id)
        if customer.status == "erased":
            if not self.subject_keys.is_shredded(customer_id):
                self.subject_keys.shred(customer_id)
            return
        decision = self._decision(customer)
        customer.erase(self.today(), decision, ERASURE_DECISION_VERSION, actor, self.now())
        self._save(customer)
        self.subject_keys.shred(customer_id)
