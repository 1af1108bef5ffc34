"""What the other streams about a customer do to its row in the `customers` view: the
KYC file (risk rating, re-verification, identity document), grading, value and churn,
and contacts (interactions, greetings, care visits).

Every handler writes through `touch` (C1 columns) or `reencrypt` (personal fields, encrypted
under the customer's key); a row that does not exist (never registered, or erased)
is left alone. What they read of a customer's row (`Tx.row`) a set-wise batch reads once,
prefetched for all its customers (`prefetch_customers`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from domain import grading as g
from domain import interaction as i
from domain import kyc as k
from domain import value as v
from projections.base import EventContext, Handler, Tx, as_json, day, plain, when
from projections.schema import CUSTOMER, INTERACTION

PERSONAL_COLUMNS = ("personal_ref", "encrypted")  # what `reencrypt` reads of a row
# what the handlers read of a customer's row: a batch prefetches them all at once
READ_COLUMNS = (
    *PERSONAL_COLUMNS,
    "interactions",
    "review_state",
    "retention_actions",
    "legal_holds",
)


def prefetch_customers(tx: Tx, events: Sequence[Any]) -> None:
    """Read at once the rows of every customer a batch's events are about (their
    encrypted fields, or that they do not exist): what `reencrypt` and `contact` read."""
    tx.prefetch(
        CUSTOMER,
        "customer_id",
        {str(getattr(event, "customer_id", None) or event.originator_id) for event in events},
        READ_COLUMNS,
    )


def count(
    tx: Tx, customer_id: Any, event: Any, ctx: EventContext, column: str, step: int = 1
) -> None:
    """Add `step` to a counter of the customer's row (if it exists) and stamp the change:
    the row's value read (set-wise: once per batch) and written by its key, so the write
    joins the batch's grouped writes (`SET column=column+1` would end a group)."""
    row = tx.row(CUSTOMER, {"customer_id": str(customer_id)}, (column,))
    if row is not None:
        touch(tx, customer_id, event, ctx, **{column: row[column] + step})


def touch(tx: Tx, customer_id: Any, event: Any, ctx: EventContext, **values: Any) -> None:
    """Update the customer's row (if it exists) and stamp the change."""
    values.update(updated_at=when(event.occurred_at), position=ctx.position)
    tx.update(CUSTOMER, {"customer_id": str(customer_id)}, values)


def reencrypt(tx: Tx, customer_id: Any, event: Any, ctx: EventContext, **changes: Any) -> None:
    """Merge `changes` into the row's encrypted personal fields, under the subject key."""
    cid = str(customer_id)
    row = tx.row(CUSTOMER, {"customer_id": cid}, PERSONAL_COLUMNS)
    if row is None:
        return
    data: dict[str, Any] = {}
    if row["encrypted"] is not None:
        data = ctx.cipher.decrypt(row["personal_ref"], cid, CUSTOMER, bytes(row["encrypted"]))
    data.update(plain(changes))
    encrypted = ctx.cipher.encrypt(ctx.key_ref, cid, CUSTOMER, data)
    touch(tx, cid, event, ctx, personal_ref=ctx.key_ref, encrypted=encrypted)


def fact_handlers() -> dict[type, Handler]:
    """The handlers of every non-customer stream the `customers` view follows."""
    return {
        k.KycFileOpened: lambda tx, e, x: touch(
            tx,
            e.customer_id,
            e,
            x,
            rating_due_on=day(e.rating_due_on),
            review_state="pending_rating",
        ),
        k.IdentityDocumentRecorded: document_recorded,
        k.RiskRatingAssigned: rated,
        k.ReverificationDue: lambda tx, e, x: touch(
            tx, e.customer_id, e, x, review_state=e.review_state
        ),
        k.ReverificationStarted: lambda tx, e, x: touch(
            tx, e.customer_id, e, x, review_state="in_review", review_trigger=e.trigger
        ),
        k.ReverificationCompleted: lambda tx, e, x: touch(
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
        k.IdentityDocumentExpired: lambda tx, e, x: touch(
            tx, e.customer_id, e, x, doc_status="expired"
        ),
        k.IdentityDocumentExpiring: lambda tx, e, x: touch(
            tx, e.customer_id, e, x, doc_status="expiring"
        ),
        k.RiskRatingOverdue: lambda tx, e, x: touch(tx, e.customer_id, e, x, rating_overdue=1),
        k.BusinessSuspended: lambda tx, e, x: touch(tx, e.customer_id, e, x, business_suspended=1),
        k.BusinessRestored: lambda tx, e, x: touch(tx, e.customer_id, e, x, business_suspended=0),
        g.GradeAssigned: lambda tx, e, x: touch(
            tx, e.customer_id, e, x, grade_period=e.period, grade_score=str(e.score)
        ),
        g.TierChanged: lambda tx, e, x: touch(
            tx, e.customer_id, e, x, tier=e.to_tier, tier_since=when(e.occurred_at)
        ),
        v.ValueAssessed: value_assessed,
        v.ChurnRiskDetected: lambda tx, e, x: touch(
            tx,
            e.customer_id,
            e,
            x,
            churn_state="at_risk",
            churn_signals=as_json(sorted(e.signals)),
            churn_since=day(e.as_of),
        ),
        v.RetentionActionTaken: lambda tx, e, x: count(
            tx, e.customer_id, e, x, "retention_actions"
        ),
        v.ChurnRiskCleared: lambda tx, e, x: touch(
            tx, e.customer_id, e, x, churn_state="cleared", churn_signals="[]", churn_since=None
        ),
        v.CustomerChurned: lambda tx, e, x: touch(
            tx, e.customer_id, e, x, churn_state="churned", churn_since=day(e.churned_on)
        ),
        i.InteractionLogged: lambda tx, e, x: contact(
            tx, e, x, "interaction", e.contact_channel, e.direction, e.purpose, e.topic
        ),
        i.GreetingSent: lambda tx, e, x: contact(
            tx, e, x, "greeting", e.contact_channel, "outbound", "greeting", e.occasion
        ),
        i.CareVisitRecorded: care_visit,
        i.CareFollowUpOverdue: lambda tx, e, x: touch(
            tx, e.customer_id, e, x, next_care_due_on=day(e.due_on), care_overdue_on=day(e.due_on)
        ),
    }


def document_recorded(tx: Tx, event: k.IdentityDocumentRecorded, ctx: EventContext) -> None:
    """The document number goes into the encrypted fields and the ID-number blind index."""
    reencrypt(tx, event.customer_id, event, ctx, doc_number=event.doc_number)
    touch(
        tx,
        event.customer_id,
        event,
        ctx,
        doc_type=event.doc_type,
        doc_expires_on=day(event.expires_on),
        doc_status=event.doc_status,
        id_number_ix=ctx.index.digest("id_number", event.doc_number),
    )


def rated(tx: Tx, event: k.RiskRatingAssigned, ctx: EventContext) -> None:
    """A first rating makes a pending re-verification current (and ends the warning of
    a rating overdue)."""
    row = tx.row(CUSTOMER, {"customer_id": str(event.customer_id)}, ("review_state",))
    if row is None:
        return
    state = row["review_state"]
    touch(
        tx,
        event.customer_id,
        event,
        ctx,
        risk_level=event.risk_level,
        last_verified_on=day(event.verified_on),
        next_review_due=day(event.next_review_due),
        rating_overdue=0,
        review_state="current" if state in (None, "pending_rating") else state,
    )


def value_assessed(tx: Tx, event: v.ValueAssessed, ctx: EventContext) -> None:
    """Amounts are encrypted; only the RFM scores (C1) stay in clear."""
    reencrypt(
        tx,
        event.customer_id,
        event,
        ctx,
        current_value=event.current_value,
        potential_value=event.potential_value,
        uplift=event.uplift,
    )
    touch(
        tx,
        event.customer_id,
        event,
        ctx,
        rfm=as_json(event.rfm),
        value_assessed_on=day(event.as_of),
    )


def contact(tx: Tx, event: Any, ctx: EventContext, kind: str, *fields: Any) -> None:
    """One row per contact (channel, direction, purpose; the topic, personal text,
    encrypted under the customer's key; never the content); ignored for a customer not
    in the view."""
    cid = str(event.customer_id)
    row = tx.row(CUSTOMER, {"customer_id": cid}, ("interactions",))
    if row is None:
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
            "personal_ref": ctx.key_ref,
            "encrypted": ctx.cipher.encrypt(
                ctx.key_ref, cid, INTERACTION, {"topic": topic, "position": ctx.position}
            ),
            "actor_id": event.actor_id,
        },
    )
    tx.update(
        CUSTOMER,
        {"customer_id": cid},
        {
            "interactions": row["interactions"] + 1,
            "last_contact_at": at,
            "updated_at": at,
            "position": ctx.position,
        },
    )


def care_visit(tx: Tx, event: i.CareVisitRecorded, ctx: EventContext) -> None:
    """A contact, and the special-care follow-up dates."""
    contact(tx, event, ctx, "care_visit", None, "outbound", "care", event.visit_kind)
    touch(
        tx,
        event.customer_id,
        event,
        ctx,
        last_care_visit_on=day(event.visited_on),
        next_care_due_on=day(event.next_due_on),
        care_overdue_on=None,
    )
