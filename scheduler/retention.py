"""Daily retention: retention running out, and erasure (crypto-shredding) when allowed.

For every customer, as of the day:

- an ended relationship whose retention period (10 years by default) has run out is
  recorded as RetentionExpired (`expire_retention`);
- a customer whose erasure was requested, whose retention has run out (or a prospect
  never onboarded, who has nothing to retain) and who has no
  legal hold is erased (`erase_customer`: CustomerErased, then the customer's keys are
  destroyed); a hold or running retention leaves the customer restricted and counted.

Idempotent: an erased customer can no longer be read and is skipped; one whose erasure
was recorded but whose keys were not yet destroyed (a crash in between) is completed.
"""

from __future__ import annotations

from uuid import UUID

from domain.records import CustomerRecord
from scheduler.context import JobContext


def run(ctx: JobContext) -> None:
    """Expire retention that ran out and erase the customers the rules allow to erase."""

    def review(customer_id: UUID) -> str:
        customer: CustomerRecord = ctx.app.get_customer(customer_id)
        if customer.status == "erased":
            ctx.app.erase_customer(customer_id, ctx.actor)
            return "erasure_completed"
        if customer.status == "ended" and ctx.app.expire_retention(customer_id, ctx.actor):
            ctx.count("retention_expired")
        if customer.erasure_requested_on is None:
            return "kept"
        decision = ctx.app.erasure_status(customer_id)
        if decision == "erase":
            ctx.app.erase_customer(customer_id, ctx.actor)
            return "erased_now"
        return str(decision)

    ctx.each(ctx.app.customer_ids(), review, "customers")
