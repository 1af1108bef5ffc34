"""Case SLA (every 15 minutes): escalate at 80 % of a deadline and at breach.

Every unresolved case with a deadline (complaints; enquiries and suggestions, which
have deadlines of their own) is checked against the run's moment with
`check_case_escalation`, which records Escalated once per level and stage (1 at 80 %
of the time allowed, 2 at breach) for each deadline that binds it
(`domain.rules.complaints.binding_deadlines`: a UK complaint's 8-week final response,
never its summary-resolution window; a US complaint's response stage until answered,
and its final stage). Cases whose latest event shows they are resolved, closed or
withdrawn are skipped without being decrypted.

Summary counters: `cases_checked`, `cases_escalated_80pct`, `cases_escalated_breach`,
`cases_escalated_final_80pct`, `cases_escalated_final_breach` (cases of every kind).

Idempotent: a level is recorded once, so re-runs and overlapping runs add nothing.
"""

from __future__ import annotations

from uuid import UUID

from eventsourcing.utils import get_topic

from domain import feedback
from domain.feedback import (
    Closed,
    FeedbackReceived,
    FollowUpCompleted,
    RedressPaid,
    Resolved,
    Withdrawn,
)
from domain.records import CaseRecord
from scheduler.context import JobContext
from scheduler.population import latest_topic, stream_ids

# After any of these, a case is not unresolved (until a Reopened event comes later).
_SETTLED_TOPICS = frozenset(
    get_topic(cls) for cls in (Resolved, RedressPaid, FollowUpCompleted, Closed, Withdrawn)
)


def run(ctx: JobContext) -> None:
    """Escalate every unresolved case that reached 80 % of a deadline or breached it."""

    def escalate(case_id: UUID) -> str | None:
        if latest_topic(ctx.app, case_id) in _SETTLED_TOPICS:
            return None
        case: CaseRecord = ctx.app.get_case(case_id)
        if case.due_at is None or case.state not in feedback.UNRESOLVED_STATES:
            return None
        level = int(ctx.app.check_case_escalation(case_id, ctx.actor))
        if level > case.escalation_level:
            return "escalated_breach" if level >= 2 else "escalated_80pct"
        if case.final_due_at is not None:
            final = ctx.app.get_case(case_id).final_escalation_level
            if final > case.final_escalation_level:
                return "escalated_final_breach" if final >= 2 else "escalated_final_80pct"
        return "checked"

    ctx.each(stream_ids(ctx.app, FeedbackReceived), escalate, "cases")
