"""Every error is problem+json with a stable type; hostile input is never a 5xx."""

from __future__ import annotations

import pytest

from tests.web.conftest import API, WANG, Api

pytestmark = pytest.mark.e2e

PROBLEM = "application/problem+json"


def _problem(response: object) -> dict[str, object]:
    assert response.mimetype == PROBLEM  # type: ignore[attr-defined]
    body = response.get_json()  # type: ignore[attr-defined]
    assert {"type", "title", "status", "detail", "code"} <= set(body)
    assert body["type"] == f"https://crm-ledger.example/problems/{body['code']}"
    assert body["status"] == response.status_code  # type: ignore[attr-defined]
    return dict(body)


def test_malformed_json_is_a_400_problem(sqlite_api: Api) -> None:
    response = sqlite_api.client.post(
        f"{API}/customers",
        data=b'{"kind": "individual",',
        headers={**sqlite_api.headers("front_office"), "Content-Type": "application/json"},
    )
    assert response.status_code == 400
    _problem(response)


@pytest.mark.parametrize(
    "raw",
    [
        b"[" * 200_000 + b"]" * 200_000,
        b'{"a":' * 100_000 + b"1" + b"}" * 100_000,
        b'{"kind": 1' + b"0" * 5000 + b"}",
        b'{"kind": "\xff\xfe"}',
    ],
    ids=["deep-array", "deep-object", "huge-number", "bad-utf8"],
)
def test_json_the_parser_cannot_take_is_a_400_problem(sqlite_api: Api, raw: bytes) -> None:
    response = sqlite_api.client.post(
        f"{API}/customers",
        data=raw,
        headers={**sqlite_api.headers("front_office"), "Content-Type": "application/json"},
    )
    assert response.status_code == 400
    _problem(response)


@pytest.mark.parametrize("body", [[], "text", 42, None, {"kind": {"nested": True}}])
def test_a_body_of_the_wrong_shape_is_a_422_problem(sqlite_api: Api, body: object) -> None:
    response = sqlite_api.post("/customers", "front_office", body)
    assert response.status_code in (400, 422)
    _problem(response)


def test_a_body_over_one_mebibyte_is_a_413_problem(sqlite_api: Api) -> None:
    big = {**WANG, "address": "x" * (1024 * 1024 + 1)}
    response = sqlite_api.post("/customers", "front_office", big)
    assert response.status_code == 413
    _problem(response)


def test_unknown_routes_and_methods_are_problems(sqlite_api: Api) -> None:
    assert _problem(sqlite_api.get("/nothing-here", "front_office"))["status"] == 404
    not_uuid = sqlite_api.get("/customers/not-a-uuid", "front_office")
    assert _problem(not_uuid)["status"] == 404
    wrong = sqlite_api.call("PUT", "/customers", "front_office", {})
    assert _problem(wrong)["status"] == 405


@pytest.mark.parametrize(
    "text",
    ["nul\x00byte", "bell\x07", "lone \ud800 surrogate", "   ", ""],
)
def test_text_that_cannot_be_stored_safely_is_refused(sqlite_api: Api, text: str) -> None:
    before = sqlite_api.events()
    response = sqlite_api.post("/customers", "front_office", {**WANG, "name": text})
    assert response.status_code == 422
    assert "name" in _problem(response)["errors"]  # type: ignore[index]
    assert sqlite_api.events() == before


def test_authentication_data_is_refused_without_echoing_it(sqlite_api: Api) -> None:
    customer_id = sqlite_api.register()
    response = sqlite_api.post(
        "/feedback",
        "front_office",
        {
            "customer_id": str(customer_id),
            "kind": "complaint",
            "category": "digital_channel",
            "narrative": "my password is hunter2024 and it stopped working",
        },
    )
    assert response.status_code == 422
    assert _problem(response)["code"] == "c3_refused"
    assert "hunter2024" not in response.get_data(as_text=True)


@pytest.mark.parametrize(
    "query",
    [
        "as_of=0001-01-01T00:00:00%2B23:59",
        "as_of=9999-12-31T23:59:59-23:59",
        "as_of=yesterday",
        "as_of=2026-13-02",
    ],
)
def test_extreme_times_are_refused_not_crashed_on(sqlite_api: Api, query: str) -> None:
    customer_id = sqlite_api.register()
    response = sqlite_api.get(f"/customers/{customer_id}/history?{query}", "compliance_officer")
    assert response.status_code == 422
    _problem(response)


def test_extreme_dates_are_refused(sqlite_api: Api) -> None:
    for day in ("0001-01-01", "9999-12-31"):
        body = {**WANG, "id_document": {**WANG["id_document"], "expires_on": day}}
        response = sqlite_api.post("/customers", "front_office", body)
        assert response.status_code == 422, day


def test_every_answer_carries_the_security_headers(sqlite_api: Api) -> None:
    response = sqlite_api.get("/customers/not-a-uuid", None)
    for header in ("X-Content-Type-Options", "X-Frame-Options", "Content-Security-Policy"):
        assert header in response.headers
    assert response.headers["Cache-Control"] == "no-store"
    assert response.headers["X-Request-Id"]


def test_the_openapi_document_documents_problems_and_roles_free_of_auth(sqlite_api: Api) -> None:
    spec = sqlite_api.client.get(f"{API}/openapi.json").get_json()
    assert "/api/v1/customers" in spec["paths"]
    default = spec["components"]["responses"]["DEFAULT_ERROR"]
    assert PROBLEM in default["content"]
    post = spec["paths"]["/api/v1/customers"]["post"]
    assert post["description"] or post["summary"]
    assert any(p["name"] == "Idempotency-Key" for p in post["parameters"])


def test_unknown_fields_are_refused_by_name(sqlite_api: Api) -> None:
    response = sqlite_api.post("/customers", "front_office", {**WANG, "shoe_size": 42})
    assert response.status_code == 422
    assert "shoe_size" in _problem(response)["errors"]  # type: ignore[operator]
