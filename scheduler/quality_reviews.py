"""Daily quality reviews (policy 4.1, 8.3): standards and improvement plans overdue.

- every service standard not reviewed within `standard_review_months` (12 by default)
  of its last review or (re)definition -> StandardReviewOverdue, once per review due
  date (`note_standard_review_overdue`);
- every improvement plan still open after its due date -> ImprovementPlanOverdue, once
  a plan (`note_improvement_plans_overdue`).

Each kind the run records raises one `warning` alert (a count: standards and plans name
no customer). Idempotent: re-runs of the day record nothing twice and alert once.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from uuid import UUID

from domain.evaluation import ImprovementPlanOpened
from domain.quality import ServiceStandardDefined
from scheduler.context import JobContext
from scheduler.population import stream_ids


def distinct(ids: Iterable[UUID]) -> Iterator[UUID]:
    """Each id once, in the order first seen (a stream may have several such events)."""
    seen: set[UUID] = set()
    for stream_id in ids:
        if stream_id not in seen:
            seen.add(stream_id)
            yield stream_id


def run(ctx: JobContext) -> None:
    """Flag standards past their review and improvement plans past their due date."""

    def review(standard_id: UUID) -> str:
        noted = ctx.app.note_standard_review_overdue(standard_id, ctx.actor)
        return "review_overdue" if noted else "checked"

    def plans(evaluation_id: UUID) -> str | None:
        noted = int(ctx.app.note_improvement_plans_overdue(evaluation_id, ctx.actor))
        if noted:
            ctx.count("plans_overdue", noted)
        return "checked"

    ctx.each(distinct(stream_ids(ctx.app, ServiceStandardDefined)), review, "standards")
    ctx.each(distinct(stream_ids(ctx.app, ImprovementPlanOpened)), plans, "evaluations")
    ctx.alert_warnings(
        "standard_review_overdue", "standards_review_overdue", "service standard review(s) overdue"
    )
    ctx.alert_warnings("improvement_plan_overdue", "plans_overdue", "improvement plan(s) overdue")
