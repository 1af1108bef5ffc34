"""Daily re-verification: due soon / overdue by risk rating, identity documents expiring.

For every active, at-risk or dormant customer (restricted ones too: KYC is required
by law), as of the run's day:

- the identity document: expired and not yet recorded -> IdentityDocumentExpired,
  BusinessSuspended and a review forced at once (`check_identity_document`);
  entering its expiry window (90 days by default) -> IdentityDocumentExpiring, once per
  document and expiry date (`note_identity_document_expiring`);
- the re-verification cycle: ReverificationDue when the file moves to due soon (30
  days before) or overdue (`check_reverification`);
- a risk rating still missing after its deadline (10 working days) -> RiskRatingOverdue,
  once per file (`note_risk_rating_overdue`).

Each warning recorded by the run raises one `warning` alert per kind (a count, no
customer); the customers are on the re-verification watch-list.

Idempotent: every check records only a change of state, so a second run of the same
day, or the rest of a run that failed midway, records nothing twice.
"""

from __future__ import annotations

from uuid import UUID

from domain.errors import NotFound
from domain.records import KycRecord
from scheduler.context import JobContext
from scheduler.population import customers


def run(ctx: JobContext) -> None:
    """Check every customer's identity document and re-verification cycle as of today."""
    today = ctx.today

    def check(customer_id: UUID) -> str | None:
        try:
            before: KycRecord = ctx.app.get_kyc(customer_id)
        except NotFound:
            return "no_kyc_file"
        document = ctx.app.check_identity_document(customer_id, ctx.actor)
        if document == "expiring":
            ctx.count("id_expiring")
            if ctx.app.note_identity_document_expiring(customer_id, ctx.actor):
                ctx.count("id_expiring_recorded")
        elif document == "expired":
            ctx.count("id_expired")
            if before.doc_status != "expired":
                ctx.count("business_suspended")
        state = ctx.app.check_reverification(customer_id, ctx.actor)
        if state != before.review_state and state in ("due_soon", "overdue"):
            ctx.count(f"marked_{state}")
        if state == "pending_rating" and before.rating_due_on and before.rating_due_on < today:
            ctx.count("risk_rating_overdue")
            if ctx.app.note_risk_rating_overdue(customer_id, ctx.actor):
                ctx.count("risk_rating_overdue_recorded")
        return str(state)

    ctx.each(
        (view.id for view in customers(ctx, include_restricted=True)),
        check,
        "review",
    )
    ctx.alert_warnings("id_document_expiring", "id_expiring_recorded", "ID document(s) expiring")
    ctx.alert_warnings(
        "risk_rating_overdue", "risk_rating_overdue_recorded", "risk rating(s) overdue"
    )
