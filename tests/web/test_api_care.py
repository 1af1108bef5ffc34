"""Care over HTTP: the crisis register with per-customer contact evidence, tailored
advice, and greetings in the customer's language."""

from __future__ import annotations

from uuid import UUID

import pytest

from domain.interaction import AdviceGiven, GreetingSent
from domain.rules.care import GREETING_TEXTS
from tests.web.conftest import WANG, WANG_2, Api

pytestmark = pytest.mark.e2e


def _crisis(api: Api, affected: list[UUID]) -> str:
    body = {
        "title": "Card outage",
        "scope": "cards",
        "severity": "high",
        "affected_customer_ids": [str(c) for c in affected],
    }
    response = api.post("/crises", "compliance_officer", body)
    assert response.status_code == 201, response.get_json()
    return str(response.get_json()["id"])


def test_crisis_contacts_are_recorded_and_the_register_shows_them(api: Api) -> None:
    customer_id = api.register()
    crisis_id = _crisis(api, [customer_id])
    contact = {"customer_id": str(customer_id), "contact_channel": "phone", "notes": "Waived"}
    response = api.post(f"/crises/{crisis_id}/contacts", "relationship_manager", contact)
    assert response.status_code == 201, response.get_json()
    assert response.get_json()["in_time"] is True
    head = api.events()
    register = api.get(f"/views/crises?min_position={head}", "front_office").get_json()
    (row,) = register["items"]
    assert (row["crisis_id"], row["affected"], row["contacted"]) == (crisis_id, 1, 1)
    contacts = api.get(f"/views/crises/{crisis_id}/contacts", "compliance_officer").get_json()
    (evidence,) = contacts["items"]
    assert evidence["customer_id"] == str(customer_id)
    assert evidence["evidence_ref"] == f"{crisis_id}@v2"
    crisis = api.get(f"/crises/{crisis_id}", "front_office").get_json()
    assert crisis["contacted_customer_ids"] == [str(customer_id)]
    assert crisis["contact_due_at"] is not None


def test_a_contact_with_a_customer_not_affected_is_422_and_records_nothing(api: Api) -> None:
    crisis_id = _crisis(api, [api.register()])
    other = api.register(WANG_2)
    before = api.events()
    body = {"customer_id": str(other), "contact_channel": "phone"}
    response = api.post(f"/crises/{crisis_id}/contacts", "compliance_officer", body)
    assert response.status_code == 422
    assert response.headers["Content-Type"] == "application/problem+json"
    assert api.events() == before
    bad = api.get("/views/crises?state=pending", "compliance_officer")
    assert bad.status_code == 422


def test_tailored_advice_is_recorded_through_the_api(api: Api) -> None:
    customer_id = api.register()
    body = {"area": "risk", "topic": "Fund drawdown", "advice": "Stay balanced"}
    response = api.post(f"/customers/{customer_id}/advice", "relationship_manager", body)
    assert response.status_code == 201, response.get_json()
    summary = api.get(f"/customers/{customer_id}/interactions", "compliance_officer").get_json()
    assert summary["advice_given"] == 1
    log_id = UUID(summary["id"])
    (given,) = [e for e in api.ledger.app.events_of(log_id) if isinstance(e, AdviceGiven)]
    assert (given.area, given.contact_channel, given.advice) == ("risk", "branch", "Stay balanced")
    before = api.events()
    bad = api.post(f"/customers/{customer_id}/advice", "relationship_manager", {"area": "x"})
    assert bad.status_code == 422 and api.events() == before
    refused = api.post(f"/customers/{customer_id}/advice", "compliance_officer", body)
    assert refused.status_code == 403


def test_a_greeting_without_a_message_is_written_in_the_customers_language(api: Api) -> None:
    customer_id = api.register({**WANG, "language": "en"})
    grant = {
        "purpose": "greetings",
        "data_categories": ["contact"],
        "notice_version": "2026.1",
        "method": "written",
        "evidence": "form 12",
    }
    granted = api.post(f"/customers/{customer_id}/consents", "front_office", grant)
    assert granted.status_code == 201, granted.get_json()
    response = api.post(
        f"/customers/{customer_id}/greetings", "relationship_manager", {"occasion": "national_day"}
    )
    assert response.status_code == 201, response.get_json()
    summary = api.get(f"/customers/{customer_id}/interactions", "compliance_officer").get_json()
    (greeting,) = [
        e for e in api.ledger.app.events_of(UUID(summary["id"])) if isinstance(e, GreetingSent)
    ]
    assert (greeting.language, greeting.message) == ("en", GREETING_TEXTS["national_day"]["en"])
    no_text = api.post(
        f"/customers/{customer_id}/greetings", "relationship_manager", {"occasion": "anniversary"}
    )
    assert no_text.status_code == 422


def test_needs_and_interests_are_recorded_and_shown_with_the_notes_masked(api: Api) -> None:
    customer_id = api.register()
    body = {"needs": ["retirement"], "interests": ["golf", "calligraphy"], "notes": "Retires 2030"}
    path = f"/customers/{customer_id}/preferences"
    response = api.call("PUT", path, "relationship_manager", body)
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["recorded"] is True
    again = api.call("PUT", path, "relationship_manager", body)
    assert again.get_json() == {"recorded": False, "version": response.get_json()["version"]}
    masked = api.get(f"/customers/{customer_id}", "front_office").get_json()
    assert (masked["needs"], masked["interests"]) == (["retirement"], ["golf", "calligraphy"])
    assert masked["preference_notes"] == "***"
    full = api.get(
        f"/customers/{customer_id}", "relationship_manager", X_Purpose="relationship_care"
    ).get_json()
    assert full["preference_notes"] == "Retires 2030"
    before = api.events()
    for bad in ({"needs": ["yachts"], "interests": []}, {"needs": [], "interests": ["Golf!"]}):
        refused = api.call("PUT", path, "relationship_manager", bad)
        assert refused.status_code == 422
        assert refused.content_type == "application/problem+json"
    assert api.call("PUT", path, "compliance_officer", body).status_code == 403
    assert api.events() == before
