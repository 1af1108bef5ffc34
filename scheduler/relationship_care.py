"""Daily relationship care: birthday greetings within consent, special care for the elderly.

For every active, at-risk or dormant customer not under restriction, as of the day:

- `review_special_care` flags a customer who has turned 60 (by default) for special
  care (priority channel, periodic follow-up);
- an individual whose birthday is today gets a greeting (`send_greeting`) when a live
  `greetings` consent covers it; a customer born on 29 February is greeted on 28
  February in common years; without consent nothing is sent and it is counted;
- special-care follow-ups due (90 days after the last visit, by default) are counted,
  as `follow_ups_due`; the domain has no event for a follow-up falling due.

Idempotent: a greeting is recorded once per occasion and year, the elderly flag once.
"""

from __future__ import annotations

from calendar import isleap
from datetime import date

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
        return "cared" if reasons else "checked"

    ctx.each(customers(ctx), care, "customers")
