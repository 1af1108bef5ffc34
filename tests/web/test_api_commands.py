"""The other resources over HTTP: KYC, lifecycle, activity, grading, value, campaigns,
quality, crises, evaluations, security alerts and the access log."""

from __future__ import annotations

from datetime import timedelta
from uuid import UUID

import pytest

from domain.actor import SYSTEM
from domain.evaluation import KpiInputs
from tests.web.conftest import BRIGHT, WANG, Api

pytestmark = pytest.mark.e2e


def test_kyc_document_number_is_masked_and_the_rating_sets_the_review(api: Api) -> None:
    customer_id = api.register()
    kyc = api.get(f"/customers/{customer_id}/kyc", "front_office").get_json()
    assert kyc["doc_number"] == "1****************4"
    assert kyc["review_state"] == "pending_rating"
    rated = api.post(
        f"/customers/{customer_id}/kyc/risk-rating", "compliance_officer", {"risk_level": "high"}
    )
    assert rated.status_code == 200
    assert rated.get_json()["next_review_due"] == "2026-09-02"
    started = api.post(
        f"/customers/{customer_id}/kyc/reviews", "compliance_officer", {"trigger": "screening_hit"}
    )
    assert started.status_code == 200
    done = api.post(
        f"/customers/{customer_id}/kyc/reviews/completion",
        "compliance_officer",
        {"risk_level": "medium"},
        If_Match=started.headers["ETag"],
    )
    assert done.status_code == 200, done.get_json()
    full = api.get(f"/customers/{customer_id}/kyc", "compliance_officer", X_Purpose="kyc_review")
    assert full.get_json()["doc_number"] == "110101195802031234"
    assert full.get_json()["risk_level"] == "medium"


def test_a_new_document_type_maps_onto_the_domain(api: Api) -> None:
    customer_id = api.register(BRIGHT)
    response = api.post(
        f"/customers/{customer_id}/kyc/documents",
        "front_office",
        {"type": "business_licence", "number": "91310000MA1FL3LQ2X", "expires_on": "2040-01-01"},
    )
    assert response.status_code == 201
    assert response.get_json()["status"] == "valid"


def test_a_prospect_is_activated_classified_and_flagged_for_care(api: Api) -> None:
    body = {key: value for key, value in WANG.items() if key != "id_document"}
    customer_id = api.register({**body, "status": "prospect"})
    path = f"/customers/{customer_id}"
    assert api.post(f"{path}/activation", "front_office").status_code == 200
    assert api.get(path, "front_office").get_json()["status"] == "active"
    assert api.post(f"{path}/classification", "relationship_manager").status_code == 200
    care = api.post(
        f"{path}/special-care",
        "front_office",
        {"reasons": ["disabled"], "measures": ["home_service"]},
    )
    assert care.status_code == 200
    view = api.get(path, "relationship_manager", X_Purpose="relationship_care").get_json()
    assert view["special_care"] == ["disabled"]
    assert view["segment"] is not None
    visit = api.post(f"{path}/care-visits", "front_office", {"visit_kind": "home_visit"})
    assert visit.status_code == 201 and visit.get_json()["next_due_on"]


def test_transactions_grading_and_value(api: Api) -> None:
    customer_id = api.register()
    path = f"/customers/{customer_id}"
    start = (api.clock.now - timedelta(days=60)).date()
    recorded = api.post(
        f"{path}/transactions",
        "system",
        {
            "period_start": start.isoformat(),
            "period_end": (start + timedelta(days=30)).isoformat(),
            "count": 12,
            "amount": "250000.00",
            "profit_contribution": "1800.50",
            "products": ["deposit", "fund"],
            "source_ref": "core-2026-02",
        },
    )
    assert recorded.status_code == 201, recorded.get_json()
    activity = api.get(f"{path}/activity", "relationship_manager").get_json()
    assert (activity["transaction_count"], activity["amount"]) == (12, "***")
    assessment = {"source": "pboc_credit_reference", "score": 80, "assessed_on": "2026-03-01"}
    credited = api.post(f"{path}/credit-assessments", "relationship_manager", assessment)
    assert credited.status_code == 201, credited.get_json()
    assert (credited.get_json()["credit_status"], credited.get_json()["periods"]) == (
        "assessed",
        [],
    )
    assert "credit_score" not in credited.get_json()
    assumed = api.post(f"{path}/grade", "system", {"period": "2026Q1", "credit_score": 80})
    assert assumed.status_code == 422  # credit comes from an assessment, never the request
    graded = api.post(f"{path}/grade", "system", {"period": "2026Q1"})
    assert graded.status_code == 200, graded.get_json()
    grade = api.get(f"{path}/grade", "front_office").get_json()
    assert grade["credit_source"] == "pboc_credit_reference"
    assert grade["tier"] in ("vip", "premium", "ordinary", "VIP")
    assert grade["periods"] == ["2026Q1"]
    assert api.get(f"{path}/value", "relationship_manager").status_code == 404
    api.ledger.app.assess_values([customer_id], SYSTEM)
    value = api.get(f"{path}/value", "relationship_manager").get_json()
    assert value["current_value"] == "***"
    action = api.post(
        f"{path}/retention-actions",
        "relationship_manager",
        {"action": "call", "description": "checked in"},
    )
    assert action.status_code == 409  # only for a customer at risk of churning
    churn = api.post(f"{path}/churn", "relationship_manager", {"cause": "moved abroad"})
    assert churn.status_code == 200
    assert churn.get_json()["retention_ends_on"].startswith("2036")


def test_campaign_invitation_needs_consent_then_attendance(api: Api) -> None:
    customer_id = api.register()
    campaign = api.post(
        "/campaigns",
        "relationship_manager",
        {
            "kind": "lecture",
            "title": "Retirement planning",
            "starts_on": "2026-03-10",
            "ends_on": "2026-03-10",
        },
    )
    assert campaign.status_code == 201
    campaign_id = campaign.get_json()["id"]
    invite = {"customer_id": str(customer_id)}
    refused = api.post(f"/campaigns/{campaign_id}/invitations", "relationship_manager", invite)
    assert refused.status_code == 409
    api.post(
        f"/customers/{customer_id}/consents",
        "front_office",
        {
            "purpose": "marketing",
            "data_categories": ["contact"],
            "notice_version": "2026.1",
            "method": "written",
            "evidence": "form 12",
        },
    )
    invited = api.post(f"/campaigns/{campaign_id}/invitations", "relationship_manager", invite)
    assert invited.status_code == 201
    attended = api.post(
        f"/campaigns/{campaign_id}/invitations/{customer_id}/attendance",
        "front_office",
        {"attended": True},
    )
    assert attended.status_code == 200
    view = api.get(f"/campaigns/{campaign_id}/invitations/{customer_id}", "front_office")
    assert view.get_json()["attendance"] == "attended"
    assert api.get(f"/campaigns/{campaign_id}", "front_office").get_json()["kind"] == "lecture"


def test_service_standards_and_their_monitoring(api: Api) -> None:
    defined = api.post(
        "/service-standards",
        "compliance_officer",
        {
            "code": "Q-WAIT",
            "name": "Counter wait",
            "measure": "wait",
            "target": "15",
            "unit": "minutes",
            "step": "counter",
            "duty": "teller",
        },
    )
    assert defined.status_code == 201
    base = "/service-standards/Q-WAIT"
    posts = {
        "mystery-shops": {"branch": "BJ-01", "score": 82, "findings": "greeted promptly"},
        "audits": {"branch": "BJ-01", "score": 90, "findings": "queue signage ok"},
        "breaches": {"branch": "BJ-01", "measured": "27", "detail": "lunch peak"},
        "improvement-actions": {"action": "add a counter at noon", "owner": "branch-manager"},
    }
    for resource, body in posts.items():
        response = api.post(f"{base}/{resource}", "compliance_officer", body)
        assert response.status_code == 201, (resource, response.get_json())
    view = api.get(base, "front_office").get_json()
    assert (view["mystery_shops"], view["audits"], view["breaches"]) == (1, 1, 1)
    assert (view["target"], view["step"], view["duty"]) == ("15", "counter", "teller")
    assert api.get("/service-standards/NOPE", "front_office").status_code == 404


def test_a_measurement_past_the_target_is_recorded_as_a_breach(api: Api) -> None:
    body = {"code": "Q-Q", "name": "Queue", "measure": "wait", "target": "15", "unit": "minutes"}
    assert api.post("/service-standards", "compliance_officer", body).status_code == 422
    body["step"] = "counter"
    assert api.post("/service-standards", "compliance_officer", body).status_code == 201
    on_target = api.post(
        "/service-standards/Q-Q/measurements", "system", {"branch": "BJ-01", "measured": "15"}
    )
    assert on_target.status_code == 201
    assert on_target.get_json()["breached"] is False
    late = api.post(
        "/service-standards/Q-Q/measurements",
        "system",
        {"branch": "BJ-01", "measured": "15.01", "staff_id": "t-7"},
    )
    assert late.get_json() | {"id": None} == {
        "id": None,
        "version": 4,
        "breached": True,
        "rule_version": "standard_breached/1",
    }
    view = api.get("/service-standards/Q-Q", "front_office").get_json()
    assert (view["measurements"], view["breaches"]) == (2, 1)
    refused = api.post("/service-standards/Q-Q/measurements", "system", {"branch": "B"})
    assert refused.status_code == 422
    assert refused.headers["Content-Type"] == "application/problem+json"
    head = api.events()
    listed = api.get(f"/views/service-standards?min_position={head}", "compliance_officer")
    rows = listed.get_json()["items"]
    assert [(r["code"], r["breaches"], r["breach_rate"]) for r in rows] == [("Q-Q", 1, "0.5000")]


def test_staff_training_is_recorded_and_listed_by_employee_id(api: Api) -> None:
    course = {
        "staff_id": "emp-118",
        "course": "Queue management",
        "topic": "service quality",
        "completed_on": "2026-03-02",
        "hours": "3.5",
        "provider": "internal",
    }
    assert api.post("/staff-training", "front_office", course).status_code == 403
    unknown = api.post("/staff-training", "compliance_officer", course | {"standard_code": "NO"})
    assert unknown.status_code == 404
    assert api.post("/staff-training", "compliance_officer", course).status_code == 201
    zero = api.post("/staff-training", "compliance_officer", course | {"hours": "0"})
    assert zero.status_code == 422
    record = api.get("/staff-training/emp-118", "compliance_officer").get_json()
    assert (record["courses"], record["hours"]) == (["Queue management"], "3.5")
    assert api.get("/staff-training/emp-9", "compliance_officer").status_code == 404
    head = api.events()
    listed = api.get(
        f"/views/staff-training?staff_id=emp-118&min_position={head}", "relationship_manager"
    )
    (row,) = listed.get_json()["items"]
    assert (row["course"], row["completed_on"], row["hours"]) == (
        "Queue management",
        "2026-03-02",
        "3.5",
    )


def test_a_crisis_is_opened_updated_and_closed(api: Api) -> None:
    customer_id = api.register()
    opened = api.post(
        "/crises",
        "compliance_officer",
        {
            "title": "App outage",
            "scope": "mobile banking",
            "severity": "high",
            "affected_customer_ids": [str(customer_id)],
        },
    )
    assert opened.status_code == 201
    crisis = opened.get_json()["id"]
    early = api.post(f"/crises/{crisis}/closure", "compliance_officer", {"summary": "done"})
    assert early.status_code == 409
    update = {"kind": "statement", "text": "We apologise", "customers_contacted": 1}
    assert api.post(f"/crises/{crisis}/updates", "relationship_manager", update).status_code == 201
    closed = api.post(f"/crises/{crisis}/closure", "compliance_officer", {"summary": "restored"})
    assert closed.status_code == 200
    assert api.get(f"/crises/{crisis}", "front_office").get_json()["state"] == "closed"


def test_evaluations_security_alerts_and_the_access_log(api: Api) -> None:
    api.ledger.app.evaluate_performance(
        "2026Q1",
        "overall",
        KpiInputs(customers_at_start=10, customers_at_end=11, new_customers=1),
        SYSTEM,
    )
    report = api.get("/evaluations?period=2026Q1", "regulator")
    assert report.status_code == 200
    assert report.get_json()["scope"] == "overall"
    assert api.get("/evaluations?period=1999Q1", "regulator").status_code == 404
    alert = api.post(
        "/security-alerts",
        "security_officer",
        {"kind": "unusual_reads", "severity": "warning", "detail": "actor rm-9 read 400"},
    )
    assert alert.status_code == 201
    alert_id = alert.get_json()["id"]
    assert api.get(f"/security-alerts/{alert_id}", "security_officer").status_code == 200
    customer_id = api.register()
    api.get(f"/customers/{customer_id}", "compliance_officer", X_Purpose="compliance_audit")
    log = api.get(f"/access-log?subject={customer_id}", "security_officer").get_json()
    (entry,) = log["entries"]
    assert (entry["subject_id"], entry["purpose"]) == (str(customer_id), "compliance_audit")
    since = (api.clock.now + timedelta(days=3650)).isoformat().replace("+", "%2B")
    assert api.get(f"/access-log?since={since}", "compliance_officer").get_json() == {
        "entries": [],
        "next_offset": None,
    }
    assert UUID(entry["subject_id"]) == customer_id


def test_an_evaluation_is_used_improvement_plans_and_recognitions(api: Api) -> None:
    inputs = KpiInputs(customers_at_start=10, customers_at_end=11, new_customers=1)
    api.ledger.app.evaluate_performance("2026Q1", "branch:BJ-01", inputs, SYSTEM)
    plan = {
        "period": "2026Q1",
        "scope": "branch:BJ-01",
        "owner": "mgr-bj-01",
        "actions": ["Weekly retention calls"],
        "due_on": "2026-06-30",
    }
    assert api.post("/evaluations/improvement-plans", "front_office", plan).status_code == 403
    no_actions = api.post(
        "/evaluations/improvement-plans", "compliance_officer", plan | {"actions": []}
    )
    assert no_actions.status_code == 422
    missing = plan | {"period": "1999Q1"}
    assert (
        api.post("/evaluations/improvement-plans", "compliance_officer", missing).status_code == 404
    )
    opened = api.post("/evaluations/improvement-plans", "relationship_manager", plan)
    assert opened.status_code == 201, opened.get_json()
    assert opened.get_json()["improvement_plans"] == 1
    recognition = {"period": "2026Q1", "scope": "branch:BJ-01", "recipient": "branch:BJ-01",
                   "citation": "No customer lost"}  # fmt: skip
    recognised = api.post("/evaluations/recognitions", "compliance_officer", recognition)
    assert recognised.get_json()["recognitions"] == 1
    head = api.events()
    rows = api.get(
        f"/views/kpis/evaluation-use?period=2026Q1&min_position={head}", "compliance_officer"
    ).get_json()["items"]
    assert [(r["kind"], r["responsible"], r["evaluated_version"]) for r in rows] == [
        ("improvement_plan", "mgr-bj-01", 1),
        ("recognition", "branch:BJ-01", 1),
    ]
    # retention (11 - 1) / 10 = 1.0 and no churn: on target; no CSAT answers: no basis
    assert "churn_rate" in rows[1]["kpis"] and "csat" not in rows[0]["kpis"]
    assert "retention_rate" not in rows[0]["kpis"]
    closure = {"period": "2026Q1", "scope": "branch:BJ-01", "plan": 1, "evidence": "Calls made"}
    closed = api.post("/evaluations/improvement-plans/closures", "relationship_manager", closure)
    assert closed.status_code == 201, closed.get_json()
    assert (closed.get_json()["closed_plans"], closed.get_json()["open_plans"]) == (1, {})
    again = api.post("/evaluations/improvement-plans/closures", "compliance_officer", closure)
    assert again.status_code == 409 and again.content_type == "application/problem+json"
    zero = api.post(
        "/evaluations/improvement-plans/closures", "compliance_officer", closure | {"plan": 0}
    )
    assert zero.status_code == 422


def test_a_service_standard_review_is_recorded_and_shown(api: Api) -> None:
    standard = {"code": "Q-9", "name": "Queue", "measure": "wait", "target": "10",
                "unit": "minutes", "step": "counter"}  # fmt: skip
    assert api.post("/service-standards", "compliance_officer", standard).status_code == 201
    api.clock.advance(days=30)
    reviewed = api.post("/service-standards/Q-9/reviews", "compliance_officer", {"findings": "ok"})
    assert reviewed.status_code == 201, reviewed.get_json()
    view = api.get("/service-standards/Q-9", "compliance_officer").get_json()
    assert view["reviewed_on"] == api.clock.now.date().isoformat()
    assert view["review_overdue_for"] is None
    assert api.post("/service-standards/Q-0/reviews", "compliance_officer", {}).status_code == 404
    long = api.post(
        "/service-standards/Q-9/reviews", "compliance_officer", {"findings": "x" * 2001}
    )
    assert long.status_code == 422


def test_a_survey_answer_scores_the_four_dimensions_and_the_view_aggregates_them(
    api: Api,
) -> None:
    customer_id = api.register()
    survey = api.post(
        "/surveys", "front_office", {"customer_id": str(customer_id), "instrument": "CSAT"}
    ).get_json()["id"]
    dimensions = {
        "service_quality": 5,
        "product_quality": 4,
        "price_reasonableness": 3,
        "communication": 4,
    }
    partial_answer = {"score": 4, "dimensions": {"service_quality": 5}}
    refused = api.post(f"/surveys/{survey}/answers", "front_office", partial_answer)
    assert refused.status_code == 422
    answer = {"score": 4, "dimensions": dimensions}
    assert api.post(f"/surveys/{survey}/answers", "front_office", answer).status_code == 201
    read = api.get(f"/surveys/{survey}", "front_office").get_json()
    assert read["dimensions"] == dimensions
    head = api.events()
    (month,) = api.get(
        f"/views/survey-dimensions?from=2026-01&to=2026-12&min_position={head}",
        "relationship_manager",
    ).get_json()["items"]
    assert month["answers"] == 1
    assert month["price_reasonableness"] == {"mean": "3.00", "satisfied_share": "0.0000"}
