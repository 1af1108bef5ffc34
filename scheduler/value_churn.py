"""Daily value assessment, churn early warning and dormancy.

1. Value: every active, at-risk or dormant customer not yet assessed today is
   assessed with `assess_values` (RFM quintiles ranked within that population, CLV).
2. Churn: `scan_churn` for each of them, fed with the customer's complaints (received
   in the last 90 days, open past their deadline) and latest NPS answer, read from the
   feedback cases and surveys; a warning marks the customer at risk, a clean scan
   clears an earlier warning.
3. Lifecycle: `review_lifecycle` marks customers dormant after 180 days without activity.

Idempotent: customers assessed today are not assessed again; a churn scan records only
a change of signals; dormancy is recorded once. A re-run after a failure midway assesses
only the customers left, ranked within the whole population (`population=`), so their
quintiles are those a single complete run would have given (see docs/scheduler.md).
"""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from domain import feedback
from domain.errors import NotFound
from domain.records import CaseRecord, SurveyRecord
from scheduler.context import JobContext
from scheduler.population import by_customer, cases, customers, surveys


def _assessed_today(ctx: JobContext, customer_id: UUID) -> bool:
    try:
        return bool(ctx.app.get_value(customer_id).assessed_on == ctx.today)
    except NotFound:
        return False


def _latest_nps(answers: list[SurveyRecord], until: datetime) -> int | None:
    scored = [
        s
        for s in answers
        if s.instrument == "NPS"
        and s.score is not None
        and s.answered_at is not None
        and s.answered_at <= until
    ]
    if not scored:
        return None
    latest = max(scored, key=lambda s: (s.answered_at, s.id.hex))
    return latest.score


def run(ctx: JobContext) -> None:
    """Assess value, scan churn and review dormancy for every live customer, as of today."""
    population = [view.id for view in customers(ctx)]
    todo = [cid for cid in population if not _assessed_today(ctx, cid)]
    ctx.count("value_already_assessed", len(population) - len(todo))
    if todo:
        ctx.check_stop()
        ctx.app.assess_values(todo, ctx.actor, population=population)
        ctx.count("value_assessed", len(todo))

    complaints = by_customer(c for c in cases(ctx) if c.kind == "complaint")
    answers = by_customer(surveys(ctx))
    now: datetime = ctx.app.now()

    def scan(customer_id: UUID) -> str:
        own: list[CaseRecord] = complaints.get(customer_id, [])
        signals = ctx.app.scan_churn(
            customer_id,
            ctx.actor,
            complaints_received_on=[c.received_at.date() for c in own if c.received_at <= now],
            open_complaint_due_at=[
                c.due_at
                for c in own
                if c.due_at is not None and c.state in feedback.UNRESOLVED_STATES
            ],
            latest_nps=_latest_nps(answers.get(customer_id, []), now),
        )
        for signal in signals:
            ctx.count(f"signal_{signal}")
        status = ctx.app.review_lifecycle(customer_id, ctx.actor)
        if status == "dormant":
            ctx.count("customers_dormant")
        return "at_risk" if signals else "no_signal"

    ctx.each(population, scan, "churn")
