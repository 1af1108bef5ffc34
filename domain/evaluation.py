"""Chapter 8: performance evaluation: KPIs per period, overall, per branch, per staff member.

`evaluate_kpis` turns counts into every KPI of DOMAIN.md with the rules of
`domain.rules.kpis` and `domain.rules.satisfaction`, and returns the inputs in a form
that names no customer (score distributions, totals), so the event can be explained
later and stays under the system key.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import ROUND_HALF_EVEN, Decimal

from domain.actor import Actor
from domain.errors import IllegalTransition
from domain.events import LedgerAggregate, LedgerEvent, OpeningEvent
from domain.rules import kpis, satisfaction
from domain.settings import RuleSettings

FORMULA_VERSION = (
    f"{kpis.KPI_FORMULA_VERSION}+{satisfaction.NPS_VERSION}+{satisfaction.CSAT_VERSION}"
)
KPI_NAMES = (
    "csat",
    "nps",
    "loyalty",
    "churn_rate",
    "retention_rate",
    "value_uplift",
    "complaint_sla",
    "first_contact_resolution",
)


@dataclass(frozen=True)
class KpiInputs:
    """The counts one evaluation is computed from, for one period and scope.

    `values_start`/`values_end` map customer ids to value at the start and end of the
    period; only their totals over customers present at both are recorded.
    `loyal_customers` counts customers at the end holding two or more products.
    `cases` counts the cases resolved in the period and `resolved_first_contact` those
    of them resolved at first contact; `resolved` counts the resolved cases that had a
    deadline (complaints) and `resolved_in_time` those resolved by it. This function is
    the one implementation of the formulas: the performance job and the `kpis` view
    both feed it their counts.
    """

    customers_at_start: int = 0
    customers_at_end: int = 0
    new_customers: int = 0
    lost_customers: int = 0
    loyal_customers: int = 0
    values_start: Mapping[str, Decimal] = field(default_factory=dict)
    values_end: Mapping[str, Decimal] = field(default_factory=dict)
    csat_scores: Sequence[int] = ()
    nps_scores: Sequence[int] = ()
    cases: int = 0
    resolved: int = 0
    resolved_in_time: int = 0
    resolved_first_contact: int = 0


def _rate(part: int, whole: int) -> Decimal | None:
    if whole == 0:
        return None
    return (Decimal(part) / Decimal(whole)).quantize(Decimal("0.0001"), ROUND_HALF_EVEN)


def evaluate_kpis(
    inputs: KpiInputs, settings: RuleSettings | None = None
) -> tuple[dict[str, Decimal | None], dict[str, object]]:
    """Return (metrics, recorded inputs). A metric is None when it has no basis (a zero
    denominator). The recorded inputs reproduce every metric and name no customer."""
    common = sorted(inputs.values_start.keys() & inputs.values_end.keys())
    start_total = sum((inputs.values_start[c] for c in common), Decimal(0))
    end_total = sum((inputs.values_end[c] for c in common), Decimal(0))
    metrics: dict[str, Decimal | None] = {
        "csat": satisfaction.csat(list(inputs.csat_scores)),
        "nps": satisfaction.nps(list(inputs.nps_scores), settings=settings),
        "loyalty": _rate(inputs.loyal_customers, inputs.customers_at_end),
        "churn_rate": kpis.churn_rate(inputs.lost_customers, inputs.customers_at_start),
        "retention_rate": kpis.retention_rate(
            inputs.customers_at_end, inputs.new_customers, inputs.customers_at_start
        ),
        "value_uplift": kpis.value_uplift({"all": start_total}, {"all": end_total})
        if common
        else None,
        "complaint_sla": kpis.complaint_sla_rate(inputs.resolved_in_time, inputs.resolved),
        "first_contact_resolution": kpis.first_contact_resolution(
            inputs.resolved_first_contact, inputs.cases
        ),
    }
    recorded: dict[str, object] = {
        "customers_at_start": inputs.customers_at_start,
        "customers_at_end": inputs.customers_at_end,
        "new_customers": inputs.new_customers,
        "lost_customers": inputs.lost_customers,
        "loyal_customers": inputs.loyal_customers,
        "value_customers_in_both": len(common),
        "value_start_total": start_total,
        "value_end_total": end_total,
        "csat_distribution": {str(k): v for k, v in sorted(Counter(inputs.csat_scores).items())},
        "nps_distribution": {str(k): v for k, v in sorted(Counter(inputs.nps_scores).items())},
        "cases": inputs.cases,
        "resolved": inputs.resolved,
        "resolved_in_time": inputs.resolved_in_time,
        "resolved_first_contact": inputs.resolved_first_contact,
    }
    return metrics, recorded


class PerformanceEvaluated(OpeningEvent):
    period: str
    scope: str
    metrics: dict[str, Decimal | None]
    inputs: dict[str, object]
    formula_version: str

    def apply(self, aggregate: Evaluation) -> None:
        aggregate.period = self.period
        aggregate.scope = self.scope
        aggregate.metrics = dict(self.metrics)
        aggregate.inputs = dict(self.inputs)
        aggregate.formula_version = self.formula_version
        aggregate.evaluations += 1
        aggregate.evaluated_version = self.originator_version


class ImprovementPlanOpened(LedgerEvent):
    """An improvement plan for the KPIs an evaluation found below target (policy 8.3).

    `evaluated_version` is the version of the evaluation stream whose metrics and inputs
    the plan answers; `shortfalls` maps each KPI below target to its value and target.
    """

    period: str
    scope: str
    shortfalls: dict[str, dict[str, Decimal]]
    owner: str
    actions: list[str]
    due_on: date
    evaluated_version: int
    rule_version: str

    def apply(self, aggregate: Evaluation) -> None:
        aggregate.improvement_plans += 1
        # plans are numbered 1, 2, ... within their evaluation
        aggregate.open_plans[aggregate.improvement_plans] = self.due_on


class ImprovementPlanClosed(LedgerEvent):
    """An improvement plan (numbered within its evaluation) was carried out, with the
    evidence of it (aggregates and references only, never a customer); `in_time`: closed
    on or before its due date."""

    plan: int
    evidence: str
    due_on: date
    in_time: bool

    def apply(self, aggregate: Evaluation) -> None:
        aggregate.open_plans.pop(self.plan, None)
        aggregate.closed_plans += 1


class ImprovementPlanOverdue(LedgerEvent):
    """Warning: an improvement plan still open after its due date; recorded once a plan."""

    plan: int
    due_on: date
    as_of: date

    def apply(self, aggregate: Evaluation) -> None:
        aggregate.overdue_plans.append(self.plan)


class RecognitionRecorded(LedgerEvent):
    """A recognition for the KPIs an evaluation found on or above target (policy 8.3)."""

    period: str
    scope: str
    achievements: dict[str, dict[str, Decimal]]
    recipient: str
    citation: str
    evaluated_version: int
    rule_version: str

    def apply(self, aggregate: Evaluation) -> None:
        aggregate.recognitions += 1


class Evaluation(LedgerAggregate):
    """The KPIs of one scope ("overall", "branch:<id>", "staff:<id>") for one period.

    A second evaluation of the same period and scope is a correction: the latest counts.
    """

    def __init__(self) -> None:
        self.period: str | None = None
        self.scope: str | None = None
        self.metrics: dict[str, Decimal | None] = {}
        self.inputs: dict[str, object] = {}
        self.formula_version: str | None = None
        self.evaluations = 0
        self.evaluated_version = 0
        self.improvement_plans = 0
        self.open_plans: dict[int, date] = {}
        self.closed_plans = 0
        self.overdue_plans: list[int] = []
        self.recognitions = 0

    def close_improvement_plan(self, plan: int, evidence: str, actor: Actor, at: datetime) -> None:
        """Record that the open plan numbered `plan` was carried out, with its evidence."""
        self.require_exists()
        due_on = self.open_plans.get(plan)
        if due_on is None:
            raise IllegalTransition(f"no open improvement plan {plan} on this evaluation")
        self._record(
            ImprovementPlanClosed,
            actor,
            at,
            plan=plan,
            evidence=evidence,
            due_on=due_on,
            in_time=at.date() <= due_on,
        )

    def note_plans_overdue(self, as_of: date, actor: Actor, at: datetime) -> int:
        """Record ImprovementPlanOverdue for each open plan past its due date, once a
        plan; returns how many were recorded now."""
        self.require_exists()
        late = [
            (plan, due_on)
            for plan, due_on in sorted(self.open_plans.items())
            if as_of > due_on and plan not in self.overdue_plans
        ]
        for plan, due_on in late:
            self._record(ImprovementPlanOverdue, actor, at, plan=plan, due_on=due_on, as_of=as_of)
        return len(late)

    def record(
        self,
        *,
        period: str,
        scope: str,
        metrics: dict[str, Decimal | None],
        inputs: dict[str, object],
        formula_version: str,
        actor: Actor,
        at: datetime,
    ) -> bool:
        """Record the evaluation; False (nothing recorded) when identical to the latest."""
        if (self.metrics, self.inputs, self.formula_version) == (metrics, inputs, formula_version):
            return False
        self._record(
            PerformanceEvaluated,
            actor,
            at,
            period=period,
            scope=scope,
            metrics=metrics,
            inputs=inputs,
            formula_version=formula_version,
        )
        return True

    def open_improvement_plan(
        self,
        *,
        shortfalls: dict[str, dict[str, Decimal]],
        owner: str,
        actions: list[str],
        due_on: date,
        rule_version: str,
        actor: Actor,
        at: datetime,
    ) -> None:
        """Record an improvement plan; refused when no KPI is below target."""
        if not shortfalls:
            raise IllegalTransition("no KPI of this evaluation is below target")
        self._record(
            ImprovementPlanOpened,
            actor,
            at,
            period=self.period,
            scope=self.scope,
            shortfalls=shortfalls,
            owner=owner,
            actions=actions,
            due_on=due_on,
            evaluated_version=self.evaluated_version,
            rule_version=rule_version,
        )

    def recognise(
        self,
        *,
        achievements: dict[str, dict[str, Decimal]],
        recipient: str,
        citation: str,
        rule_version: str,
        actor: Actor,
        at: datetime,
    ) -> None:
        """Record a recognition; refused when no KPI met its target."""
        if not achievements:
            raise IllegalTransition("no KPI of this evaluation met its target")
        self._record(
            RecognitionRecorded,
            actor,
            at,
            period=self.period,
            scope=self.scope,
            achievements=achievements,
            recipient=recipient,
            citation=citation,
            evaluated_version=self.evaluated_version,
            rule_version=rule_version,
        )
