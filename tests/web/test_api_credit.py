"""Credit assessments over HTTP (one and in bulk), the grade view's credit and risk
measures, the value strategy, and a tier entitlement refused as a problem."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from uuid import UUID

import pytest

from domain.actor import SYSTEM
from domain.rules.grading import GradeInputs
from tests.web.conftest import BRIGHT, Api

pytestmark = pytest.mark.e2e

ASSESSMENT = {"source": "pboc_credit_reference", "score": 72, "assessed_on": "2026-02-20"}


def test_a_credit_assessment_is_recorded_and_graded_with(api: Api) -> None:
    customer_id = api.register()
    path = f"/customers/{customer_id}"
    before = api.post(f"{path}/grade", "system", {"period": "2026Q1"}).get_json()
    assert before["credit_status"] == "unknown"
    assert before["risk_measures"] == []  # ordinary tier, not yet rated: no measure
    recorded = api.post(f"{path}/credit-assessments", "relationship_manager", ASSESSMENT)
    assert recorded.status_code == 201, recorded.get_json()
    body = recorded.get_json()
    assert (body["credit_status"], body["credit_assessed_on"]) == ("assessed", "2026-02-20")
    assert "credit_score" not in body and 72 not in body.values()
    stale = api.post(
        f"{path}/credit-assessments", "relationship_manager", ASSESSMENT, If_Match='"1"'
    )
    assert stale.status_code == 412
    api.post(f"{path}/kyc/risk-rating", "compliance_officer", {"risk_level": "medium"})
    graded = api.post(f"{path}/grade", "system", {"period": "2026Q2"}).get_json()
    assert graded["risk_measures"] == ["reverification_12_months"]
    assert graded["risk_measures_rule_version"] == "risk_measures/1"
    inputs = api.ledger.app.grade_inputs(customer_id)
    assert inputs.credit_score == 72


@pytest.mark.parametrize(
    "body",
    [
        {**ASSESSMENT, "score": 101},
        {**ASSESSMENT, "score": "72"},
        {**ASSESSMENT, "source": "Credit Bureau"},
        {**ASSESSMENT, "assessed_on": "2030-01-01"},
        {**ASSESSMENT, "assessed_on": "0001-01-01"},
        {**ASSESSMENT, "assessed_on": "1899-12-31"},
        {key: value for key, value in ASSESSMENT.items() if key != "score"},
    ],
)
def test_a_bad_assessment_is_a_problem_that_records_nothing(
    api: Api, body: dict[str, object]
) -> None:
    customer_id = api.register()
    response = api.post(f"/customers/{customer_id}/credit-assessments", "system", body)
    assert response.status_code == 422
    assert response.content_type == "application/problem+json"
    assert api.get(f"/customers/{customer_id}/grade", "front_office").status_code == 404


def test_front_office_may_not_record_credit(api: Api) -> None:
    customer_id = api.register()
    path = f"/customers/{customer_id}/credit-assessments"
    assert api.post(path, "front_office", ASSESSMENT).status_code == 403


def test_a_bulk_import_records_each_row_once_and_refuses_a_bad_file_whole(api: Api) -> None:
    first, second = api.register(), api.register(BRIGHT)
    rows = [
        {**ASSESSMENT, "customer_id": str(first)},
        {**ASSESSMENT, "customer_id": str(second), "score": 40},
    ]
    bad = api.post(
        "/credit-assessments/imports",
        "compliance_officer",
        {"assessments": [*rows, {**ASSESSMENT, "customer_id": str(first), "score": -5}]},
    )
    assert bad.status_code == 422 and bad.content_type == "application/problem+json"
    assert api.get(f"/customers/{first}/grade", "front_office").status_code == 404
    done = api.post("/credit-assessments/imports", "compliance_officer", {"assessments": rows})
    assert done.status_code == 200, done.get_json()
    assert done.get_json() == {"recorded": 2, "skipped": 0}
    again = api.post("/credit-assessments/imports", "system", {"assessments": rows})
    assert again.get_json() == {"recorded": 0, "skipped": 2}
    assert api.get(f"/customers/{second}/grade", "front_office").get_json()["credit_status"] == (
        "assessed"
    )
    assert (
        api.post(
            "/credit-assessments/imports", "relationship_manager", {"assessments": rows}
        ).status_code
        == 403
    )
    empty = api.post("/credit-assessments/imports", "system", {"assessments": []})
    assert empty.status_code == 422


def trades(api: Api, customer_id: UUID, first: date, count: int, amount: int, ref: str) -> None:
    """A quarter's transactions (89 days from `first`), profit 1 % of the amount."""
    api.ledger.app.record_transactions(
        customer_id,
        first,
        first + timedelta(days=89),
        count,
        Decimal(amount),
        SYSTEM,
        profit_contribution=Decimal(amount) / 100,
        source_ref=ref,
    )


def test_a_fee_waiver_for_a_customer_not_vip_is_refused_as_not_entitled(api: Api) -> None:
    customer_id = api.register()
    app = api.ledger.app
    trades(api, customer_id, date(2025, 9, 1), 30, 9000, "q1")
    trades(api, customer_id, date(2025, 11, 30), 5, 1000, "q2")
    assert app.scan_churn(customer_id, SYSTEM) == ["transactions_halved"]
    path = f"/customers/{customer_id}/retention-actions"
    waiver = {"action": "fee_waiver", "description": "waive the annual fee"}
    refused = api.post(path, "relationship_manager", waiver)
    assert refused.status_code == 409
    problem = refused.get_json()
    assert refused.content_type == "application/problem+json"
    assert problem["code"] == "not_entitled" and "fee_waivers" in problem["detail"]
    app.grade_customer(
        customer_id,
        "2026Q1",
        SYSTEM,
        inputs=GradeInputs(Decimal("1000000"), 120, Decimal("10"), 5, 95),
    )
    assert api.post(path, "relationship_manager", waiver).status_code == 201
    value = api.get(f"/customers/{customer_id}/value", "relationship_manager").get_json()
    assert value["retention_actions"] == ["fee_waiver"]


def test_the_value_view_shows_the_strategy_and_its_planned_actions(api: Api) -> None:
    customer_id = api.register()
    trades(api, customer_id, date(2025, 12, 1), 40, 100000, "q1")
    api.ledger.app.assess_values([customer_id], SYSTEM)
    value = api.get(f"/customers/{customer_id}/value", "relationship_manager").get_json()
    # CLV = 1000 * 0.85 / 0.23 = 3695.65, at least twice the current value of 1000
    assert value["strategy"] == "high_potential"
    assert value["planned_actions"] == ["needs_discovery", "targeted_offer"]


def test_high_potential_customers_are_listed_in_a_view_and_a_bad_strategy_is_a_422(
    api: Api,
) -> None:
    customer_id = api.register()
    trades(api, customer_id, date(2025, 12, 1), 40, 100000, "q1")
    api.ledger.app.assess_values([customer_id], SYSTEM)
    head = api.events()
    path = f"/views/value-strategies?strategy=high_potential&min_position={head}"
    listed = api.get(path, "relationship_manager")
    assert listed.status_code == 200, listed.get_json()
    (row,) = listed.get_json()["items"]
    assert (row["customer_id"], row["strategy"]) == (str(customer_id), "high_potential")
    assert row["planned_actions"] == ["needs_discovery", "targeted_offer"]
    assert (
        api.get(
            f"/views/value-strategies?strategy=standard&min_position={head}", "relationship_manager"
        ).get_json()["total"]
        == 0
    )
    bad = api.get("/views/value-strategies?strategy=vip", "relationship_manager")
    assert bad.status_code == 422
    assert bad.content_type == "application/problem+json"
    assert api.get("/views/value-strategies", "security_officer").status_code == 403
