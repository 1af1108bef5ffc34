"""The `customers` view: one row per customer (the 360 core, search, distribution,
watch-lists) and the customer's interactions.

Personal fields (name, phone, e-mail, ID number, segment, value, special-care
reasons...) are only ever in
the row's `encrypted` column, encrypted under the customer's own key
(projections.field_encryption); name, phone, e-mail, ID number, account number
and segment are also kept as blind index digests for exact-match search.
Everything else in the row is C1.
`CustomerErased` deletes every row about the customer and leaves a tombstone that
says only "erased".
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from domain import customer as c
from domain.personal_data import PROFILE_FIELDS
from projections.base import EventContext, Handler, Tx, ViewProjection, as_json, day, plain, when
from projections.customer_facts import count, fact_handlers, prefetch_customers, reencrypt, touch
from projections.schema import CUSTOMER, CUSTOMER_TABLE, INTERACTION_TABLE

PERSONAL = tuple(name for name, field in PROFILE_FIELDS.items() if field.personal)
COLUMNS_C1 = ("branch", "relationship_manager", "risk_preference", "industry", "company_size")
INDEXED = {
    "name": "name_ix",
    "phone": "phone_ix",
    "email": "email_ix",
    "account_number": "account_number_ix",
}


class CustomersProjection(ViewProjection):
    """Customer rows and interactions (see the module docstring)."""

    name = "customers"
    tables = (CUSTOMER_TABLE, INTERACTION_TABLE)

    def handlers(self) -> Mapping[type, Handler]:
        """The customer's own events, and the other streams about it (customer_facts)."""
        return {
            c.CustomerRegistered: self.registered,
            c.ProfileFieldChanged: self.profile_changed,
            c.CustomerStatusChanged: lambda tx, e, x: touch(
                tx, e.originator_id, e, x, status=e.to_status
            ),
            c.CustomerClassified: self.classified,
            c.SpecialCareFlagged: self.care_flagged,
            c.PreferencesRecorded: self.preferences_recorded,
            c.RelationshipEnded: lambda tx, e, x: touch(
                tx, e.originator_id, e, x, status="ended", ended_on=day(e.ended_on)
            ),
            c.RetentionExpired: lambda tx, e, x: touch(
                tx, e.originator_id, e, x, status="retention_expired"
            ),
            c.ErasureRequested: lambda tx, e, x: touch(
                tx, e.originator_id, e, x, erasure_requested_on=day(e.requested_on)
            ),
            c.ProcessingRestricted: lambda tx, e, x: touch(
                tx, e.originator_id, e, x, processing_restricted=1
            ),
            c.LegalHoldPlaced: lambda tx, e, x: self.count_hold(tx, e, x, +1),
            c.LegalHoldLifted: lambda tx, e, x: self.count_hold(tx, e, x, -1),
            c.CustomerErased: self.erased,
            **fact_handlers(),
        }

    def prefetch(self, tx: Tx, events: Sequence[Any]) -> None:
        """The rows of every customer the batch is about (customer_facts)."""
        prefetch_customers(tx, events)

    # --- the customer aggregate --------------------------------------------------------

    def registered(self, tx: Tx, event: c.CustomerRegistered, ctx: EventContext) -> None:
        """A new row: C1 columns in clear, personal fields encrypted, blind indexes."""
        cid = str(event.originator_id)
        personal = {name: plain(getattr(event, name)) for name in PERSONAL}
        at = when(event.occurred_at)
        tx.delete(CUSTOMER, {"customer_id": cid})
        tx.insert_ignore(
            CUSTOMER,
            {
                "customer_id": cid,
                "kind": event.kind,
                "status": event.status,
                **{name: getattr(event, name) for name in COLUMNS_C1},
                "stage": event.stage,
                "registered_on": day(event.registered_on),
                "personal_ref": ctx.key_ref,
                "encrypted": ctx.cipher.encrypt(ctx.key_ref, cid, CUSTOMER, personal),
                **{
                    column: ctx.index.digest(field, getattr(event, field))
                    for field, column in INDEXED.items()
                },
                "created_at": at,
                "updated_at": at,
                "position": ctx.position,
            },
        )

    def profile_changed(self, tx: Tx, event: c.ProfileFieldChanged, ctx: EventContext) -> None:
        """A personal field is re-encrypted (and re-indexed); a C1 one is set in clear."""
        field = event.field
        if field in PERSONAL:
            reencrypt(tx, event.originator_id, event, ctx, **{field: event.value})
            if field in INDEXED:
                digest = ctx.index.digest(field, event.value)
                touch(tx, event.originator_id, event, ctx, **{INDEXED[field]: digest})
        elif field in (*COLUMNS_C1, "stage"):
            touch(tx, event.originator_id, event, ctx, **{field: event.value})

    def classified(self, tx: Tx, event: c.CustomerClassified, ctx: EventContext) -> None:
        """The segment is C2: encrypted, and searchable by its blind index only."""
        reencrypt(tx, event.originator_id, event, ctx, segment=event.segment)
        digest = ctx.index.digest("segment", event.segment)
        touch(tx, event.originator_id, event, ctx, segment_ix=digest)

    def preferences_recorded(self, tx: Tx, event: c.PreferencesRecorded, ctx: EventContext) -> None:
        """Needs, interests (C1 codes) and notes (C2) join the row's encrypted fields, so
        that they leave with the customer's key like the rest of the profile."""
        reencrypt(
            tx,
            event.originator_id,
            event,
            ctx,
            needs=list(event.needs),
            interests=list(event.interests),
            preference_notes=event.notes,
        )

    def care_flagged(self, tx: Tx, event: c.SpecialCareFlagged, ctx: EventContext) -> None:
        """The special-care reasons (health data: encrypted under the customer's key,
        only `needs_care` 0/1 in clear), measures and follow-up interval."""
        reasons = sorted(event.reasons)
        reencrypt(tx, event.originator_id, event, ctx, care_reasons=reasons)
        touch(
            tx,
            event.originator_id,
            event,
            ctx,
            needs_care=1 if reasons else 0,
            care_measures=as_json(sorted(event.measures)),
            care_follow_up_days=event.follow_up_days,
        )

    def count_hold(self, tx: Tx, event: Any, ctx: EventContext, step: int) -> None:
        """Count legal holds up (placed) or down (lifted)."""
        count(tx, event.originator_id, event, ctx, "legal_holds", step)

    def erased(self, tx: Tx, event: c.CustomerErased, ctx: EventContext) -> None:
        """Delete everything about the customer; leave a tombstone saying only `erased`."""
        cid = str(event.originator_id)
        self.purge_customer(tx, cid)
        at = when(event.occurred_at)
        tx.insert_ignore(
            CUSTOMER,
            {
                "customer_id": cid,
                "status": "erased",
                "erased_at": at,
                "created_at": at,
                "updated_at": at,
                "position": ctx.position,
            },
        )
