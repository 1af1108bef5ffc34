"""Quarterly grading: every live customer graded for the quarter just ended.

A run on a quarter's first day (as of that day) grades the previous quarter with
`grade_customer`: GradeAssigned with the rule version and inputs (the last 12 months
of the customer's activity and tenure, and the newest recorded credit assessment or
credit "unknown" with its treatment), TierChanged when the tier held changes
(upgrades at once, downgrades after two quarters below), and RiskMeasuresApplied
when the risk-control measures in force change.

Idempotent: a customer whose grading already lists the quarter is skipped, so the rest
of a run that failed midway is graded and nobody is graded twice. Restricted customers
are not graded (grading is not processing required by law).
"""

from __future__ import annotations

from uuid import UUID

from domain.errors import NotFound
from scheduler.context import JobContext
from scheduler.population import customers


def run(ctx: JobContext) -> None:
    """Grade every active, at-risk or dormant customer for the run's quarter."""

    def grade(customer_id: UUID) -> str:
        try:
            periods = ctx.app.get_grading(customer_id).periods
        except NotFound:
            periods = ()
        if ctx.period in periods:
            return "already_graded"
        view = ctx.app.grade_customer(customer_id, ctx.period, ctx.actor)
        ctx.count(f"tier_{view.tier}")
        return "graded"

    ctx.each((view.id for view in customers(ctx)), grade, "customers")
