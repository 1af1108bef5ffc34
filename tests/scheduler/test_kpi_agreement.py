"""One KPI computation: the scheduled evaluations (`/api/v1/evaluations`) and the `kpis`
view (`/api/v1/views/kpis`) give the same figures for every month of the demo data and
every scope the API offers (overall, each branch, each staff member), on both stores,
under NPS bands other than the defaults."""

from __future__ import annotations

from collections import Counter
from dataclasses import replace
from datetime import UTC, date, datetime
from typing import Any

import pytest

from demo.year import generate_demo
from domain.errors import NotFound
from domain.rules import satisfaction
from domain.rules.months import add_months
from projections.kpi_queries import VIEW_METRICS
from projections.runtime import close_read_models, read_models
from scheduler.runner import JobRunner
from tests.domain.factories import Clock

pytestmark = pytest.mark.integration

COUNTS = ("customers_at_start", "customers_at_end", "new_customers", "lost_customers")
RECORDED = {  # view column -> the evaluation's recorded input
    "cases_resolved": "cases",
    "complaints_resolved": "resolved",
    "resolved_in_time": "resolved_in_time",
    "resolved_first_contact": "resolved_first_contact",
}


def _scope(by: str, row: dict[str, Any]) -> str:
    return "overall" if by == "overall" else f"{by}:{row[by]}"


def _differences(row: dict[str, Any], scope: str, evaluation: Any) -> list[tuple[Any, ...]]:
    found: list[tuple[Any, ...]] = []
    for name in VIEW_METRICS:
        got = evaluation.metrics[name]
        if row[name] != (None if got is None else str(got)):
            found.append((row["period"], scope, name, row[name], got))
    for column, name in (*((c, c) for c in COUNTS), *RECORDED.items()):
        if row[column] != evaluation.inputs[name]:
            found.append((row["period"], scope, column, row[column], evaluation.inputs[name]))
    return found


def test_every_month_and_scope_of_the_demo_gives_the_same_figures_both_ways(
    runner: JobRunner, clock: Clock
) -> None:
    app = runner.ledger.app
    generate_demo(app, customers=30, seed=5, end=date(2026, 6, 30))
    # bands other than the defaults: both ways must apply the configured ones
    app.settings = replace(app.settings, nps_promoter_min=8, nps_detractor_max=5)
    clock.set(datetime(2026, 7, 2, 9, tzinfo=UTC))
    months = [add_months(date(2025, 7, 1), i) for i in range(13)]
    outcomes = [
        runner.run_by_hand("performance_monthly", datetime(m.year, m.month, 1, 3, tzinfo=UTC))
        for m in months
    ]
    assert {o.state for o in outcomes} == {"completed"}
    models = read_models(runner.ledger)
    try:
        models.catch_up()
        differences: list[tuple[Any, ...]] = []
        shown: set[tuple[str, str]] = set()
        with_figure: Counter[str] = Counter()
        for by in ("overall", "branch", "staff"):
            for row in models.kpis.kpi_table("2025-07", "2026-06", by=by):
                scope = _scope(by, row)
                shown.add((row["period"], scope))
                try:
                    evaluation = app.get_evaluation(row["period"], scope)
                except NotFound:  # a group with nothing to evaluate: zeros only
                    if any(row[n] for n in (*COUNTS, *RECORDED, *VIEW_METRICS)):
                        differences.append((row["period"], scope, "no evaluation"))
                    continue
                differences += _differences(row, scope, evaluation)
                with_figure.update(n for n in VIEW_METRICS if row[n] is not None)
                nps_scores = [
                    int(score)
                    for score, n in evaluation.inputs["nps_distribution"].items()
                    for _ in range(n)
                ]
                if nps_scores and satisfaction.nps(nps_scores) != evaluation.metrics["nps"]:
                    with_figure["nps under the configured bands only"] += 1
        recorded = {
            (e["period"], e["scope"])
            for e in models.kpis.evaluations()
            if "2025-07" <= e["period"] <= "2026-06" and "Q" not in e["period"]
        }
        assert differences == []
        assert recorded - shown == set()  # every scope the job evaluated, the view shows
        # the comparison covered real figures of every kind, and the bands mattered
        assert set(with_figure) >= {*VIEW_METRICS, "nps under the configured bands only"}
        assert len(shown) > 100
    finally:
        close_read_models(runner.ledger)
