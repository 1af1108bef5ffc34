"""Chapter 6, customer value: RFM, CLV, value uplift, churn warning and retention."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from domain.application import LedgerApplication
from domain.errors import IllegalTransition
from domain.grading import NotEntitled
from domain.rules.grading import GradeInputs
from domain.settings import RuleSettings
from tests.domain.factories import (
    RM,
    SYSTEM,
    Clock,
    individual,
    new_app,
    quarter_of_trades,
    recorded,
)

VIP_INPUTS = GradeInputs(Decimal("1000000"), 120, Decimal("10"), 5, 95)

pytestmark = pytest.mark.unit


def test_values_are_ranked_within_the_population_and_clv_follows_the_formula(
    app: LedgerApplication, clock: Clock
) -> None:
    big, small = individual(app), individual(app, phone="13700000000")
    clock.set(datetime(2026, 7, 1, tzinfo=UTC))
    quarter_of_trades(app, big, date(2026, 4, 1), 40, "100000", "b1")
    quarter_of_trades(app, small, date(2026, 1, 1), 2, "1000", "s1")
    views = app.assess_values([big, small], SYSTEM)
    assert views[big].rfm == {"r": 3, "f": 3, "m": 3}
    assert views[small].rfm == {"r": 1, "f": 1, "m": 1}
    assert views[big].current_value == Decimal("1000")  # profit contribution in the window
    # CLV = m*r/(1+d-r) - cost = 1000 * 0.85 / 0.23
    assert views[big].potential_value == Decimal("3695.65")
    assert views[big].uplift is None
    # Policy 6.2: CLV 3695.65 >= 2 x 1000 (M = 3, not the top quintile): high potential.
    assert (views[big].strategy, views[big].planned_actions) == (
        "high_potential",
        ("needs_discovery", "targeted_offer"),
    )
    clock.set(datetime(2026, 9, 30, tzinfo=UTC))
    quarter_of_trades(app, big, date(2026, 7, 1), 40, "50000", "b2")
    assert app.assess_values([big], SYSTEM)[big].uplift == Decimal("500")
    # Still high potential: the strategy is recorded once, with its rule and inputs.
    assigned = [
        e for e in app.events_of(views[big].id) if type(e).__name__ == "ValueStrategyAssigned"
    ]
    assert len(assigned) == 1
    assert assigned[0].rule_version == "value_strategy/1"  # type: ignore[attr-defined]
    assert assigned[0].inputs["high_potential_ratio"] == "2"  # type: ignore[attr-defined]


def test_a_halving_of_transactions_warns_retention_acts_and_the_warning_clears(
    app: LedgerApplication, clock: Clock
) -> None:
    customer_id = individual(app)
    clock.set(datetime(2026, 9, 1, tzinfo=UTC))
    quarter_of_trades(app, customer_id, date(2026, 3, 5), 30, "9000", "q1")
    quarter_of_trades(app, customer_id, date(2026, 6, 3), 10, "3000", "q2")
    assert app.scan_churn(customer_id, SYSTEM) == ["transactions_halved"]
    assert app.get_customer(customer_id).status == "at_risk"
    app.take_retention_action(customer_id, "rm_visit", "RM visit with fee review", RM)
    clock.set(datetime(2026, 12, 1, tzinfo=UTC))
    quarter_of_trades(app, customer_id, date(2026, 9, 1), 25, "8000", "q3")
    assert app.scan_churn(customer_id, SYSTEM) == []
    value = app.get_value(customer_id)
    assert (value.churn_state, value.retention_actions) == ("cleared", ("rm_visit",))
    assert app.get_customer(customer_id).status == "active"
    with pytest.raises(IllegalTransition):
        app.take_retention_action(customer_id, "offer", "too late", RM)


def test_complaints_and_a_detractor_score_are_churn_signals(app: LedgerApplication) -> None:
    customer_id = individual(app)
    signals = app.scan_churn(
        customer_id,
        SYSTEM,
        complaints_received_on=[date(2026, 2, 1), date(2026, 2, 20)],
        latest_nps=6,
    )
    assert signals == ["complaints_90d", "nps_detractor"]


def test_a_churned_customer_ends_the_relationship_and_starts_retention(
    app: LedgerApplication,
) -> None:
    customer_id = individual(app)
    until = app.record_churn(customer_id, "moved_to_competitor", RM)
    assert until == date(2036, 3, 2)
    view = app.get_customer(customer_id)
    assert (view.status, view.retention_ends_on) == ("ended", until)
    assert app.get_value(customer_id).churn_state == "churned"


def test_clv_parameters_and_the_high_potential_ratio_come_from_settings(clock: Clock) -> None:
    settings = RuleSettings(clv_retention=Decimal("0.5"), high_potential_ratio=Decimal("3"))
    app = new_app(clock, settings=settings)
    customer_id = individual(app)
    clock.set(datetime(2026, 7, 1, tzinfo=UTC))
    quarter_of_trades(app, customer_id, date(2026, 4, 1), 40, "100000", "b1")
    view = app.assess_values([customer_id], SYSTEM)[customer_id]
    # CLV = 1000 * 0.5 / (1 + 0.08 - 0.5) = 862.07: under 3 x 1000
    assert view.potential_value == Decimal("862.07")
    assert view.strategy == "standard" and view.planned_actions == ()


def test_a_fee_waiver_needs_the_vip_entitlement(app: LedgerApplication, clock: Clock) -> None:
    customer_id = individual(app)
    clock.set(datetime(2026, 9, 1, tzinfo=UTC))
    quarter_of_trades(app, customer_id, date(2026, 3, 5), 30, "9000", "q1")
    quarter_of_trades(app, customer_id, date(2026, 6, 3), 10, "3000", "q2")
    assert app.scan_churn(customer_id, SYSTEM) == ["transactions_halved"]
    before = recorded(app)
    with pytest.raises(NotEntitled, match="fee_waivers entitlement"):
        app.take_retention_action(customer_id, "fee_waiver", "waive the annual fee", RM)
    assert recorded(app) == before
    app.grade_customer(customer_id, "2026Q3", SYSTEM, inputs=VIP_INPUTS)
    app.take_retention_action(customer_id, "fee_waiver", "waive the annual fee", RM)
    assert app.get_value(customer_id).retention_actions == ("fee_waiver",)
