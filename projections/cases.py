"""The `cases` view: every feedback case (complaints first among them) and where it
stands: state, owner, deadlines, escalation level, how and when it was resolved.

Narratives, outcomes, notes and redress amounts are personal and stay in the log;
the view keeps only their C1 circumstances (a count of redress payments, not the
amounts). The complaint queue, SLA board and the 360's open cases read this table.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from domain import customer as c
from domain import feedback as f
from projections.base import EventContext, Handler, Tx, ViewProjection, month, when
from projections.schema import CASE, CASE_TABLE


def _set(tx: Tx, event: Any, ctx: EventContext, **values: Any) -> None:
    """Update the case row of `event` and stamp the change."""
    values.update(updated_at=when(event.occurred_at), position=ctx.position)
    tx.update(CASE, {"case_id": str(event.originator_id)}, values)


class CasesProjection(ViewProjection):
    """Feedback cases (see the module docstring)."""

    name = "cases"
    tables = (CASE_TABLE,)

    def handlers(self) -> Mapping[type, Handler]:
        """Each case event sets the case's state and circumstances; erasure deletes."""
        return {
            f.FeedbackReceived: self.received,
            f.Acknowledged: lambda tx, e, x: _set(
                tx,
                e,
                x,
                state="acknowledged",
                acknowledged_at=when(e.occurred_at),
                acknowledged_due_at=when(e.due_at),
            ),
            f.InvestigationStarted: lambda tx, e, x: _set(
                tx, e, x, state="investigating", owner=e.owner
            ),
            f.DeadlineExtended: lambda tx, e, x: _set(
                tx,
                e,
                x,
                complexity=e.complexity,
                due_at=when(e.due_at),
                final_due_at=when(e.final_due_at),
                approver=e.approver,
                escalation_level=0,
                final_escalation_level=0,
            ),
            f.Escalated: self.escalated,
            f.Resolved: lambda tx, e, x: _set(
                tx,
                e,
                x,
                state="resolved",
                resolved_at=when(e.occurred_at),
                resolved_period=month(e.occurred_at),
                resolved_by=e.actor_id,
                in_time=None if e.in_time is None else int(e.in_time),
                first_contact=int(e.first_contact),
                root_cause=e.root_cause,
            ),
            f.RedressPaid: lambda tx, e, x: tx.execute(
                "UPDATE {pv_case} SET redress_payments=redress_payments+1, updated_at=?, "
                "position=? WHERE case_id=?",
                [when(e.occurred_at), x.position, str(e.originator_id)],
            ),
            f.FollowUpCompleted: lambda tx, e, x: _set(tx, e, x, state="followed_up"),
            f.Closed: lambda tx, e, x: _set(
                tx, e, x, state="closed", closed_at=when(e.occurred_at)
            ),
            f.Reopened: lambda tx, e, x: tx.execute(
                "UPDATE {pv_case} SET state='reopened', closed_at=NULL, reopened=reopened+1, "
                "updated_at=?, position=? WHERE case_id=?",
                [when(e.occurred_at), x.position, str(e.originator_id)],
            ),
            f.Withdrawn: lambda tx, e, x: _set(tx, e, x, state="withdrawn"),
            c.CustomerErased: lambda tx, e, x: self.purge_customer(tx, str(e.originator_id)),
        }

    def received(self, tx: Tx, event: f.FeedbackReceived, ctx: EventContext) -> None:
        """A new case row, state `received`, with its deadlines."""
        at = when(event.occurred_at)
        tx.upsert(
            CASE,
            ("case_id",),
            {
                "case_id": str(event.originator_id),
                "customer_id": str(event.customer_id),
                "kind": event.kind,
                "category": event.category,
                "source": event.source,
                "branch": event.branch,
                "rule_set": event.rule_set,
                "complexity": event.complexity,
                "state": "received",
                "received_at": when(event.received_at),
                "due_at": when(event.due_at),
                "final_due_at": when(event.final_due_at),
                "survey_id": None if event.survey_id is None else str(event.survey_id),
                "product": event.product,
                "received_period": month(event.received_at),
                "created_at": at,
                "updated_at": at,
                "position": ctx.position,
            },
        )

    def escalated(self, tx: Tx, event: f.Escalated, ctx: EventContext) -> None:
        """The level of the stage escalated: the first deadline or the final response."""
        column = "final_escalation_level" if event.stage == "final" else "escalation_level"
        _set(tx, event, ctx, **{column: event.level})
