"""Chapter 3, classification and grading: segments, tiers with rule version and inputs."""

from __future__ import annotations

from decimal import Decimal

import pytest

from domain.application import LedgerApplication
from domain.errors import IllegalTransition, ValidationFailed
from domain.rules.grading import GradeInputs
from tests.domain.factories import RM, SYSTEM, corporate, individual, recorded

pytestmark = pytest.mark.unit

VIP = GradeInputs(Decimal("1000000"), 120, Decimal("10"), 5, 95)
ORDINARY = GradeInputs(Decimal("1000"), 2, Decimal("1"), 1, 30)


def test_a_corporate_is_classified_by_size_industry_and_stage(app: LedgerApplication) -> None:
    customer_id = corporate(app)
    assert app.classify_customer(customer_id, RM) == "corporate/medium/logistics/growth"
    before = recorded(app)
    app.classify_customer(customer_id, RM)
    assert recorded(app) == before  # unchanged classification records nothing


def test_a_grade_records_rule_version_inputs_and_sub_scores(app: LedgerApplication) -> None:
    customer_id = individual(app)
    view = app.grade_customer(customer_id, "2026Q1", SYSTEM, inputs=VIP)
    assert (view.tier, view.computed_tier) == ("vip", "vip")
    assert "dedicated_relationship_manager" in view.entitlements
    graded, changed, measures = app.events_of(view.id)
    assert type(measures).__name__ == "RiskMeasuresApplied"
    assert type(graded).__name__ == "GradeAssigned"
    assert graded.rule_version == "grade_score/2"  # type: ignore[attr-defined]
    assert graded.inputs["yearly_amount"] == "1000000"  # type: ignore[attr-defined]
    assert set(graded.sub_scores) == {"amount", "frequency", "loyalty", "credit"}  # type: ignore[attr-defined]
    assert type(changed).__name__ == "TierChanged"
    assert changed.rule_version == "next_tier/1"  # type: ignore[attr-defined]


def test_upgrades_at_once_and_downgrades_on_the_second_quarter_below(
    app: LedgerApplication,
) -> None:
    customer_id = individual(app)
    assert app.grade_customer(customer_id, "2026Q1", SYSTEM, inputs=ORDINARY).tier == "ordinary"
    assert app.grade_customer(customer_id, "2026Q2", SYSTEM, inputs=VIP).tier == "vip"
    first_below = app.grade_customer(customer_id, "2026Q3", SYSTEM, inputs=ORDINARY)
    assert (first_below.tier, first_below.quarters_below) == ("vip", 1)
    second_below = app.grade_customer(customer_id, "2026Q4", SYSTEM, inputs=ORDINARY)
    assert (second_below.tier, second_below.quarters_below) == ("ordinary", 0)
    assert second_below.entitlements == ()


def test_a_quarter_is_graded_once(app: LedgerApplication) -> None:
    customer_id = individual(app)
    app.grade_customer(customer_id, "2026Q1", SYSTEM, inputs=ORDINARY)
    with pytest.raises(IllegalTransition):
        app.grade_customer(customer_id, "2026Q1", SYSTEM, inputs=VIP)
    with pytest.raises(ValidationFailed):
        app.grade_customer(customer_id, "2026-Q2", SYSTEM, inputs=VIP)


def test_grading_inputs_default_to_the_customers_own_activity(app: LedgerApplication) -> None:
    customer_id = individual(app)
    inputs = app.grade_inputs(customer_id)
    assert inputs == GradeInputs(Decimal(0), 0, Decimal("0.00"), 0, None)
    assert app.grade_customer(customer_id, "2026Q1", SYSTEM).tier == "ordinary"
