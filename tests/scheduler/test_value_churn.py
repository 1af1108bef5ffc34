"""Daily value assessment and churn scan: once a day per customer, signals from cases and NPS."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

import pytest

from domain.value import ValueAssessed
from scheduler.runner import JobRunner
from tests.domain.factories import FRONT, SYSTEM, Clock, individual

pytestmark = pytest.mark.integration


def trades(app: Any, customer_id: UUID, months: list[tuple[date, int]]) -> None:
    for end, count in months:
        app.record_transactions(
            customer_id,
            end.replace(day=1),
            end,
            count,
            Decimal(count) * 100,
            SYSTEM,
            products=["deposit"],
            profit_contribution=Decimal(count),
            source_ref=f"core-{customer_id}-{end}",
        )


def assessments(app: Any, customer_id: UUID) -> int:
    from domain.ids import value_id

    return sum(isinstance(e, ValueAssessed) for e in app.events_of(value_id(customer_id)))


@pytest.fixture
def population(app: Any, clock: Clock) -> dict[str, UUID]:
    clock.set(datetime(2025, 6, 1, 9, tzinfo=UTC))
    people = {name: individual(app) for name in ("steady", "complainer", "detractor", "sleeper")}
    clock.set(datetime(2026, 2, 28, 9, tzinfo=UTC))
    months = [(date(2025, m, 28), 10) for m in range(9, 13)] + [(date(2026, 2, 27), 10)]
    for name in ("steady", "complainer", "detractor"):
        trades(app, people[name], months)
    for _ in range(2):
        app.receive_feedback(people["complainer"], "complaint", "fees", "Fees again", FRONT)
    survey = app.send_survey(people["detractor"], "NPS", SYSTEM)
    app.answer_survey(survey, 7, SYSTEM)
    clock.advance(hours=1)
    survey = app.send_survey(people["detractor"], "NPS", SYSTEM)
    app.answer_survey(survey, 5, SYSTEM)
    clock.set(datetime(2026, 3, 2, 2, tzinfo=UTC))
    return people


def test_values_are_assessed_and_churn_signals_come_from_cases_surveys_and_activity(
    sqlite_runner: JobRunner, app: Any, population: dict[str, UUID]
) -> None:
    outcome = sqlite_runner.run("value_churn")
    assert outcome.summary["value_assessed"] == 4
    assert app.get_value(population["steady"]).churn_state == "none"
    assert app.get_value(population["complainer"]).signals == ("complaints_90d",)
    assert app.get_value(population["detractor"]).signals == ("nps_detractor",)
    assert app.get_value(population["sleeper"]).signals == ("inactive_180d",)
    assert app.get_customer(population["complainer"]).status == "at_risk"
    assert app.get_customer(population["sleeper"]).status == "dormant"
    assert app.get_value(population["steady"]).rfm["r"] >= 2


def test_a_rerun_after_a_failure_midway_assesses_nobody_twice(
    sqlite_runner: JobRunner,
    app: Any,
    population: dict[str, UUID],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    real = app.scan_churn

    def failing(customer_id: UUID, *args: Any, **kwargs: Any) -> Any:
        if customer_id == population["detractor"]:
            raise TimeoutError("core system slow")
        return real(customer_id, *args, **kwargs)

    monkeypatch.setattr(app, "scan_churn", failing)
    assert sqlite_runner.run("value_churn").state == "failed"
    monkeypatch.setattr(app, "scan_churn", real)
    rerun = sqlite_runner.run("value_churn")
    assert rerun.state == "completed"
    assert rerun.summary["value_already_assessed"] == 4
    assert all(assessments(app, c) == 1 for c in population.values())
    assert app.get_value(population["detractor"]).signals == ("nps_detractor",)


def test_a_rerun_after_a_failed_assessment_ranks_the_rest_within_the_whole_population(
    sqlite_runner: JobRunner,
    app: Any,
    population: dict[str, UUID],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from domain.activity import Activity
    from domain.ids import activity_id, value_id
    from domain.rules.value import RfmInput, rfm_scores
    from domain.value import Value

    real = Value.assess

    def failing(self: Value, *, customer_id: UUID, **kwargs: Any) -> None:
        if customer_id == population["detractor"]:
            raise TimeoutError("store slow")
        real(self, customer_id=customer_id, **kwargs)

    monkeypatch.setattr(Value, "assess", failing)
    assert sqlite_runner.run("value_churn").state == "failed"
    assert assessments(app, population["steady"]) == 1
    assert assessments(app, population["sleeper"]) == 0
    monkeypatch.setattr(Value, "assess", real)
    rerun = sqlite_runner.run("value_churn")
    assert (rerun.state, rerun.summary["value_assessed"]) == ("completed", 2)

    everyone = {
        str(c): RfmInput(activity.transactions() if activity else ())
        for c in population.values()
        for activity in [app._find(Activity, activity_id(c))]
    }
    whole = rfm_scores(everyone, app.today(), app.settings)
    for name in ("detractor", "sleeper"):
        value = app.get_value(population[name])
        expected = whole[str(population[name])]
        assert value.rfm == {"r": expected.r, "f": expected.f, "m": expected.m}, name
        (assessed,) = [
            e for e in app.events_of(value_id(population[name])) if isinstance(e, ValueAssessed)
        ]
        assert assessed.inputs["population"] == "4"
