"""The OpenAPI document names every parameter an endpoint reads."""

from __future__ import annotations

import inspect
import re
from typing import Any

import pytest

from tests.web.conftest import API, Api

pytestmark = pytest.mark.e2e


def parameters(spec: dict[str, Any], path: str, method: str = "get") -> dict[tuple[str, str], Any]:
    operation = spec["paths"][API + path][method]
    return {(param["in"], param["name"]): param for param in operation.get("parameters", [])}


@pytest.fixture
def spec(sqlite_api: Api) -> dict[str, Any]:
    document: dict[str, Any] = sqlite_api.client.get(f"{API}/openapi.json").get_json()
    return document


def test_the_history_endpoint_documents_as_of_beside_the_purpose(spec: dict[str, Any]) -> None:
    found = parameters(spec, "/customers/{customer_id}/history")
    assert found[("query", "as_of")]["required"] is True
    assert "ISO 8601" in found[("query", "as_of")]["description"]
    assert ("header", "X-Purpose") in found


def test_the_changes_endpoint_documents_from_and_to(spec: dict[str, Any]) -> None:
    found = parameters(spec, "/customers/{customer_id}/changes")
    assert {("query", "from"), ("query", "to"), ("header", "X-Purpose")} <= set(found)


def test_no_operation_loses_its_arguments_to_a_documented_header(spec: dict[str, Any]) -> None:
    # the views read `min_position` and `X-Min-Position`; a write its Idempotency-Key
    found = parameters(spec, "/views/customers")
    assert {("query", "min_position"), ("header", "X-Min-Position")} <= set(found)
    assert ("header", "Idempotency-Key") in parameters(spec, "/customers", "post")


def test_every_read_endpoint_of_the_table_is_documented_with_its_handler(
    spec: dict[str, Any],
) -> None:
    from web.api.views import READ_ENDPOINTS

    for endpoint in READ_ENDPOINTS:
        assert endpoint.handler.__name__ != "<lambda>"
        path = "/views" + re.sub(r"<uuid:(\w+)>", r"{\1}", endpoint.path)
        operation = spec["paths"][API + path]["get"]
        assert operation["summary"] in inspect.cleandoc(endpoint.handler.__doc__ or "")
        assert ("query", "min_position") in parameters(spec, path)
