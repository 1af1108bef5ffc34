"""One record per person: a claim on an identity number, held by one customer at a time.

An identity number (an ID document's number, or a corporate customer's unified social
credit code) is claimed by the customer registered with it. The claim is an aggregate
of its own whose id is derived from a *keyed* digest of the normalised number
(`IdentityIndex` port: the keyring's index key), so:

- the check is atomic in the store: two registrations of one number both write the
  claim's first event at version 1, and the event store's unique (originator id,
  version) constraint lets exactly one of them commit, in the same transaction as its
  customer's events; the other is refused as a whole;
- nothing of the number is stored: the claim's id is a UUID from the keyed digest, its
  events name only the customer holding it (and are encrypted under the system key).

Erasure releases the customer's claims (`IdentityReleased`, in the same write as
`CustomerErased`): the number may then be registered again, as a new customer. The
released claim's id stays in the log (events are never deleted), like every other id;
without the index key it says nothing about the number.
"""

from __future__ import annotations

import re
from datetime import datetime
from uuid import UUID, uuid5

from domain.actor import Actor
from domain.errors import AlreadyExists
from domain.events import LedgerAggregate, LedgerEvent, OpeningEvent

CLAIM_NAMESPACE = UUID("5d3c2a51-8f1e-4f0b-9a64-0c7e2b9d1f37")
_SEPARATORS = re.compile(r"[\s\-()./]")


class AlreadyRegistered(AlreadyExists):
    """The identity number is already held by another customer (one record per person).

    `customer_id` names the customer holding it; the web layer shows it only to roles
    that may read that customer."""

    code = "already_registered"

    def __init__(self, customer_id: UUID) -> None:
        super().__init__("a customer with this identity number is already registered")
        self.customer_id = customer_id


def identity_text(kind: str, number: str) -> str | None:
    """The canonical text a claim digests: `kind:NUMBER`, separators dropped and letters
    upper-cased (what a clerk types with spaces or dashes is the same number); None for
    an empty number. `kind` is the document type, or `credit_code`."""
    text = _SEPARATORS.sub("", number.strip()).upper()
    if not text:
        return None
    return f"{kind}:{text}"


def claim_id(digest: str) -> UUID:
    """The claim aggregate's id for a keyed digest of an identity text."""
    return uuid5(CLAIM_NAMESPACE, digest)


class IdentityClaimed(OpeningEvent):
    """The customer now holds the identity number (first claim, or again after release)."""

    holder_id: UUID

    def apply(self, aggregate: IdentityClaim) -> None:
        aggregate.holder_id = self.holder_id


class IdentityReleased(LedgerEvent):
    """The holder was erased: the number is free for a new registration."""

    holder_id: UUID

    def apply(self, aggregate: IdentityClaim) -> None:
        aggregate.holder_id = None


class IdentityClaim(LedgerAggregate):
    """Who holds an identity number: one customer, or none after its release."""

    def __init__(self) -> None:
        self.holder_id: UUID | None = None

    def claim(self, customer_id: UUID, actor: Actor, at: datetime) -> bool:
        """Record that `customer_id` holds the number; False when it already does.

        Raises AlreadyRegistered when another customer holds it."""
        if self.holder_id == customer_id:
            return False
        if self.holder_id is not None:
            raise AlreadyRegistered(self.holder_id)
        self._record(IdentityClaimed, actor, at, holder_id=customer_id)
        return True

    def release(self, customer_id: UUID, actor: Actor, at: datetime) -> bool:
        """Release the number if `customer_id` holds it; False otherwise."""
        if not self.exists or self.holder_id != customer_id:
            return False
        self._record(IdentityReleased, actor, at, holder_id=customer_id)
        return True
