"""A customer's whole history in one place: GET /customers/{id}/timeline."""

from __future__ import annotations

from typing import Any
from uuid import UUID

import pytest

from domain.ids import consent_id
from ledger_verify.tlog_proof import verify_tlog_proof
from tests.web.conftest import Api

pytestmark = pytest.mark.e2e

CONSENT = {
    "purpose": "marketing",
    "data_categories": ["contact"],
    "method": "written",
    "notice_version": "2026-01",
    "evidence": "signed form #12",
}


def _etag(api: Api, customer_id: Any) -> str:
    return str(api.get(f"/customers/{customer_id}", "front_office").headers["ETag"])


def _story(api: Api) -> tuple[UUID, str]:
    """A customer, a consent, a complaint, a phone change with a reason; a stranger's
    consent in between. Returns the customer and the complaint's id."""
    customer_id = api.register()
    stranger = api.register({**_stranger()})
    api.clock.advance(days=1)
    assert (
        api.post(f"/customers/{customer_id}/consents", "front_office", CONSENT).status_code == 201
    )
    assert api.post(f"/customers/{stranger}/consents", "front_office", CONSENT).status_code == 201
    api.clock.advance(days=1)
    complaint = {
        "customer_id": str(customer_id),
        "kind": "complaint",
        "category": "fees",
        "narrative": "charged twice for the same transfer",
    }
    case = api.post("/feedback", "front_office", complaint)
    assert case.status_code == 201, case.get_json()
    api.clock.advance(days=1)
    patched = api.patch(
        f"/customers/{customer_id}",
        "front_office",
        {"phone": "13900001111", "source": "customer"},
        If_Match=_etag(api, customer_id),
        X_Reason="customer asked at the counter",
    )
    assert patched.status_code == 200, patched.get_json()
    return customer_id, str(case.get_json()["id"])


def _stranger() -> dict[str, Any]:
    from tests.web.conftest import WANG_2

    return {**WANG_2, "name": "李四", "phone": "13700001111"}


def _timeline(api: Api, customer_id: UUID, query: str = "", **headers: str) -> Any:
    response = api.get(f"/customers/{customer_id}/timeline{query}", "compliance_officer", **headers)
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def test_the_timeline_holds_every_stream_about_the_customer_in_log_order(api: Api) -> None:
    customer_id, case_id = _story(api)
    body = _timeline(api, customer_id, X_Purpose="compliance_audit")
    events = body["events"]
    streams = {e["stream"] for e in events}
    assert {"Customer", "Consent", "FeedbackCase"} <= streams
    assert case_id in {e["stream_id"] for e in events}
    ids = [e["notification_id"] for e in events]
    assert ids == sorted(ids)
    last = events[-1]
    assert (last["event"], last["actor_id"], last["role"], last["channel"]) == (
        "ProfileFieldChanged",
        "front_office-1",
        "front_office",
        "api",
    )
    assert last["reason"] == "customer asked at the counter"
    assert {"field": "phone", "before": "13812345678", "after": "13900001111"} in last["changes"]
    assert body["disclosure"] == "full" and body["next_after"] is None


def test_the_timeline_leaves_out_another_customers_events(api: Api) -> None:
    customer_id, _ = _story(api)
    events = _timeline(api, customer_id)["events"]
    mine = {str(customer_id), str(consent_id(customer_id, "marketing"))}
    consents = {e["stream_id"] for e in events if e["stream"] == "Consent"}
    assert consents == {str(consent_id(customer_id, "marketing"))}
    assert mine <= {e["stream_id"] for e in events}
    assert "李四" not in str(events) and "13700001111" not in str(events)


def test_each_seq_is_what_the_integrity_proof_takes(api: Api) -> None:
    customer_id, _ = _story(api)
    unsealed = _timeline(api, customer_id)["events"]
    assert all(e["seq"] is None for e in unsealed)
    api.ledger.seal()
    events = _timeline(api, customer_id)["events"]
    sealed = api.ledger.sealed_log
    for entry in (events[0], events[-1]):
        (leaf,) = list(sealed.leaf_rows(entry["seq"], entry["seq"] + 1))
        assert leaf.notification_id == entry["notification_id"]
        proof = api.get(f"/integrity/proof?seq={entry['seq']}", "regulator")
        assert proof.status_code == 200
        verify_tlog_proof(
            proof.get_data(as_text=True), leaf.leaf_hash, sealed.public_key, sealed.origin
        )


def test_values_and_reasons_are_masked_unless_disclosed_and_disclosure_is_logged(
    api: Api,
) -> None:
    customer_id, _ = _story(api)
    masked = _timeline(api, customer_id)
    text = str(masked)
    assert masked["disclosure"] == "masked"
    for secret in ("王小明", "13812345678", "13900001111", "customer asked at the counter"):
        assert secret not in text, secret
    last = masked["events"][-1]
    assert {"field": "phone", "before": "*******5678", "after": "*******1111"} in last["changes"]
    assert api.ledger.access_log.entries(subject_id=str(customer_id)) == []
    _timeline(api, customer_id, X_Purpose="compliance_audit")
    (entry,) = api.ledger.access_log.entries(subject_id=str(customer_id))
    assert (entry.what, entry.purpose) == ("customer.timeline", "compliance_audit")


def test_as_of_shows_only_what_had_happened_by_then(api: Api) -> None:
    customer_id = api.register()
    registered = api.clock.now
    api.clock.advance(days=2)
    api.post(f"/customers/{customer_id}/consents", "front_office", CONSENT)
    moment = registered.isoformat().replace("+", "%2B")
    then = _timeline(api, customer_id, f"?as_of={moment}")
    assert then["as_of"] == registered.isoformat()
    assert "Consent" not in {e["stream"] for e in then["events"]}
    assert all(e["at"] <= registered.isoformat() for e in then["events"])
    now = _timeline(api, customer_id)
    assert "Consent" in {e["stream"] for e in now["events"]}
    assert len(now["events"]) > len(then["events"])


def test_a_large_timeline_pages_by_cursor(api: Api) -> None:
    customer_id, _ = _story(api)
    whole = _timeline(api, customer_id)["events"]
    seen: list[Any] = []
    query = "?limit=2"
    while True:
        page = _timeline(api, customer_id, query)
        assert len(page["events"]) <= 2
        seen.extend(page["events"])
        if page["next_after"] is None:
            break
        query = f"?limit=2&after={page['next_after']}"
    assert seen == whole
    refused = api.get(f"/customers/{customer_id}/timeline?limit=0", "compliance_officer")
    assert refused.status_code == 422


def test_the_timeline_of_no_customer_is_404_and_of_an_erased_one_410(api: Api) -> None:
    missing = api.get(f"/customers/{UUID(int=7)}/timeline", "compliance_officer")
    assert missing.status_code == 404
    customer_id = api.register()
    path = f"/customers/{customer_id}"
    assert api.post(f"{path}/relationship-end", "relationship_manager", {}).status_code == 200
    assert api.post(f"{path}/erasure-request", "front_office").status_code == 201
    api.clock.advance(days=366 * 10 + 3)
    assert api.post(f"{path}/erasure", "compliance_officer").status_code == 200
    gone = api.get(f"{path}/timeline", "compliance_officer", X_Purpose="data_subject_request")
    assert gone.status_code == 410
    assert gone.get_json()["type"].endswith("/subject_erased")


def test_the_front_office_may_not_read_a_timeline(api: Api) -> None:
    customer_id = api.register()
    assert api.get(f"/customers/{customer_id}/timeline", "front_office").status_code == 403


def test_what_an_event_records_shows_disclosed_and_is_masked_otherwise(api: Api) -> None:
    customer_id, case_id = _story(api)
    told = "refund expected by Friday, Ms Wang informed"
    ack = {"transition": "acknowledge", "method": "sms", "progress": told}
    assert api.post(f"/feedback/{case_id}/transitions", "front_office", ack).status_code == 200
    advice = {"area": "risk", "topic": "Fund drawdown", "advice": "Keep six months of cash"}
    given = api.post(f"/customers/{customer_id}/advice", "relationship_manager", advice)
    assert given.status_code == 201, given.get_json()

    def recorded(timeline: Any, event: str) -> dict[str, Any]:
        (entry,) = [e for e in timeline["events"] if e["event"] == event]
        return {field["field"]: field["value"] for field in entry["recorded"]}

    masked = _timeline(api, customer_id)
    for secret in (told, "Keep six months of cash", "charged twice for the same transfer"):
        assert secret not in str(masked), secret
    assert recorded(masked, "Acknowledged")["method"] == "sms"  # not personal: in clear
    full = _timeline(api, customer_id, X_Purpose="complaint_handling")
    assert recorded(full, "Acknowledged")["progress"] == told
    assert recorded(full, "AdviceGiven")["advice"] == "Keep six months of cash"
    assert recorded(full, "FeedbackReceived")["narrative"] == "charged twice for the same transfer"
