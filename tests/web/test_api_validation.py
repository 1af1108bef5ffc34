"""One shape for every validation error, whoever found it: a 422 problem whose `errors`
maps each field's path (`id_document.expires_on`, `data_categories.1`, a query or
header name) to messages naming the allowed values or the expected format; and a body
that is not JSON is a 415 that records nothing."""

from __future__ import annotations

from typing import Any

import pytest
from werkzeug.test import TestResponse

from tests.web.conftest import API, WANG, Api

pytestmark = pytest.mark.e2e

PROBLEM_KEYS = {"type", "title", "status", "detail", "code", "errors"}


def validation_problem(response: TestResponse) -> dict[str, Any]:
    assert response.status_code == 422, response.get_json()
    assert response.mimetype == "application/problem+json"
    problem: dict[str, Any] = response.get_json()
    assert set(problem) >= PROBLEM_KEYS
    assert (problem["status"], problem["code"], problem["title"]) == (
        422,
        "validation_failed",
        "Validation failed",
    )
    assert problem["type"].endswith("/validation_failed")
    for path, messages in problem["errors"].items():
        assert isinstance(path, str) and path
        assert isinstance(messages, list) and messages
        assert all(isinstance(message, str) for message in messages)
    return problem


def csat_survey(api: Api) -> str:
    customer_id = api.register()
    response = api.post(
        "/surveys", "front_office", {"customer_id": str(customer_id), "instrument": "CSAT"}
    )
    survey_id: str = response.get_json()["id"]
    return survey_id


def test_a_schema_error_and_a_domain_error_of_one_field_have_one_shape(api: Api) -> None:
    survey_id = csat_survey(api)
    by_schema = api.post(f"/surveys/{survey_id}/answers", "front_office", {"score": 11})
    by_domain = api.post(f"/surveys/{survey_id}/answers", "front_office", {"score": 9})
    schema_problem, domain_problem = validation_problem(by_schema), validation_problem(by_domain)
    assert set(schema_problem) == set(domain_problem)
    assert set(schema_problem["errors"]) == set(domain_problem["errors"]) == {"score"}
    assert "from 1 to 5" in domain_problem["errors"]["score"][0]


def test_nested_fields_are_named_by_their_path(api: Api) -> None:
    body = {**WANG, "id_document": {**WANG["id_document"], "expires_on": "1 Jan 2031"}}
    problem = validation_problem(api.post("/customers", "front_office", body))
    assert list(problem["errors"]) == ["id_document.expires_on"]
    found_by_domain = {**WANG, "id_document": {**WANG["id_document"], "expires_on": "2020-01-01"}}
    problem = validation_problem(api.post("/customers", "front_office", found_by_domain))
    assert list(problem["errors"]) == ["id_document.expires_on"]


def test_items_of_a_list_are_named_by_their_index(api: Api) -> None:
    customer_id = api.register()
    grant = {
        "purpose": "marketing",
        "data_categories": ["contact", "shoe_size"],
        "notice_version": "v1",
        "method": "written",
        "evidence": "form 1",
    }
    response = api.post(f"/customers/{customer_id}/consents", "front_office", grant)
    problem = validation_problem(response)
    assert list(problem["errors"]) == ["data_categories.1"]
    assert problem["errors"]["data_categories.1"][0].startswith("must be one of: ")


def test_query_and_header_fields_are_named_as_sent(api: Api) -> None:
    response = api.get("/views/customers?kind=robot&limit=0", "front_office")
    problem = validation_problem(response)
    assert set(problem["errors"]) == {"kind", "limit"}
    assert problem["errors"]["kind"] == ["must be one of: individual, corporate"]
    response = api.get("/views/customers", "front_office", X_Min_Position="x")
    assert set(validation_problem(response)["errors"]) == {"X-Min-Position"}


def test_a_moment_in_a_body_names_the_format_it_needs(api: Api) -> None:
    customer_id = api.register()
    response = api.post(
        "/feedback",
        "front_office",
        {
            "customer_id": str(customer_id),
            "kind": "complaint",
            "category": "fees",
            "narrative": "charged twice",
            "received_at": "2026-03-02T09:00:00",
        },
    )
    problem = validation_problem(response)
    assert problem["errors"] == {
        "received_at": [
            "must be an ISO 8601 date-time with an offset, like 2026-03-02T09:00:00+08:00"
        ]
    }


def test_as_of_is_read_as_the_cli_reads_a_moment(api: Api) -> None:
    customer_id = api.register()
    day = api.get(f"/customers/{customer_id}/history?as_of=2999-01-01", "compliance_officer")
    assert day.status_code == 200, day.get_json()
    assert day.get_json()["as_of"] == "2999-01-01T00:00:00+00:00"
    naive = api.get(
        f"/customers/{customer_id}/history?as_of=2999-01-01T08:00:00", "compliance_officer"
    )
    assert naive.get_json()["as_of"] == "2999-01-01T08:00:00+00:00"
    bad = api.get(f"/customers/{customer_id}/history?as_of=yesterday", "compliance_officer")
    assert validation_problem(bad)["errors"] == {
        "as_of": ["must be an ISO 8601 date or date-time (UTC unless it has an offset)"]
    }


@pytest.mark.parametrize("content_type", ["text/plain", "application/x-www-form-urlencoded", None])
def test_a_body_that_is_not_json_is_415_and_records_nothing(
    api: Api, content_type: str | None
) -> None:
    before = api.events()
    headers = {**api.headers("front_office"), "Idempotency-Key": "k-415"}
    if content_type:
        headers["Content-Type"] = content_type
    response = api.client.post(f"{API}/customers", data=b'{"kind": "individual"}', headers=headers)
    assert response.status_code == 415
    assert response.mimetype == "application/problem+json"
    assert response.get_json()["code"] == "unsupported_media_type"
    assert api.events() == before
    again = api.post("/customers", "front_office", WANG, Idempotency_Key="k-415")
    assert again.status_code == 201  # the refused request reserved no key
