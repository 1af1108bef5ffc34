"""The `customers` view: one row per customer (the 360 core, search, distribution,
watch-lists) and the customer's interactions.

Personal fields (name, phone, e-mail, ID number, segment, value...) are only ever in
the row's `sealed` column, encrypted under the customer's own key
(projections.sealing); phone, e-mail, ID number and segment are also kept as blind
index digests for exact-match search. Everything else in the row is C1.
`CustomerErased` deletes every row about the customer and leaves a tombstone that
says only "erased".
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from domain import customer as c
from domain import grading as g
from domain import interaction as i
from domain import kyc as k
from domain import value as v
from domain.personal_data import PROFILE_FIELDS
from projections.base import EventContext, Handler, Tx, ViewProjection, as_json, day, plain, when
from projections.schema import CUSTOMER, CUSTOMER_TABLE, INTERACTION, INTERACTION_TABLE

PERSONAL = tuple(name for name, field in PROFILE_FIELDS.items() if field.personal)
COLUMNS_C1 = ("branch", "relationship_manager", "risk_preference", "industry", "company_size")
INDEXED = {"phone": "phone_ix", "email": "email_ix"}


def _touch(tx: Tx, customer_id: Any, event: Any, ctx: EventContext, **values: Any) -> None:
    """Update the customer's row (if it exists) and stamp the change."""
    values.update(updated_at=when(event.occurred_at), position=ctx.position)
    tx.update(CUSTOMER, {"customer_id": str(customer_id)}, values)


def _reseal(tx: Tx, customer_id: Any, event: Any, ctx: EventContext, **changes: Any) -> None:
    """Merge `changes` into the row's sealed personal fields, re-sealed under the subject key."""
    cid = str(customer_id)
    row = tx.one("SELECT sealed_ref, sealed FROM {pv_customer} WHERE customer_id=?", [cid])
    if row is None:
        return
    data: dict[str, Any] = {}
    if row["sealed"] is not None:
        data = ctx.cipher.open(row["sealed_ref"], cid, CUSTOMER, bytes(row["sealed"]))
    data.update(plain(changes))
    sealed = ctx.cipher.seal(ctx.key_ref, cid, CUSTOMER, data)
    _touch(tx, cid, event, ctx, sealed_ref=ctx.key_ref, sealed=sealed)


class CustomersProjection(ViewProjection):
    """Customer rows and interactions (see the module docstring)."""

    name = "customers"
    tables = (CUSTOMER_TABLE, INTERACTION_TABLE)

    def handlers(self) -> Mapping[type, Handler]:
        return {
            c.CustomerRegistered: self.registered,
            c.ProfileFieldChanged: self.profile_changed,
            c.CustomerStatusChanged: lambda tx, e, x: _touch(
                tx, e.originator_id, e, x, status=e.to_status
            ),
            c.CustomerClassified: self.classified,
            c.SpecialCareFlagged: self.care_flagged,
            c.RelationshipEnded: lambda tx, e, x: _touch(
                tx, e.originator_id, e, x, status="ended", ended_on=day(e.ended_on)
            ),
            c.RetentionExpired: lambda tx, e, x: _touch(
                tx, e.originator_id, e, x, status="retention_expired"
            ),
            c.ErasureRequested: lambda tx, e, x: _touch(
                tx, e.originator_id, e, x, erasure_requested_on=day(e.requested_on)
            ),
            c.ProcessingRestricted: lambda tx, e, x: _touch(
                tx, e.originator_id, e, x, processing_restricted=1
            ),
            c.LegalHoldPlaced: lambda tx, e, x: self.count_hold(tx, e, x, +1),
            c.LegalHoldLifted: lambda tx, e, x: self.count_hold(tx, e, x, -1),
            c.CustomerErased: self.erased,
            k.KycFileOpened: lambda tx, e, x: _touch(
                tx,
                e.customer_id,
                e,
                x,
                rating_due_on=day(e.rating_due_on),
                review_state="pending_rating",
            ),
            k.IdentityDocumentRecorded: self.document_recorded,
            k.RiskRatingAssigned: self.rated,
            k.ReverificationDue: lambda tx, e, x: _touch(
                tx, e.customer_id, e, x, review_state=e.review_state
            ),
            k.ReverificationStarted: lambda tx, e, x: _touch(
                tx, e.customer_id, e, x, review_state="in_review", review_trigger=e.trigger
            ),
            k.ReverificationCompleted: lambda tx, e, x: _touch(
                tx,
                e.customer_id,
                e,
                x,
                review_state="current",
                review_trigger=None,
                risk_level=e.risk_level,
                last_verified_on=day(e.verified_on),
                next_review_due=day(e.next_review_due),
            ),
            k.IdentityDocumentExpired: lambda tx, e, x: _touch(
                tx, e.customer_id, e, x, doc_status="expired"
            ),
            k.BusinessSuspended: lambda tx, e, x: _touch(
                tx, e.customer_id, e, x, business_suspended=1
            ),
            k.BusinessRestored: lambda tx, e, x: _touch(
                tx, e.customer_id, e, x, business_suspended=0
            ),
            g.GradeAssigned: lambda tx, e, x: _touch(
                tx, e.customer_id, e, x, grade_period=e.period, grade_score=str(e.score)
            ),
            g.TierChanged: lambda tx, e, x: _touch(
                tx, e.customer_id, e, x, tier=e.to_tier, tier_since=when(e.occurred_at)
            ),
            v.ValueAssessed: self.value_assessed,
            v.ChurnRiskDetected: lambda tx, e, x: _touch(
                tx,
                e.customer_id,
                e,
                x,
                churn_state="at_risk",
                churn_signals=as_json(sorted(e.signals)),
                churn_since=day(e.as_of),
            ),
            v.RetentionActionTaken: lambda tx, e, x: tx.execute(
                "UPDATE {pv_customer} SET retention_actions=retention_actions+1, "
                "updated_at=?, position=? WHERE customer_id=?",
                [when(e.occurred_at), x.position, str(e.customer_id)],
            ),
            v.ChurnRiskCleared: lambda tx, e, x: _touch(
                tx, e.customer_id, e, x, churn_state="cleared", churn_signals="[]", churn_since=None
            ),
            v.CustomerChurned: lambda tx, e, x: _touch(
                tx, e.customer_id, e, x, churn_state="churned", churn_since=day(e.churned_on)
            ),
            i.InteractionLogged: lambda tx, e, x: self.contact(
                tx, e, x, "interaction", e.contact_channel, e.direction, e.purpose, e.topic
            ),
            i.GreetingSent: lambda tx, e, x: self.contact(
                tx, e, x, "greeting", e.contact_channel, "outbound", "greeting", e.occasion
            ),
            i.CareVisitRecorded: self.care_visit,
        }

    # --- the customer aggregate --------------------------------------------------------

    def registered(self, tx: Tx, event: c.CustomerRegistered, ctx: EventContext) -> None:
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
                "sealed_ref": ctx.key_ref,
                "sealed": ctx.cipher.seal(ctx.key_ref, cid, CUSTOMER, personal),
                "phone_ix": ctx.index.digest("phone", event.phone),
                "email_ix": ctx.index.digest("email", event.email),
                "created_at": at,
                "updated_at": at,
                "position": ctx.position,
            },
        )

    def profile_changed(self, tx: Tx, event: c.ProfileFieldChanged, ctx: EventContext) -> None:
        field = event.field
        if field in PERSONAL:
            _reseal(tx, event.originator_id, event, ctx, **{field: event.value})
            if field in INDEXED:
                digest = ctx.index.digest(field, event.value)
                _touch(tx, event.originator_id, event, ctx, **{INDEXED[field]: digest})
        elif field in (*COLUMNS_C1, "stage"):
            _touch(tx, event.originator_id, event, ctx, **{field: event.value})

    def classified(self, tx: Tx, event: c.CustomerClassified, ctx: EventContext) -> None:
        _reseal(tx, event.originator_id, event, ctx, segment=event.segment)
        digest = ctx.index.digest("segment", event.segment)
        _touch(tx, event.originator_id, event, ctx, segment_ix=digest)

    def care_flagged(self, tx: Tx, event: c.SpecialCareFlagged, ctx: EventContext) -> None:
        _touch(
            tx,
            event.originator_id,
            event,
            ctx,
            care_reasons=as_json(sorted(event.reasons)),
            care_measures=as_json(sorted(event.measures)),
            care_follow_up_days=event.follow_up_days,
        )

    def count_hold(self, tx: Tx, event: Any, ctx: EventContext, step: int) -> None:
        tx.execute(
            "UPDATE {pv_customer} SET legal_holds=legal_holds+?, updated_at=?, position=? "
            "WHERE customer_id=?",
            [step, when(event.occurred_at), ctx.position, str(event.originator_id)],
        )

    def erased(self, tx: Tx, event: c.CustomerErased, ctx: EventContext) -> None:
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

    # --- KYC, value, contacts ----------------------------------------------------------

    def document_recorded(
        self, tx: Tx, event: k.IdentityDocumentRecorded, ctx: EventContext
    ) -> None:
        _reseal(tx, event.customer_id, event, ctx, doc_number=event.doc_number)
        _touch(
            tx,
            event.customer_id,
            event,
            ctx,
            doc_type=event.doc_type,
            doc_expires_on=day(event.expires_on),
            doc_status=event.doc_status,
            id_number_ix=ctx.index.digest("id_number", event.doc_number),
        )

    def rated(self, tx: Tx, event: k.RiskRatingAssigned, ctx: EventContext) -> None:
        tx.execute(
            "UPDATE {pv_customer} SET risk_level=?, last_verified_on=?, next_review_due=?, "
            "review_state=CASE WHEN review_state='pending_rating' OR review_state IS NULL "
            "THEN 'current' ELSE review_state END, updated_at=?, position=? WHERE customer_id=?",
            [
                event.risk_level,
                day(event.verified_on),
                day(event.next_review_due),
                when(event.occurred_at),
                ctx.position,
                str(event.customer_id),
            ],
        )

    def value_assessed(self, tx: Tx, event: v.ValueAssessed, ctx: EventContext) -> None:
        _reseal(
            tx,
            event.customer_id,
            event,
            ctx,
            current_value=event.current_value,
            potential_value=event.potential_value,
            uplift=event.uplift,
        )
        _touch(
            tx,
            event.customer_id,
            event,
            ctx,
            rfm=as_json(event.rfm),
            value_assessed_on=day(event.as_of),
        )

    def contact(self, tx: Tx, event: Any, ctx: EventContext, kind: str, *fields: Any) -> None:
        cid = str(event.customer_id)
        if tx.one("SELECT 1 AS x FROM {pv_customer} WHERE customer_id=?", [cid]) is None:
            return
        channel, direction, purpose, topic = fields
        at = when(event.occurred_at)
        tx.insert_ignore(
            INTERACTION,
            {
                "customer_id": cid,
                "position": ctx.position,
                "at": at,
                "kind": kind,
                "channel": channel,
                "direction": direction,
                "purpose": purpose,
                "topic": topic,
                "actor_id": event.actor_id,
            },
        )
        tx.execute(
            "UPDATE {pv_customer} SET interactions=interactions+1, last_contact_at=?, "
            "updated_at=?, position=? WHERE customer_id=?",
            [at, at, ctx.position, cid],
        )

    def care_visit(self, tx: Tx, event: i.CareVisitRecorded, ctx: EventContext) -> None:
        self.contact(tx, event, ctx, "care_visit", None, "outbound", "care", event.visit_kind)
        _touch(
            tx,
            event.customer_id,
            event,
            ctx,
            last_care_visit_on=day(event.visited_on),
            next_care_due_on=day(event.next_due_on),
        )
