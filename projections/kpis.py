"""The `kpis` view: the facts chapter 8's KPIs are computed from, per period (calendar
month), branch and staff member, and the evaluations the performance job recorded.

Fact rows, not counters: a KPI table is a GROUP BY over them at query time
(projections.kpi_queries), so erasing a customer removes exactly their facts, and a
rebuild from zero yields the same rows as incremental processing. Staff member: the
case owner (else the customer's relationship manager) for cases, the relationship
manager for customers and their survey answers. The definitions are the performance
job's (`scheduler.performance`): a customer joins when registered active or when a
prospect is activated; the figures are computed by `domain.evaluation.evaluate_kpis`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from domain import customer as c
from domain import evaluation as ev
from domain import feedback as f
from domain import survey as s
from domain import value as v
from projections.base import EventContext, Handler, Tx, ViewProjection, as_json, month, when
from projections.schema import (
    EVALUATION,
    EVALUATION_TABLE,
    KPI_CASE,
    KPI_CASE_TABLE,
    KPI_CUSTOMER,
    KPI_CUSTOMER_TABLE,
    KPI_SURVEY,
    KPI_SURVEY_TABLE,
)


def _customer(tx: Tx, event: Any, ctx: EventContext, **values: Any) -> None:
    tx.update(
        KPI_CUSTOMER,
        {"customer_id": str(event.originator_id)},
        {**values, "position": ctx.position},
    )


class KpisProjection(ViewProjection):
    """KPI facts and recorded evaluations (see the module docstring)."""

    name = "kpis"
    tables = (KPI_CUSTOMER_TABLE, KPI_CASE_TABLE, KPI_SURVEY_TABLE, EVALUATION_TABLE)

    def handlers(self) -> Mapping[type, Handler]:
        """Fact rows for customers, cases and surveys; recorded evaluations; erasure deletes."""
        return {
            c.CustomerRegistered: self.registered,
            c.ProfileFieldChanged: self.profile_changed,
            c.CustomerStatusChanged: self.status_changed,
            c.RelationshipEnded: lambda tx, e, x: _customer(
                tx, e, x, ended_period=month(e.ended_on)
            ),
            c.CustomerErased: lambda tx, e, x: self.purge_customer(tx, str(e.originator_id)),
            v.CustomerChurned: lambda tx, e, x: tx.update(
                KPI_CUSTOMER,
                {"customer_id": str(e.customer_id)},
                {"churned_period": month(e.churned_on), "position": x.position},
            ),
            f.FeedbackReceived: self.case_received,
            f.InvestigationStarted: lambda tx, e, x: self.case(tx, e, x, staff=e.owner),
            f.Resolved: self.case_resolved,
            f.Reopened: lambda tx, e, x: self.case(
                tx, e, x, resolved_period=None, in_time=None, first_contact=None
            ),
            s.SurveySent: self.survey_sent,
            s.SurveyAnswered: lambda tx, e, x: self.survey(
                tx, e, x, answered_period=month(e.occurred_at), score=e.score
            ),
            s.DissatisfactionFlagged: lambda tx, e, x: self.survey(tx, e, x, dissatisfied=1),
            ev.PerformanceEvaluated: self.evaluated,
        }

    # --- customers ---------------------------------------------------------------------

    def registered(self, tx: Tx, event: c.CustomerRegistered, ctx: EventContext) -> None:
        """A customer fact: branch, relationship manager, month joined (a prospect has
        not joined yet)."""
        tx.upsert(
            KPI_CUSTOMER,
            ("customer_id",),
            {
                "customer_id": str(event.originator_id),
                "branch": event.branch,
                "staff": event.relationship_manager,
                "joined_period": month(event.registered_on) if event.status == "active" else None,
                "ended_period": None,
                "churned_period": None,
                "position": ctx.position,
            },
        )

    def profile_changed(self, tx: Tx, event: c.ProfileFieldChanged, ctx: EventContext) -> None:
        """A change of branch or relationship manager moves the customer's facts."""
        if event.field == "branch":
            _customer(tx, event, ctx, branch=event.value)
        elif event.field == "relationship_manager":
            _customer(tx, event, ctx, staff=event.value)

    def status_changed(self, tx: Tx, event: c.CustomerStatusChanged, ctx: EventContext) -> None:
        """An activated prospect joins in the month of its activation (once)."""
        if event.from_status != "prospect":
            return
        tx.execute(
            "UPDATE {pv_kpi_customer} SET joined_period=COALESCE(joined_period, ?), position=? "
            "WHERE customer_id=?",
            [month(event.occurred_at), ctx.position, str(event.originator_id)],
        )

    # --- cases -------------------------------------------------------------------------

    def case(self, tx: Tx, event: Any, ctx: EventContext, **values: Any) -> None:
        """Set columns of the case's fact row."""
        tx.update(
            KPI_CASE, {"case_id": str(event.originator_id)}, {**values, "position": ctx.position}
        )

    def case_received(self, tx: Tx, event: f.FeedbackReceived, ctx: EventContext) -> None:
        """A case fact: kind, branch, month received."""
        tx.upsert(
            KPI_CASE,
            ("case_id",),
            {
                "case_id": str(event.originator_id),
                "customer_id": str(event.customer_id),
                "kind": event.kind,
                "branch": event.branch,
                "staff": None,
                "received_period": month(event.received_at),
                "resolved_period": None,
                "in_time": None,
                "first_contact": None,
                "position": ctx.position,
            },
        )

    def case_resolved(self, tx: Tx, event: f.Resolved, ctx: EventContext) -> None:
        """Month resolved, in time, first contact."""
        self.case(
            tx,
            event,
            ctx,
            resolved_period=month(event.occurred_at),
            in_time=None if event.in_time is None else int(event.in_time),
            first_contact=int(event.first_contact),
        )

    # --- surveys and evaluations ---------------------------------------------------------

    def survey(self, tx: Tx, event: Any, ctx: EventContext, **values: Any) -> None:
        """Set columns of the survey's fact row."""
        tx.update(
            KPI_SURVEY,
            {"survey_id": str(event.originator_id)},
            {**values, "position": ctx.position},
        )

    def survey_sent(self, tx: Tx, event: s.SurveySent, ctx: EventContext) -> None:
        """A survey fact: instrument and month sent."""
        tx.upsert(
            KPI_SURVEY,
            ("survey_id",),
            {
                "survey_id": str(event.originator_id),
                "customer_id": str(event.customer_id),
                "instrument": event.instrument,
                "sent_period": month(event.occurred_at),
                "answered_period": None,
                "score": None,
                "dissatisfied": 0,
                "position": ctx.position,
            },
        )

    def prefetch(self, tx: Tx, events: Sequence[Any]) -> None:
        """The evaluation rows of every period evaluated in the batch."""
        periods = {e.period for e in events if isinstance(e, ev.PerformanceEvaluated)}
        tx.prefetch(EVALUATION, "period", periods, ("evaluations",))

    def evaluated(self, tx: Tx, event: ev.PerformanceEvaluated, ctx: EventContext) -> None:
        """The latest evaluation of a period and scope (counting corrections)."""
        row = tx.row(EVALUATION, {"period": event.period, "scope": event.scope}, ("evaluations",))
        tx.upsert(
            EVALUATION,
            ("period", "scope"),
            {
                "period": event.period,
                "scope": event.scope,
                "metrics": as_json(
                    {k: None if m is None else str(m) for k, m in event.metrics.items()}
                ),
                "formula_version": event.formula_version,
                "evaluated_at": when(event.occurred_at),
                "evaluations": (int(row["evaluations"]) if row else 0) + 1,
                "position": ctx.position,
            },
        )
