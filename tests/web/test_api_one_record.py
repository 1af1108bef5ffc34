"""One record per person over HTTP: 409 `already_registered`, also under a race."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import Any
from uuid import UUID

import pytest

from tests.web.conftest import API, BRIGHT, WANG, Api

pytestmark = pytest.mark.e2e

RACERS = 50


def test_a_second_registration_of_an_id_number_is_409_naming_the_first(api: Api) -> None:
    first = api.register()
    before = api.events()
    again = api.post("/customers", "relationship_manager", {**WANG, "name": "王晓明"})
    assert again.status_code == 409
    body = again.get_json()
    assert body["code"] == "already_registered"
    assert body["type"].endswith("/already_registered")
    assert body["customer_id"] == str(first)
    assert WANG["id_document"]["number"] not in again.get_data(as_text=True)
    assert api.events() == before


def test_a_role_that_may_not_read_customers_learns_only_that_the_number_is_taken(
    api: Api,
) -> None:
    api.register()
    again = api.post("/customers", "system", WANG)
    assert again.status_code == 409
    assert again.get_json()["code"] == "already_registered"
    assert "customer_id" not in again.get_json()


def test_a_credit_code_and_a_later_kyc_document_are_checked_too(api: Api) -> None:
    company = api.register(BRIGHT)
    copy = api.post("/customers", "front_office", {**BRIGHT, "registered_name": "Bright 2"})
    assert copy.status_code == 409 and copy.get_json()["customer_id"] == str(company)
    first = api.register()
    other = api.register(
        {**WANG, "id_document": {**WANG["id_document"], "number": "E12345678", "type": "passport"}}
    )
    taken = api.post(
        f"/customers/{other}/kyc/documents",
        "front_office",
        {
            "type": "resident_id",
            "number": WANG["id_document"]["number"],
            "expires_on": "2032-01-01",
        },
    )
    assert taken.status_code == 409
    assert taken.get_json()["customer_id"] == str(first)


def test_concurrent_registrations_of_one_number_create_exactly_one_customer(api: Api) -> None:
    """The attack: 480 concurrent registrations made 404 customers. Now one wins."""

    def register(index: int) -> tuple[int, Any]:
        client = api.app.test_client()
        response = client.post(
            API + "/customers",
            json={**WANG, "phone": f"1381234{index:04d}"},
            headers=api.headers("front_office"),
        )
        return response.status_code, response.get_json()

    with ThreadPoolExecutor(max_workers=16) as pool:
        answers = list(pool.map(register, range(RACERS)))
    statuses = sorted(status for status, _ in answers)
    assert statuses == [201] + [409] * (RACERS - 1)
    winner = next(UUID(body["id"]) for status, body in answers if status == 201)
    for status, body in answers:
        if status == 409:
            assert body["code"] == "already_registered"
            assert body["customer_id"] == str(winner)
    assert list(api.ledger.app.customer_ids()) == [winner]
