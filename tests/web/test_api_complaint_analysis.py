"""Complaints over HTTP: the deadlines and progress told at acknowledgement, the product
of a case, enquiry deadlines, and the per-month analysis view (policy 1.2)."""

from __future__ import annotations

from uuid import UUID

import pytest

from domain.feedback import Acknowledged
from tests.domain.factories import Clock
from tests.web.conftest import Api

pytestmark = pytest.mark.e2e


def _open(api: Api, customer_id: UUID, kind: str, **extra: str) -> dict[str, object]:
    body = {"customer_id": str(customer_id), "kind": kind, "category": "product", **extra}
    response = api.post("/feedback", "front_office", {"narrative": "Card blocked", **body})
    assert response.status_code == 201, response.get_json()
    return dict(response.get_json())


def test_an_acknowledgement_records_the_deadline_and_progress_told(api: Api) -> None:
    case = _open(api, api.register(), "complaint", rule_set="US", product="credit_card")
    assert case["final_due_at"] is not None and case["final_escalation_level"] == 0
    response = api.post(
        f"/feedback/{case['id']}/transitions",
        "relationship_manager",
        {"transition": "acknowledge", "method": "email", "progress": "Card team reviewing"},
    )
    assert response.status_code == 200, response.get_json()
    case_id = UUID(str(case["id"]))
    (ack,) = [e for e in api.ledger.app.events_of(case_id) if isinstance(e, Acknowledged)]
    assert ack.due_at is not None and ack.due_at.isoformat().startswith(str(case["due_at"])[:19])
    assert ack.progress == "Card team reviewing"
    read = api.get(f"/feedback/{case_id}", "compliance_officer").get_json()
    assert read["product"] == "credit_card"
    assert read["acknowledged_due_at"] is not None


def test_progress_is_not_an_input_of_other_transitions_and_is_bounded(api: Api) -> None:
    case = _open(api, api.register(), "complaint")
    before = api.events()
    for body in (
        {"transition": "start_investigation", "progress": "x"},
        {"transition": "acknowledge", "progress": "x" * 2001},
    ):
        response = api.post(f"/feedback/{case['id']}/transitions", "relationship_manager", body)
        assert response.status_code == 422, body
        assert response.headers["Content-Type"] == "application/problem+json"
    assert api.events() == before


def test_an_enquiry_gets_its_own_deadline(api: Api) -> None:
    case = _open(api, api.register(), "enquiry")
    assert case["due_at"] is not None and case["final_due_at"] is None


def test_the_analysis_counts_complaints_by_product_channel_and_root_cause(
    api: Api, clock: Clock
) -> None:
    customer_id = api.register()
    _open(api, customer_id, "complaint", product="credit_card", source="online_chat")
    _open(api, customer_id, "complaint", product="credit_card")
    _open(api, customer_id, "complaint")
    head = api.events()
    response = api.get(
        f"/views/complaints/analysis?from=2026-03&to=2026-04&min_position={head}",
        "compliance_officer",
    )
    assert response.status_code == 200, response.get_json()
    march, april = response.get_json()["items"]
    assert march["received"] == 3 and april["received"] == 0
    assert march["by_product"] == {"credit_card": 2, "none": 1}
    assert march["by_channel"] == {"online_chat": 1, "phone": 2}
    assert (
        api.get("/views/complaints/analysis?from=2026-03&to=2026-03", "front_office").status_code
        == 403
    )
    backwards = api.get("/views/complaints/analysis?from=2026-05&to=2026-03", "compliance_officer")
    assert backwards.status_code == 422
    assert backwards.headers["Content-Type"] == "application/problem+json"
    missing = api.get("/views/complaints/analysis?from=2026-03", "compliance_officer")
    assert missing.status_code == 422


@pytest.mark.parametrize(
    ("view", "first", "last"),
    [
        ("complaints/analysis", "2015-01", "2026-12"),  # 144 months: not cut to 120
        ("complaints/analysis", "2026-13", "2026-14"),
        ("complaints/analysis", "0000-00", "2026-01"),
        ("kpis", "2026-13", "2027-01"),
        ("kpis", "2016-01", "2026-01"),  # 121 months
    ],
)
def test_a_period_range_that_is_not_months_or_too_long_is_refused_not_cut(
    api: Api, view: str, first: str, last: str
) -> None:
    answer = api.get(f"/views/{view}?from={first}&to={last}", "compliance_officer")
    assert answer.status_code == 422, answer.get_json()
    assert answer.headers["Content-Type"] == "application/problem+json"


def test_ten_years_of_months_are_answered_in_full(api: Api) -> None:
    answer = api.get("/views/complaints/analysis?from=2016-01&to=2025-12", "compliance_officer")
    assert answer.status_code == 200, answer.get_json()
    assert len(answer.get_json()["items"]) == 120


def test_a_uk_case_answers_its_summary_window_and_its_8_week_deadline(api: Api) -> None:
    case = _open(api, api.register(), "complaint", rule_set="UK")
    assert case["final_due_at"] is None
    assert case["summary_resolution_by"] is not None and case["due_at"] is not None
    assert case["summary_resolution_by"] < case["due_at"]
    assert case["summary_resolution"] is False
    read = api.get(f"/feedback/{case['id']}", "compliance_officer").get_json()
    assert read["rule_version"] == "complaint_deadline/2"
    assert read["summary_resolution_by"] is not None
