"""The `quality` view: service standards per step with their responsible duty and how
often recorded measurements breached them, every course staff completed, and the use
made of evaluations (improvement plans and recognitions, policy 8.3).

Nothing here is about a customer: staff appear by employee id only (C1), so the view
holds no personal data and erasure leaves it untouched.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from domain import evaluation as ev
from domain import quality as q
from domain import training as t
from projections.base import EventContext, Handler, Tx, ViewProjection, as_json, day, when
from projections.paging import Where
from projections.schema import (
    EVALUATION_USE,
    EVALUATION_USE_TABLE,
    STANDARD,
    STANDARD_TABLE,
    TRAINING,
    TRAINING_TABLE,
)
from projections.store import ViewStore


class QualityProjection(ViewProjection):
    """Service standards and staff training (see the module docstring)."""

    name = "quality"
    tables = (STANDARD_TABLE, TRAINING_TABLE, EVALUATION_USE_TABLE)

    def handlers(self) -> Mapping[type, Handler]:
        """A definition (re)sets a standard's row; measurements and breaches count on it."""
        return {
            q.ServiceStandardDefined: self.defined,
            q.MeasurementRecorded: self.measured,
            q.StandardBreachRecorded: self.breached,
            t.TrainingCompleted: self.trained,
            ev.ImprovementPlanOpened: self.planned,
            ev.RecognitionRecorded: self.recognised,
        }

    def defined(self, tx: Tx, event: q.ServiceStandardDefined, ctx: EventContext) -> None:
        """The standard's row with its step, duty and target (counts kept on redefinition)."""
        tx.upsert(
            STANDARD,
            ("code",),
            {
                "code": event.code,
                "standard_id": str(event.originator_id),
                "name": event.name,
                "step": event.step,
                "duty": event.duty,
                "measure": event.measure,
                "target": str(event.target),
                "unit": event.unit,
                "position": ctx.position,
            },
        )

    def measured(self, tx: Tx, event: q.MeasurementRecorded, ctx: EventContext) -> None:
        """One more measurement of the standard."""
        tx.execute(
            "UPDATE {pv_standard} SET measurements=measurements+1, last_measured_at=?, "
            "position=? WHERE standard_id=?",
            [when(event.occurred_at), ctx.position, str(event.originator_id)],
        )

    def breached(self, tx: Tx, event: q.StandardBreachRecorded, ctx: EventContext) -> None:
        """One more breach of the standard (computed or recorded by hand)."""
        tx.execute(
            "UPDATE {pv_standard} SET breaches=breaches+1, position=? WHERE standard_id=?",
            [ctx.position, str(event.originator_id)],
        )

    def trained(self, tx: Tx, event: t.TrainingCompleted, ctx: EventContext) -> None:
        """One row per completed course."""
        tx.insert_ignore(
            TRAINING,
            {
                "record_id": str(event.originator_id),
                "version": event.originator_version,
                "staff_id": event.staff_id,
                "course": event.course,
                "topic": event.topic,
                "completed_on": day(event.completed_on),
                "hours": str(event.hours),
                "provider": event.provider,
                "standard_code": event.standard_code,
                "position": ctx.position,
            },
        )

    def planned(self, tx: Tx, event: ev.ImprovementPlanOpened, ctx: EventContext) -> None:
        """An improvement plan: the KPIs below target, its owner and due date."""
        self._use(tx, event, ctx, "improvement_plan", event.shortfalls, event.owner, event.due_on)

    def recognised(self, tx: Tx, event: ev.RecognitionRecorded, ctx: EventContext) -> None:
        """A recognition: the KPIs on target and who is recognised."""
        self._use(tx, event, ctx, "recognition", event.achievements, event.recipient, None)

    @staticmethod
    def _use(
        tx: Tx, event: Any, ctx: EventContext, kind: str, kpis: Mapping[str, Any],
        responsible: str, due_on: Any,
    ) -> None:  # fmt: skip
        tx.insert_ignore(
            EVALUATION_USE,
            {
                "evaluation_id": str(event.originator_id),
                "version": event.originator_version,
                "period": event.period,
                "scope": event.scope,
                "kind": kind,
                "kpis": as_json(sorted(kpis)),
                "responsible": responsible,
                "due_on": day(due_on),
                "evaluated_version": event.evaluated_version,
                "recorded_at": when(event.occurred_at),
                "position": ctx.position,
            },
        )


class QualityQueries:
    """Read side of the `quality` view."""

    def __init__(self, store: ViewStore) -> None:
        self.store = store
        self.t = {name: store.table(name) for name in (STANDARD, TRAINING, EVALUATION_USE)}

    def service_standards(self, *, step: str | None = None) -> list[dict[str, Any]]:
        """Every standard (of `step`) with its duty, target, measurements and breaches,
        and the share of measurements that breached; by step and code."""
        where = Where().equal("step", step)
        rows = self.store.rows(
            f"SELECT * FROM {self.t[STANDARD]}{where.sql} ORDER BY step, code", where.params
        )
        return [
            {
                "code": r["code"],
                "name": r["name"],
                "step": r["step"],
                "duty": r["duty"],
                "measure": r["measure"],
                "target": r["target"],
                "unit": r["unit"],
                "measurements": int(r["measurements"]),
                "breaches": int(r["breaches"]),
                "breach_rate": _share(int(r["breaches"]), int(r["measurements"])),
                "last_measured_at": r["last_measured_at"],
            }
            for r in rows
        ]

    def staff_training(
        self, *, staff_id: str | None = None, standard_code: str | None = None
    ) -> list[dict[str, Any]]:
        """Every course completed (by `staff_id`, or answering `standard_code`), newest
        first."""
        where = Where().equal("staff_id", staff_id).equal("standard_code", standard_code)
        rows = self.store.rows(
            f"SELECT * FROM {self.t[TRAINING]}{where.sql} "
            "ORDER BY completed_on DESC, staff_id, version",
            where.params,
        )
        columns = ("staff_id", "course", "topic", "completed_on", "hours", "provider")
        return [{**{c: r[c] for c in columns}, "standard_code": r["standard_code"]} for r in rows]

    def evaluation_use(
        self, *, period: str | None = None, kind: str | None = None
    ) -> list[dict[str, Any]]:
        """Improvement plans and recognitions recorded against evaluations, by period
        and scope, each with the KPIs it answers and the evaluation version it read."""
        where = Where().equal("period", period).equal("kind", kind)
        rows = self.store.rows(
            f"SELECT * FROM {self.t[EVALUATION_USE]}{where.sql} "
            "ORDER BY period, scope, recorded_at, version",
            where.params,
        )
        columns = ("period", "scope", "kind", "responsible", "due_on", "recorded_at")
        return [
            {
                **{c: r[c] for c in columns},
                "kpis": json.loads(r["kpis"]),
                "evaluated_version": int(r["evaluated_version"]),
            }
            for r in rows
        ]


def _share(part: int, whole: int) -> str | None:
    if whole == 0:
        return None
    return str((Decimal(part) / Decimal(whole)).quantize(Decimal("0.0001")))
