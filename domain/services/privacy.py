"""The erasure lifecycle: request -> restriction -> (retention out, no hold) -> erasure.

Erasure is crypto-shredding: `CustomerErased` (readable without the customer's key) is
recorded, then the customer's keys are destroyed through the `SubjectKeys` port, so
everything about the customer (profile, KYC, complaints, surveys, interactions)
becomes unreadable at once.
"""

from __future__ import annotations

from dataclasses import replace
from uuid import UUID

from domain.activity import Activity
from domain.actor import Actor
from domain.customer import Customer
from domain.errors import SubjectKeysUnavailable
from domain.ids import activity_id, kyc_file_id
from domain.kyc import KycFile
from domain.rules.retention import ERASURE_DECISION_VERSION, erasure_decision
from domain.services.identity import IdentityClaims
from domain.validation import check, text_error

ERASED_AT_ONCE = "erased"


class PrivacyCommands(IdentityClaims):
    """Erasure requests and their withdrawal, legal holds, retention expiry and
    crypto-shredding."""

    def _nothing_to_retain(self, customer: Customer) -> bool:
        """A prospect never onboarded: no account, no KYC file, no transactions."""
        return (
            customer.never_onboarded
            and self._find(KycFile, kyc_file_id(customer.id)) is None
            and self._find(Activity, activity_id(customer.id)) is None
        )

    def _decision(self, customer: Customer, *, requested: bool | None = None) -> str:
        return erasure_decision(
            customer.erasure_requested_on is not None if requested is None else requested,
            customer.relationship_ended_on,
            customer.legal_hold,
            self.today(),
            self.settings,
            nothing_to_retain=self._nothing_to_retain(customer),
        )

    def request_erasure(
        self,
        customer_id: UUID,
        actor: Actor,
        *,
        expected_version: int | None = None,
    ) -> str:
        """Record the request and restrict processing at once; returns today's decision
        ("restrict", "blocked_by_hold" or "erase": erasure itself is `erase_customer`).

        A prospect never onboarded (no account, no KYC file, no transactions) has nothing
        to retain: it is erased at once, in the same command, and the answer is
        "erased"."""
        customer = self._load(Customer, customer_id)
        self._expect(customer, expected_version)
        at, today = self.now(), self.today()
        decision = self._decision(customer, requested=True)
        customer.request_erasure(today, decision, ERASURE_DECISION_VERSION, actor, at)
        if decision == "erase" and customer.never_onboarded:
            self._erase(customer, decision, actor)
            return ERASED_AT_ONCE
        self._save(customer)
        return decision

    def withdraw_erasure_request(
        self,
        customer_id: UUID,
        reason: str,
        actor: Actor,
        *,
        expected_version: int | None = None,
    ) -> None:
        """Withdraw a pending erasure request (compliance): the restriction is lifted,
        and `reason` is recorded with the event. Nothing is withdrawn from an erased
        customer."""
        actor.require_role("compliance_officer")
        check(reason=text_error(reason, max_length=500))
        customer = self._load(Customer, customer_id)
        self._expect(customer, expected_version)
        customer.withdraw_erasure_request(replace(actor, reason=reason), self.now())
        self._save(customer)

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
        self._erase(customer, self._decision(customer), actor)

    def _erase(self, customer: Customer, decision: str, actor: Actor) -> None:
        """Record CustomerErased with the release of the customer's identity claims in
        one write, then shred the customer's keys."""
        if self.subject_keys is None:
            raise SubjectKeysUnavailable("erasure needs the key store; none is configured")
        at = self.now()
        customer.erase(self.today(), decision, ERASURE_DECISION_VERSION, actor, at)
        self._save(customer, *self._released_claims(customer.id, actor, at))
        self.subject_keys.shred(customer.id)
