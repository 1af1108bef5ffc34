"""One record per person: claiming identity numbers at registration, releasing them at
erasure (domain.identity explains why the check is atomic in the store)."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from uuid import UUID

from domain.actor import Actor
from domain.customer import Customer, CustomerRegistered, ProfileFieldChanged
from domain.errors import SubjectErased, VersionConflict
from domain.events import LedgerAggregate
from domain.identity import AlreadyRegistered, IdentityClaim, claim_id, identity_text
from domain.ids import kyc_file_id
from domain.kyc import IdentityDocumentRecorded
from domain.ports import IdentityIndex
from domain.services.base import LedgerServices

CREDIT_CODE = "credit_code"


class EphemeralIdentityIndex:
    """An index keyed by a random key of this process: what an application built
    without the composition root (in-memory tests) uses. The composition root always
    installs the keyring's index (security.keys.identity_index), the same in every
    process."""

    def __init__(self) -> None:
        self._key = secrets.token_bytes(32)

    def digest(self, text: str) -> str:
        """HMAC-SHA256 of `text` under this process's key."""
        return hmac.new(self._key, text.encode("utf-8"), hashlib.sha256).hexdigest()


@dataclass
class ClaimsBackfill:
    """What a backfill did: customers read, claims written, erased customers skipped,
    and the duplicates found as (holder, other live customer) pairs, never the number."""

    customers: int = 0
    claimed: int = 0
    erased: int = 0
    duplicates: list[tuple[UUID, UUID]] = field(default_factory=list)


class IdentityClaims(LedgerServices):
    """Claims on identity numbers, checked and saved with the command that needs them."""

    identity_index: IdentityIndex
    customer_ids: Callable[[], Iterator[UUID]]  # CustomerCommands: in registration order

    def _claim_ids(self, numbers: Iterable[tuple[str, str | None]]) -> list[UUID]:
        ids: list[UUID] = []
        for kind, number in numbers:
            text = identity_text(kind, number) if number else None
            if text is not None:
                ids.append(claim_id(self.identity_index.digest(text)))
        return list(dict.fromkeys(ids))

    def _claims(
        self,
        customer_id: UUID,
        numbers: Iterable[tuple[str, str | None]],
        actor: Actor,
        at: datetime,
    ) -> list[IdentityClaim]:
        """The claims of `numbers` (`(kind, number)`) for the customer, with their pending
        events; raises AlreadyRegistered when another customer holds one of them."""
        claims = []
        for cid in self._claim_ids(numbers):
            claim = self._load_or_blank(IdentityClaim, cid, at)
            claim.claim(customer_id, actor, at)
            claims.append(claim)
        return claims

    def _holder_after_conflict(
        self, customer_id: UUID, numbers: Iterable[tuple[str, str | None]]
    ) -> None:
        """After a lost race: AlreadyRegistered if the winner took one of the numbers."""
        for cid in self._claim_ids(numbers):
            claim = self._find(IdentityClaim, cid)
            if claim is not None and claim.holder_id not in (None, customer_id):
                raise AlreadyRegistered(claim.holder_id)

    def _save_claiming(
        self,
        customer_id: UUID,
        numbers: list[tuple[str, str | None]],
        *aggregates: LedgerAggregate | None,
    ) -> None:
        """Save `aggregates` (claims among them) in one write; a lost race on a claim is
        AlreadyRegistered, any other conflict a VersionConflict."""
        try:
            self._save(*aggregates)
        except VersionConflict:
            self._holder_after_conflict(customer_id, numbers)
            raise

    def _numbers_of(self, customer_id: UUID) -> list[tuple[str, str | None]]:
        """Every identity number the customer was ever recorded with (read before its
        key is shredded): the credit code(s) and every identity document's number."""
        numbers: list[tuple[str, str | None]] = []
        for event in self.events_of(customer_id):
            if isinstance(event, CustomerRegistered):
                numbers.append((CREDIT_CODE, event.credit_code))
            elif isinstance(event, ProfileFieldChanged) and event.field == "credit_code":
                numbers.append((CREDIT_CODE, event.value))
        for event in self.events_of(kyc_file_id(customer_id)):
            if isinstance(event, IdentityDocumentRecorded):
                numbers.append((event.doc_type, event.doc_number))
        return numbers

    def _released_claims(
        self, customer_id: UUID, actor: Actor, at: datetime
    ) -> list[IdentityClaim]:
        """The customer's claims, each with a pending IdentityReleased."""
        released = []
        for cid in self._claim_ids(self._numbers_of(customer_id)):
            claim = self._find(IdentityClaim, cid)
            if claim is not None and claim.release(customer_id, actor, at):
                released.append(claim)
        return released

    def backfill_identity_claims(self, actor: Actor) -> ClaimsBackfill:
        """Claim every live customer's identity numbers where unclaimed (customers
        written before claims existed); idempotent. Customers are read in registration
        order, so a number two live customers hold goes to the earlier one and the pair
        is reported, not resolved. Erased customers are skipped (they released theirs)."""
        result = ClaimsBackfill()
        for customer_id in self.customer_ids():
            try:
                customer = self._load(Customer, customer_id)
                if customer.status == "erased":
                    raise SubjectErased("the customer was erased")
                numbers = self._numbers_of(customer_id)
            except SubjectErased:
                result.erased += 1
                continue
            result.customers += 1
            for cid in self._claim_ids(numbers):
                claimed, holder = self._backfill_claim(cid, customer_id, actor)
                result.claimed += claimed
                if holder != customer_id:
                    pair = (holder, customer_id)
                    if pair not in result.duplicates:
                        result.duplicates.append(pair)
        return result

    def _backfill_claim(self, cid: UUID, customer_id: UUID, actor: Actor) -> tuple[bool, UUID]:
        """Claim `cid` for the customer where unclaimed: whether a claim was written, and
        who holds the number now."""
        for _ in range(3):
            at = self.now()
            claim = self._load_or_blank(IdentityClaim, cid, at)
            try:
                if not claim.claim(customer_id, actor, at):
                    return False, customer_id
            except AlreadyRegistered as exc:
                return False, exc.customer_id
            try:
                self._save(claim)
            except VersionConflict:
                continue  # a registration claimed it meanwhile: look again
            return True, customer_id
        raise VersionConflict("the identity claim keeps changing; run the backfill again")
