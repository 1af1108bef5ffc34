"""Daily relationship care: birthday greetings within consent, special care for the elderly.

For every active, at-risk or dormant customer not under restriction, as of the day:

- `review_special_care` flags a customer who has turned 60 (by default) for special
  care (priority channel, periodic follow-up);
- an individual whose birthday is today gets a greeting (`send_greeting`) when a live
  `greetings` consent covers it; a customer born on 29 February is greeted on 28
  February in common years; without consent nothing is sent and it is counted;
- a special-care follow-up past its due date (90 days, by default, after the last
  visit, or after the flagging when there was none: never from a profile change) ->
  CareFollowUpOverdue, once per due date (`note_care_follow_up_overdue`); follow-ups
  due today or earlier are counted as `follow_ups_due`;
- a consent of any purpose past its end date -> ConsentExpired, once (`expire_consent`);
  the consent then authorises nothing.

Each warning recorded by the run raises one `warning` alert per kind (a count, no
customer); the customers are on the special-care watch-list and the consent view.

Idempotent: a greeting is recorded once per occasion and year, the elderly flag once,
an overdue follow-up once per due date, an expiry once per consent record.
"""

from __future__ import annotations

from calendar import isleap
from collections.abc import Callable
from datetime import date
from uuid import UUID

from domain.consent import PURPOSES
from domain.errors import ConsentRequired
from domain.records import CustomerRecord
from scheduler.context import JobContext
from scheduler.population import customers

GREETING = "Happy birthday from all of us at your branch."


def is_birthday(date_of_birth: date, today: date) -> bool:
    """True on the birthday; 29 February birthdays fall on 28 February in common years."""
    if (date_of_birth.month, date_of_birth.day) == (2, 29) and not isleap(today.year):
        return (today.month, today.day) == (2, 28)
    return (date_of_birth.month, date_of_birth.day) == (today.month, today.day)


def run(ctx: JobContext) -> None:
    """Flag the newly elderly, greet today's birthdays within consent, count follow-ups due."""
    today = ctx.today

    def care(customer: CustomerRecord) -> str:
        reasons = ctx.app.review_special_care(customer.id, ctx.actor)
        if "elderly" in reasons and "elderly" not in customer.special_care:
            ctx.count("elderly_flagged")
        dob = customer.date_of_birth
        if customer.kind == "individual" and dob is not None and is_birthday(dob, today):
            try:
                sent = ctx.app.send_greeting(customer.id, "birthday", GREETING, ctx.actor)
            except ConsentRequired:
                ctx.count("greetings_without_consent")
            else:
                ctx.count("greetings_sent" if sent else "greetings_already_sent")
        due = ctx.app.care_follow_up_due(customer.id) if reasons else None
        if due is not None and due <= today:
            ctx.count("follow_ups_due")
            if ctx.app.note_care_follow_up_overdue(customer.id, ctx.actor):
                ctx.count("follow_ups_overdue_recorded")
        return "cared" if reasons else "checked"

    ctx.each(customers(ctx), care, "customers")
    ctx.each(ctx.app.customer_ids(), expire_consents(ctx), "consents")
    ctx.alert_warnings(
        "care_follow_up_overdue", "follow_ups_overdue_recorded", "care follow-up(s) overdue"
    )
    ctx.alert_warnings("consent_expired", "consents_expired_recorded", "consent(s) expired")


def expire_consents(ctx: JobContext) -> Callable[[UUID], str]:
    """The work for one customer, whatever their status (restricted ones too: an expiry
    only narrows processing): record ConsentExpired for every purpose whose consent
    has run out."""

    def expire(customer_id: UUID) -> str:
        expired = [p for p in PURPOSES if ctx.app.expire_consent(customer_id, p, ctx.actor)]
        ctx.count("consents_expired_recorded", len(expired))
        return "expired" if expired else "checked"

    return expire
