"""Performance evaluation: every KPI per branch, staff member and overall; 12-month backfill."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

import pytest

from domain.evaluation import FORMULA_VERSION, KPI_NAMES
from domain.rules.months import add_months
from scheduler.runner import JobRunner
from tests.domain.factories import FRONT, RM, SYSTEM, Clock, individual
from tests.scheduler.conftest import events

pytestmark = pytest.mark.integration


def at(day: date, hour: int = 10) -> datetime:
    return datetime(day.year, day.month, day.day, hour, tzinfo=UTC)


def trade(app: Any, customer_id: UUID, end: date, profit: str, products: list[str]) -> None:
    app.record_transactions(
        customer_id,
        end.replace(day=1),
        end,
        4,
        Decimal(profit) * 100,
        SYSTEM,
        products=products,
        profit_contribution=Decimal(profit),
        source_ref=f"core-{customer_id}-{end}",
    )


def build_a_year(app: Any, clock: Clock) -> dict[str, UUID]:
    """Four customers over 2025: one joins in June, one leaves in September."""
    clock.set(at(date(2025, 2, 10)))
    people = {
        "a": individual(app, branch="BJ-01", relationship_manager="rm-007"),
        "b": individual(app, branch="SH-02", relationship_manager="rm-008"),
        "c": individual(app, branch="BJ-01", relationship_manager="rm-007"),
    }
    clock.set(at(date(2025, 3, 31)))
    for key, products in (("a", ["deposit", "fund"]), ("b", ["deposit"]), ("c", ["fx"])):
        trade(app, people[key], date(2025, 3, 31), "100", products)
    clock.set(at(date(2025, 5, 5)))
    case_id = app.receive_feedback(people["a"], "complaint", "fees", "Fee charged twice", FRONT)
    app.acknowledge_case(case_id, RM)
    app.start_investigation(case_id, RM)
    survey_id = app.send_survey(people["a"], "NPS", SYSTEM)
    clock.set(at(date(2025, 5, 10)))
    app.resolve_case(case_id, "Refunded", "system", RM, first_contact=True)
    app.answer_survey(survey_id, 10, SYSTEM)
    clock.set(at(date(2025, 6, 15)))
    people["d"] = individual(app, branch="SH-02", relationship_manager="rm-008")
    clock.set(at(date(2025, 9, 20)))
    app.end_relationship(people["b"], FRONT)
    clock.set(at(date(2025, 12, 31)))
    for key in ("a", "c", "d"):
        trade(app, people[key], date(2025, 12, 31), "150", ["deposit"])
    return people


def test_a_twelve_month_backfill_evaluates_every_kpi_and_a_second_run_records_nothing(
    runner: JobRunner, clock: Clock
) -> None:
    app = runner.ledger.app
    build_a_year(app, clock)
    clock.set(datetime(2026, 3, 2, 9, tzinfo=UTC))
    months = [add_months(date(2025, 4, 1), i) for i in range(12)]
    outcomes = [runner.run_by_hand("performance_monthly", at(m, 3)) for m in months]
    assert [o.state for o in outcomes] == ["completed"] * 12
    assert [o.period for o in outcomes] == [f"{add_months(m, -1):%Y-%m}" for m in months]

    may = app.get_evaluation("2025-05", "overall")
    assert set(may.metrics) == set(KPI_NAMES) and may.formula_version == FORMULA_VERSION
    assert may.metrics["complaint_sla"] == Decimal("1.0000")
    assert may.metrics["first_contact_resolution"] == Decimal("1.0000")
    assert may.metrics["nps"] == Decimal("100.00")
    assert may.inputs["customers_at_start"] == 3
    staff = app.get_evaluation("2025-05", "staff:rm-007")
    assert staff.inputs["cases"] == 1 and staff.inputs["customers_at_end"] == 2

    june = app.get_evaluation("2025-06", "branch:SH-02")
    assert (june.inputs["new_customers"], june.inputs["customers_at_end"]) == (1, 2)
    september = app.get_evaluation("2025-09", "overall")
    assert september.metrics["churn_rate"] == Decimal("0.2500")  # b of a, b, c, d
    assert september.metrics["retention_rate"] == Decimal("0.7500")
    assert app.get_evaluation("2025-09", "branch:SH-02").metrics["churn_rate"] == Decimal("0.5")
    march = app.get_evaluation("2025-03", "overall")
    # a holds two products but joined in February: loyalty needs 24 months' tenure too
    assert march.inputs["loyal_customers"] == 0
    assert march.metrics["loyalty"] == Decimal("0.0000")
    # value = profit of the 12 months to the day before each boundary, for a, c and d
    december = app.get_evaluation("2025-12", "overall")
    assert december.inputs["value_customers_in_both"] == 3
    assert december.metrics["value_uplift"] == Decimal("2.2500")  # 100+100+0 -> 250+250+150
    january = app.get_evaluation("2026-01", "overall")
    assert january.metrics["value_uplift"] == Decimal("0.0000")

    before = events(runner)
    again = [runner.run_by_hand("performance_monthly", at(m, 3)) for m in months]
    assert [o.state for o in again] == ["skipped"] * 12
    assert events(runner) == before
    assert app.get_evaluation("2025-05", "overall").evaluations == 1


def test_the_quarterly_run_evaluates_the_quarter_just_ended(
    runner: JobRunner, clock: Clock
) -> None:
    app = runner.ledger.app
    build_a_year(app, clock)
    clock.set(datetime(2026, 3, 2, 9, tzinfo=UTC))
    outcome = runner.run_by_hand("performance_quarterly", datetime(2025, 10, 1, 3, 30, tzinfo=UTC))
    assert (outcome.state, outcome.period) == ("completed", "2025Q3")
    q3 = app.get_evaluation("2025Q3", "overall")
    assert (q3.inputs["customers_at_start"], q3.inputs["lost_customers"]) == (4, 1)
    scopes = {"overall", "branch:BJ-01", "branch:SH-02", "staff:rm-007", "staff:rm-008"}
    assert outcome.summary["scopes_recorded"] == len(scopes)


def test_a_run_failing_midway_records_only_the_missing_scopes_when_run_again(
    runner: JobRunner, clock: Clock, monkeypatch: pytest.MonkeyPatch
) -> None:
    app = runner.ledger.app
    build_a_year(app, clock)
    clock.set(datetime(2026, 3, 2, 9, tzinfo=UTC))
    real = app.evaluate_performance
    calls: list[str] = []

    def third_fails(period: str, scope: str, *args: Any, **kwargs: Any) -> Any:
        calls.append(scope)
        if len(calls) == 3:
            raise ConnectionError("store went away")
        return real(period, scope, *args, **kwargs)

    monkeypatch.setattr(app, "evaluate_performance", third_fails)
    assert runner.run_by_hand("performance_monthly", at(date(2025, 10, 1), 3)).state == "failed"
    monkeypatch.setattr(app, "evaluate_performance", real)
    rerun = runner.run_by_hand("performance_monthly", at(date(2025, 10, 1), 3))
    assert rerun.state == "completed"
    assert (rerun.summary["scopes_recorded"], rerun.summary["scopes_unchanged"]) == (1, 4)
    for scope in calls[:2] + calls[3:]:
        assert app.get_evaluation("2025-09", scope).evaluations == 1
