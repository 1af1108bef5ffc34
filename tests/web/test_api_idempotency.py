"""Idempotency-Key: a replay returns the first answer and records nothing new."""

from __future__ import annotations

from uuid import UUID

import pytest

from tests.web.conftest import WANG, Api

pytestmark = pytest.mark.e2e


def test_a_replay_returns_the_first_response_and_records_nothing(api: Api) -> None:
    first = api.post("/customers", "front_office", WANG, Idempotency_Key="reg-0001")
    assert first.status_code == 201
    recorded = api.events()
    replay = api.post("/customers", "front_office", WANG, Idempotency_Key="reg-0001")
    assert replay.status_code == 201
    assert replay.get_json() == first.get_json()
    assert replay.headers["Idempotent-Replayed"] == "true"
    assert replay.headers["ETag"] == first.headers["ETag"]
    assert replay.headers["Location"] == first.headers["Location"]
    assert "Idempotent-Replayed" not in first.headers
    assert api.events() == recorded


def test_the_same_key_with_another_body_is_422_and_records_nothing(api: Api) -> None:
    api.post("/customers", "front_office", WANG, Idempotency_Key="reg-0002")
    recorded = api.events()
    other = api.post(
        "/customers", "front_office", {**WANG, "phone": "13900001111"}, Idempotency_Key="reg-0002"
    )
    assert other.status_code == 422
    assert other.get_json()["type"].endswith("/idempotency_key_reused")
    assert api.events() == recorded


def test_keys_belong_to_their_caller(api: Api) -> None:
    api.post("/customers", "front_office", WANG, Idempotency_Key="shared-key")
    recorded = api.events()
    # another person (one record per person: the same ID number would be a 409)
    other_person = {**WANG, "id_document": {**WANG["id_document"], "number": "110101195802035678"}}
    response = api.call(
        "POST",
        "/customers",
        None,
        other_person,
        {
            "Authorization": f"Bearer {api.token('front_office', 'fo-other')}",
            "Idempotency-Key": "shared-key",
        },
    )
    assert response.status_code == 201
    assert "Idempotent-Replayed" not in response.headers
    assert api.events() > recorded


def test_a_replayed_transition_is_not_applied_twice(api: Api) -> None:
    customer_id = api.register()
    case = api.post(
        "/feedback",
        "front_office",
        {
            "customer_id": str(customer_id),
            "kind": "complaint",
            "category": "fees",
            "narrative": "charged twice",
        },
    ).get_json()
    path = f"/feedback/{case['id']}/transitions"
    first = api.post(path, "front_office", {"transition": "acknowledge"}, Idempotency_Key="ack-1")
    recorded = api.events()
    replay = api.post(path, "front_office", {"transition": "acknowledge"}, Idempotency_Key="ack-1")
    assert (first.status_code, replay.status_code) == (200, 200)
    assert replay.get_json() == first.get_json()
    assert api.events() == recorded
    again = api.post(path, "front_office", {"transition": "acknowledge"}, Idempotency_Key="ack-2")
    assert again.status_code == 409


def test_a_refused_command_is_replayed_as_refused(api: Api) -> None:
    body = {**WANG, "id_document": {**WANG["id_document"], "expires_on": "2020-01-01"}}
    first = api.post("/customers", "front_office", body, Idempotency_Key="bad-1")
    replay = api.post("/customers", "front_office", body, Idempotency_Key="bad-1")
    assert (first.status_code, replay.status_code) == (422, 422)
    assert replay.get_json() == first.get_json()
    assert replay.headers["Content-Type"] == "application/problem+json"


def test_an_unusable_key_is_a_400(api: Api) -> None:
    before = api.events()
    response = api.post("/customers", "front_office", WANG, Idempotency_Key="k" * 201)
    assert response.status_code == 400
    assert response.get_json()["type"].endswith("/bad_idempotency_key")
    assert api.events() == before


def test_a_failed_registration_records_nothing_and_a_retry_completes_it(
    api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Customer, KYC file and identity document are one atomic write."""
    app = api.ledger.app
    original = app.save

    def fail_once(*args: object, **kwargs: object) -> object:
        monkeypatch.setattr(app, "save", original)
        raise OSError("the store went away")

    monkeypatch.setattr(app, "save", fail_once)
    before = api.events()
    failed = api.post("/customers", "front_office", WANG, Idempotency_Key="reg-retry")
    assert failed.status_code == 500
    assert "store went away" not in failed.get_data(as_text=True)
    assert api.events() == before
    retried = api.post("/customers", "front_office", WANG, Idempotency_Key="reg-retry")
    assert retried.status_code == 201
    customer_id = retried.get_json()["id"]
    assert list(app.customer_ids()) == [UUID(customer_id)]
    assert app.get_kyc(UUID(customer_id)).doc_number == WANG["id_document"]["number"]


def test_a_reservation_left_by_a_dead_request_is_taken_over(api: Api) -> None:
    from datetime import UTC, datetime, timedelta

    from web.context import idempotency_store

    with api.app.app_context():
        store = idempotency_store()
    long_ago = (datetime.now(UTC) - timedelta(minutes=10)).isoformat()
    with api.ledger.datastore.transaction(commit=True) as cursor:
        store.dialect.execute(
            cursor,
            f"INSERT INTO {store.table} (actor_id, idem_key, fingerprint, created_at) "
            "VALUES (?,?,?,?)",
            ("front_office-1", "dead-1", "whatever", long_ago),
        )
    response = api.post("/customers", "front_office", WANG, Idempotency_Key="dead-1")
    assert response.status_code == 201
    replay = api.post("/customers", "front_office", WANG, Idempotency_Key="dead-1")
    assert replay.status_code == 201 and replay.headers["Idempotent-Replayed"] == "true"
