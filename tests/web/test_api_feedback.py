"""Feedback cases, surveys and consent over HTTP."""

from __future__ import annotations

from typing import Any
from uuid import UUID

import pytest

from tests.web.conftest import Api

pytestmark = pytest.mark.e2e


def _complaint(api: Api, customer_id: UUID, **extra: Any) -> dict[str, Any]:
    body = {
        "customer_id": str(customer_id),
        "kind": "complaint",
        "category": "fees",
        "narrative": "王小明 was charged twice for the same transfer",
        **extra,
    }
    response = api.post("/feedback", "front_office", body)
    assert response.status_code == 201, response.get_json()
    return dict(response.get_json())


def _move(api: Api, case_id: str, **body: Any) -> Any:
    return api.post(f"/feedback/{case_id}/transitions", "relationship_manager", body)


def test_a_complaint_gets_its_deadline_and_runs_to_closed(api: Api) -> None:
    customer_id = api.register()
    case = _complaint(api, customer_id)
    assert case["state"] == "received" and case["due_at"] is not None
    steps = [
        ({"transition": "acknowledge", "method": "sms"}, "acknowledged"),
        ({"transition": "start_investigation"}, "investigating"),
        ({"transition": "resolve", "outcome": "refunded", "root_cause": "system"}, "resolved"),
        ({"transition": "pay_redress", "amount": "50.00"}, "resolved"),
        ({"transition": "complete_follow_up", "method": "phone"}, "followed_up"),
        ({"transition": "close"}, "closed"),
        ({"transition": "reopen"}, "reopened"),
    ]
    for body, state in steps:
        response = _move(api, case["id"], **body)
        assert response.status_code == 200, (body, response.get_json())
        assert response.get_json()["state"] == state
    view = api.ledger.app.get_case(UUID(case["id"]))
    assert (view.redress_amount, view.reopened_count, view.resolved_in_time) == (50, 1, True)


def test_an_illegal_transition_is_409_and_records_nothing(api: Api) -> None:
    case = _complaint(api, api.register())
    before = api.events()
    for body in (
        {"transition": "close"},
        {"transition": "resolve", "outcome": "x", "root_cause": "none"},
        {"transition": "reopen"},
    ):
        response = _move(api, case["id"], **body)
        assert response.status_code == 409, body
        assert response.get_json()["type"].endswith("/illegal_transition")
    assert api.events() == before


def test_escalating_a_case_that_cannot_escalate_is_409(api: Api) -> None:
    customer_id = api.register()
    case = _complaint(api, customer_id)
    assert _move(api, case["id"], transition="escalate").status_code == 200
    _move(api, case["id"], transition="withdraw")
    assert _move(api, case["id"], transition="escalate").status_code == 409


def test_a_transition_names_missing_and_foreign_inputs(api: Api) -> None:
    case = _complaint(api, api.register())
    response = _move(api, case["id"], transition="resolve", owner="rm-2", method="letter")
    assert response.status_code == 422
    errors = response.get_json()["errors"]
    assert set(errors) == {"outcome", "root_cause", "owner", "method"}
    unknown = _move(api, case["id"], transition="teleport")
    assert unknown.status_code == 422 and "transition" in unknown.get_json()["errors"]


def test_a_stale_if_match_on_a_transition_is_412(api: Api) -> None:
    case = _complaint(api, api.register())
    response = api.post(
        f"/feedback/{case['id']}/transitions",
        "front_office",
        {"transition": "acknowledge"},
        If_Match='"7"',
    )
    assert response.status_code == 412


def test_the_case_narrative_is_masked_unless_disclosed(api: Api) -> None:
    customer_id = api.register()
    case = _complaint(api, customer_id)
    masked = api.get(f"/feedback/{case['id']}", "relationship_manager").get_json()
    assert masked["narrative"] == "***"
    full = api.get(
        f"/feedback/{case['id']}", "relationship_manager", X_Purpose="complaint_handling"
    ).get_json()
    assert full["narrative"].startswith("王小明")
    (entry,) = api.ledger.access_log.entries(subject_id=str(customer_id))
    assert (entry.purpose, entry.what) == ("complaint_handling", "case.narrative")


def test_feedback_on_an_unknown_customer_is_404(api: Api) -> None:
    response = api.post(
        "/feedback",
        "front_office",
        {
            "customer_id": "6f1c1d2e-7a53-4c1e-9b55-2d0b6f9e5a10",
            "kind": "praise",
            "category": "staff_conduct",
            "narrative": "very helpful",
        },
    )
    assert response.status_code == 404


def test_a_dissatisfied_answer_opens_service_recovery(api: Api) -> None:
    customer_id = api.register()
    survey = api.post(
        "/surveys", "front_office", {"customer_id": str(customer_id), "instrument": "CSAT"}
    )
    assert survey.status_code == 201
    survey_id = survey.get_json()["id"]
    answer = api.post(f"/surveys/{survey_id}/answers", "front_office", {"score": 1})
    assert answer.status_code == 201
    body = answer.get_json()
    assert body["dissatisfied"] is True and body["recovery_case_id"]
    case = api.get(f"/feedback/{body['recovery_case_id']}", "front_office").get_json()
    assert (case["kind"], case["source"], case["state"]) == ("complaint", "survey", "received")
    again = api.post(f"/surveys/{survey_id}/answers", "front_office", {"score": 5})
    assert again.status_code == 409
    recovery = api.post(
        f"/surveys/{survey_id}/recoveries",
        "front_office",
        {"action": "compensation", "description": "fee refunded"},
    )
    assert recovery.status_code == 422
    assert "amount" in recovery.get_json()["errors"]


def test_a_score_outside_the_instrument_is_422(api: Api) -> None:
    customer_id = api.register()
    survey_id = api.post(
        "/surveys", "front_office", {"customer_id": str(customer_id), "instrument": "CSAT"}
    ).get_json()["id"]
    response = api.post(f"/surveys/{survey_id}/answers", "front_office", {"score": 9})
    assert response.status_code == 422
    assert "score" in response.get_json()["errors"]


def test_consent_is_granted_read_masked_and_withdrawn(api: Api) -> None:
    customer_id = api.register()
    grant = {
        "purpose": "marketing",
        "data_categories": ["contact", "preferences"],
        "notice_version": "2026.1",
        "method": "electronic",
        "evidence": "app consent screen, session 7731",
    }
    response = api.post(f"/customers/{customer_id}/consents", "front_office", grant)
    assert response.status_code == 201, response.get_json()
    assert response.headers["Location"].endswith("/consents/marketing")
    view = api.get(f"/customers/{customer_id}/consents/marketing", "front_office").get_json()
    assert (view["state"], view["live"], view["evidence"]) == ("granted", True, "***")
    listed = api.get(f"/customers/{customer_id}/consents", "compliance_officer").get_json()
    assert [c["purpose"] for c in listed["consents"]] == ["marketing"]
    mixed = api.post(
        f"/customers/{customer_id}/consents",
        "front_office",
        {**grant, "purpose": "profiling", "data_categories": ["contact", "health"]},
    )
    assert mixed.status_code == 422
    withdrawn = api.post(
        f"/customers/{customer_id}/consents/marketing/withdrawal", "front_office", {}
    )
    assert withdrawn.status_code == 200
    view = api.get(f"/customers/{customer_id}/consents/marketing", "front_office").get_json()
    assert (view["state"], view["live"]) == ("withdrawn", False)
    assert (
        api.post(
            f"/customers/{customer_id}/consents/marketing/withdrawal", "front_office", {}
        ).status_code
        == 409
    )


def test_a_marketing_contact_needs_a_live_consent(api: Api) -> None:
    customer_id = api.register()
    contact = {
        "contact_channel": "phone",
        "direction": "outbound",
        "purpose": "marketing",
        "topic": "new fund",
    }
    refused = api.post(f"/customers/{customer_id}/interactions", "relationship_manager", contact)
    assert refused.status_code == 409
    assert refused.get_json()["type"].endswith("/consent_required")
    service = api.post(
        f"/customers/{customer_id}/interactions",
        "relationship_manager",
        {**contact, "purpose": "service"},
    )
    assert service.status_code == 201
    summary = api.get(f"/customers/{customer_id}/interactions", "front_office").get_json()
    assert (summary["interactions"], summary["last_channel"]) == (1, "phone")
