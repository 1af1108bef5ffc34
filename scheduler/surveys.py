"""Regular satisfaction surveys (policy 5.1), once a quarter by default.

Of the active, at-risk and dormant customers not under restriction, those not surveyed
within `survey_interval_days` (90 by default) are due, and `survey_sample_percent` of
them (10 % by default) are drawn by the rule `survey_due`; each drawn customer with a
live `research` consent gets the period's CSAT survey (`send_periodic_survey`), whose
four dimensions the answer scores. A drawn customer without that consent is counted,
not surveyed.

Exactly once per customer and period: the survey's id derives from customer and period,
so a re-run (after a failure, by hand, or by a second scheduler) skips the customers it
already surveyed, and the draw is deterministic, so it picks the same customers.
"""

from __future__ import annotations

from datetime import date

from domain.errors import ConsentRequired
from domain.records import CustomerRecord
from domain.rules.satisfaction import survey_due
from scheduler.context import JobContext
from scheduler.population import by_customer, customers, surveys


def run(ctx: JobContext) -> None:
    """Send the period's regular survey to the customers the rule draws."""
    today = ctx.today
    own = f"periodic:{ctx.period}"
    last_sent: dict[object, date] = {}
    for customer_id, views in by_customer(surveys(ctx)).items():
        # this period's own surveys do not count: a re-run must still find them due
        sent = [v.sent_at.date() for v in views if v.sent_at is not None and v.context != own]
        if sent:
            last_sent[customer_id] = max(sent)

    def survey(customer: CustomerRecord) -> str:
        if not survey_due(
            customer.id, ctx.period, last_sent.get(customer.id), today, ctx.app.settings
        ):
            return "not_due"
        try:
            sent = ctx.app.send_periodic_survey(customer.id, ctx.period, ctx.actor)
        except ConsentRequired:
            return "without_consent"
        return "surveyed" if sent else "already_surveyed"

    ctx.each(customers(ctx), survey, "customers")
