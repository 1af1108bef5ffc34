"""Chapter 3: credit is recorded, never assumed; risk-control measures follow the grade."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from decimal import Decimal
from uuid import UUID, uuid4

import pytest

from domain.application import LedgerApplication
from domain.errors import NotFound, ValidationFailed
from domain.rules.grading import GradeInputs
from domain.services.grading import CreditAssessment
from domain.settings import RuleSettings
from tests.domain.factories import COMPLIANCE, RM, SYSTEM, individual, new_app, recorded

pytestmark = pytest.mark.unit

# Everything but credit at its cap: 80 points before credit, so credit decides VIP.
STRONG = GradeInputs(Decimal("1000000"), 120, Decimal("10"), 5, None)


def assess(
    customer_id: UUID, score: int, on: date, source: str = "pboc_credit_reference"
) -> CreditAssessment:
    return CreditAssessment(customer_id, source, score, on)


def test_grading_uses_the_newest_assessment_and_records_where_it_came_from(
    app: LedgerApplication,
) -> None:
    customer_id = individual(app)
    app.record_credit_assessment(assess(customer_id, 90, date(2026, 2, 1)), RM)
    # An older report arriving later does not replace the newer one.
    view = app.record_credit_assessment(
        assess(customer_id, 20, date(2025, 12, 1), "internal_scorecard"), RM
    )
    assert (view.credit_score, view.credit_source) == (90, "pboc_credit_reference")
    assert view.credit_status == "assessed" and view.periods == ()
    assert app.grade_inputs(customer_id).credit_score == 90
    graded = app.grade_customer(customer_id, "2026Q1", SYSTEM)
    event = next(e for e in app.events_of(graded.id) if type(e).__name__ == "GradeAssigned")
    assert event.inputs["credit_score"] == "90"  # type: ignore[attr-defined]
    assert event.inputs["credit_source"] == "pboc_credit_reference"  # type: ignore[attr-defined]
    assert event.inputs["credit_assessed_on"] == "2026-02-01"  # type: ignore[attr-defined]
    assert event.sub_scores["credit"] == "90"  # type: ignore[attr-defined]


def test_without_an_assessment_the_grade_records_credit_unknown_and_its_treatment(
    app: LedgerApplication,
) -> None:
    customer_id = individual(app)
    view = app.grade_customer(customer_id, "2026Q1", SYSTEM)
    assert view.credit_status == "unknown"
    event = next(e for e in app.events_of(view.id) if type(e).__name__ == "GradeAssigned")
    assert event.inputs["credit_score"] == "unknown"  # type: ignore[attr-defined]
    assert event.inputs["credit_treatment"] == "unknown_scored_0"  # type: ignore[attr-defined]
    assert event.sub_scores["credit"] == "0"  # type: ignore[attr-defined]
    assert event.rule_version == "grade_score/2"  # type: ignore[attr-defined]


def test_unknown_credit_takes_the_configured_treatment() -> None:
    strict = new_app()
    lenient = new_app(settings=RuleSettings(grade_credit_unknown_score=50))
    tiers = []
    for app in (strict, lenient):
        customer_id = individual(app)
        tiers.append(app.grade_customer(customer_id, "2026Q1", SYSTEM, inputs=STRONG).score)
    # 80 points before credit; unknown credit adds 0.2 * 0 or 0.2 * 50.
    assert tiers == [Decimal("80.00"), Decimal("90.00")]


def test_a_known_low_score_is_never_graded_below_unknown_credit_by_default(
    app: LedgerApplication,
) -> None:
    unknown = app.grade_customer(individual(app), "2026Q1", SYSTEM, inputs=STRONG)
    known = app.grade_customer(
        individual(app, phone="13700000001"),
        "2026Q1",
        SYSTEM,
        inputs=replace(STRONG, credit_score=1),
    )
    assert known.score is not None and unknown.score is not None
    assert known.score > unknown.score


@pytest.mark.parametrize(
    ("score", "on", "source", "field"),
    [
        (101, date(2026, 1, 1), "bureau", "source_ok"),
        (-1, date(2026, 1, 1), "bureau", "score"),
        (50, date(2027, 1, 1), "bureau", "assessed_on"),
        (50, date(2026, 1, 1), "Bureau Name", "source"),
        (50, date(2026, 1, 1), "", "source"),
    ],
)
def test_a_bad_assessment_records_nothing_and_names_the_field(
    app: LedgerApplication, score: int, on: date, source: str, field: str
) -> None:
    customer_id = individual(app)
    before = recorded(app)
    with pytest.raises(ValidationFailed) as refused:
        app.record_credit_assessment(assess(customer_id, score, on, source), RM)
    expected = "score" if field == "source_ok" else field
    assert list(refused.value.errors) == [expected]
    assert str(score) not in refused.value.message
    assert recorded(app) == before


def test_an_assessment_of_an_unknown_customer_is_not_found(app: LedgerApplication) -> None:
    with pytest.raises(NotFound):
        app.record_credit_assessment(assess(uuid4(), 50, date(2026, 1, 1)), RM)


def test_an_import_checks_every_row_first_and_skips_what_it_already_holds(
    app: LedgerApplication,
) -> None:
    first, second = individual(app), individual(app, phone="13700000002")
    rows = [assess(first, 70, date(2026, 2, 1)), assess(second, 55, date(2026, 2, 2))]
    before = recorded(app)
    with pytest.raises(ValidationFailed) as refused:
        app.import_credit_assessments([*rows, assess(first, 500, date(2026, 2, 1))], COMPLIANCE)
    assert list(refused.value.errors) == ["row 3: score"]
    assert recorded(app) == before
    assert app.import_credit_assessments(rows, COMPLIANCE) == (2, 0)
    assert app.import_credit_assessments(rows, COMPLIANCE) == (0, 2)
    assert app.get_grading(second).credit_score == 55
    with pytest.raises(ValidationFailed):
        app.import_credit_assessments([], COMPLIANCE)


def test_risk_measures_follow_the_tier_and_the_risk_rating_and_are_recorded_on_change(
    app: LedgerApplication,
) -> None:
    customer_id = individual(app)
    app.assign_risk_rating(customer_id, "high", COMPLIANCE)
    premium_inputs = replace(STRONG, yearly_amount=Decimal(0), credit_score=100)  # 60 points
    premium = app.grade_customer(customer_id, "2026Q1", SYSTEM, inputs=premium_inputs)
    assert premium.tier == "premium"
    assert premium.risk_measures == (
        "enhanced_due_diligence",
        "large_transaction_monitoring",
        "reverification_6_months",
        "senior_approval_new_products",
    )
    applied = [e for e in app.events_of(premium.id) if type(e).__name__ == "RiskMeasuresApplied"]
    assert len(applied) == 1 and applied[0].risk_level == "high"  # type: ignore[attr-defined]
    assert applied[0].rule_version == "risk_measures/1"  # type: ignore[attr-defined]
    # The same tier and rating next quarter: nothing new applied.
    app.grade_customer(customer_id, "2026Q2", SYSTEM, inputs=premium_inputs)
    vip = app.grade_customer(customer_id, "2026Q3", SYSTEM, inputs=replace(STRONG, credit_score=90))
    assert vip.tier == "vip" and "senior_review_large_transactions" in vip.risk_measures
    assert "large_transaction_monitoring" not in vip.risk_measures
    names = [type(e).__name__ for e in app.events_of(vip.id)]
    assert names.count("RiskMeasuresApplied") == 2


def test_risk_measures_are_configured_per_tier() -> None:
    app = new_app(settings=RuleSettings(risk_measures_ordinary=("annual_review",)))
    view = app.grade_customer(individual(app), "2026Q1", SYSTEM)
    assert (view.tier, view.risk_measures) == ("ordinary", ("annual_review",))


def test_a_new_risk_rating_applies_its_measures_to_a_graded_customer(
    app: LedgerApplication,
) -> None:
    customer_id = individual(app)
    app.assign_risk_rating(customer_id, "low", COMPLIANCE)  # not graded: nothing to apply
    with pytest.raises(NotFound):
        app.get_grading(customer_id)
    app.grade_customer(customer_id, "2026Q1", SYSTEM)
    assert app.get_grading(customer_id).risk_measures == ("reverification_24_months",)
    app.start_reverification(customer_id, COMPLIANCE, trigger="screening_hit")
    app.complete_reverification(customer_id, COMPLIANCE, risk_level="high")
    view = app.get_grading(customer_id)
    assert view.risk_measures == (
        "enhanced_due_diligence",
        "reverification_6_months",
        "senior_approval_new_products",
    )
    applied = [e for e in app.events_of(view.id) if type(e).__name__ == "RiskMeasuresApplied"]
    assert [e.risk_level for e in applied] == ["low", "high"]  # type: ignore[attr-defined]
    assert applied[-1].period == "2026Q1"  # type: ignore[attr-defined]
