"""Festival greetings (daily, policy 7.1): Spring Festival, Mid-Autumn, National Day.

The festivals' days come from the lunar and solar calendars (`security.festivals`, the
`holidays` package); `festivals_on` (rule `greeting_festivals/1`) picks those of the
configured list (`greeting_festivals`) that fall on the run's day. On such a day every
active, at-risk or dormant customer not under restriction is greeted with the firm's
text in their language (zh-CN unless they chose en), and only when a live `greetings`
consent covers it; without one nothing is sent and it is counted as
`greetings_without_consent`. On any other day the run records nothing but itself.

Idempotent: a greeting is recorded once per occasion and year (`greetings_already_sent`
on a re-run).
"""

from __future__ import annotations

from domain.errors import ConsentRequired
from domain.records import CustomerRecord
from domain.rules.care import GREETING_FESTIVALS_VERSION, festivals_on
from scheduler.context import JobContext
from scheduler.population import customers
from security.festivals import festival_dates


def run(ctx: JobContext) -> None:
    """Greet every customer, within consent and in their language, on a festival day."""
    today = ctx.today
    festivals = festivals_on(today, festival_dates(today.year), ctx.app.settings)
    if not festivals:
        ctx.count("no_festival_today")
        return

    def greet(customer: CustomerRecord) -> str:
        for festival in festivals:
            try:
                sent = ctx.app.send_greeting(
                    customer.id,
                    festival,
                    None,
                    ctx.actor,
                    rule_version=GREETING_FESTIVALS_VERSION,
                )
            except ConsentRequired:
                ctx.count("greetings_without_consent")
            else:
                ctx.count("greetings_sent" if sent else "greetings_already_sent")
        return "checked"

    ctx.each(customers(ctx), greet, "customers")
