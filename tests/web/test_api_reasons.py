"""Every write carries a reason: `X-Reason` recorded on each event the request records."""

from __future__ import annotations

import io
import logging
from typing import Any
from urllib.parse import quote

import pytest

from tests.web.conftest import Api

pytestmark = pytest.mark.e2e


def _etag(api: Api, customer_id: Any) -> str:
    return str(api.get(f"/customers/{customer_id}", "front_office").headers["ETag"])


def test_a_patch_without_source_is_a_422_and_records_nothing(api: Api) -> None:
    customer_id = api.register()
    before = api.events()
    response = api.patch(
        f"/customers/{customer_id}",
        "front_office",
        {"phone": "13900001111"},
        If_Match=_etag(api, customer_id),
    )
    assert response.status_code == 422, response.get_json()
    assert response.mimetype == "application/problem+json"
    assert "source" in response.get_json()["errors"]
    assert api.events() == before


def test_x_reason_is_recorded_on_every_event_the_write_records(api: Api) -> None:
    customer_id = api.register()
    response = api.patch(
        f"/customers/{customer_id}",
        "front_office",
        {"phone": "13900001111", "email": "new@example.cn", "source": "customer"},
        If_Match=_etag(api, customer_id),
        X_Reason="customer called to update contact details, ticket T-7",
    )
    assert response.status_code == 200, response.get_json()
    changed = [e for e in api.ledger.app.timeline(customer_id) if e.event == "ProfileFieldChanged"]
    assert len(changed) == 2
    assert {e.reason for e in changed} == {"customer called to update contact details, ticket T-7"}


def test_x_reason_reaches_writes_of_other_aggregates_too(api: Api) -> None:
    customer_id = api.register()
    consent = {
        "purpose": "marketing",
        "data_categories": ["contact"],
        "method": "written",
        "notice_version": "2026-01",
        "evidence": "signed form #12",
    }
    response = api.post(
        f"/customers/{customer_id}/consents", "front_office", consent, X_Reason="branch visit"
    )
    assert response.status_code == 201, response.get_json()
    events = api.ledger.app.customer_timeline(customer_id).entries
    granted = [e for e in events if e.event == "ConsentGranted"]
    assert [e.reason for e in granted] == ["branch visit"]


def test_a_non_ascii_reason_is_sent_percent_encoded_and_recorded_as_text(api: Api) -> None:
    customer_id = api.register()
    reason = "客户来电要求更新电话"
    response = api.patch(
        f"/customers/{customer_id}",
        "front_office",
        {"phone": "13900001111", "source": "customer"},
        If_Match=_etag(api, customer_id),
        X_Reason=quote(reason),
    )
    assert response.status_code == 200, response.get_json()
    assert api.ledger.app.timeline(customer_id)[-1].reason == reason


@pytest.mark.parametrize(
    "reason",
    ["x" * 501, "   ", "line\tbreak", "%ZZ%E5", "%0Anew line"],
    ids=["too-long", "blank", "control", "bad-encoding", "encoded-control"],
)
def test_a_malformed_reason_is_a_422_and_records_nothing(api: Api, reason: str) -> None:
    customer_id = api.register()
    before = api.events()
    response = api.client.open(
        f"/api/v1/customers/{customer_id}",
        method="PATCH",
        json={"phone": "13900001111", "source": "customer"},
        headers={
            **api.headers("front_office"),
            "If-Match": _etag(api, customer_id),
            "X-Reason": reason,
        },
    )
    assert response.status_code == 422, response.get_json()
    assert "X-Reason" in response.get_json()["errors"]
    assert api.events() == before


def test_a_reason_is_never_logged(api: Api, caplog: pytest.LogCaptureFixture) -> None:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    root = logging.getLogger()
    root.addHandler(handler)
    caplog.set_level(logging.DEBUG)
    secret = "Quillfeather asked by phone"
    try:
        customer_id = api.register()
        api.patch(
            f"/customers/{customer_id}",
            "front_office",
            {"phone": "13900001111", "source": "customer"},
            If_Match=_etag(api, customer_id),
            X_Reason=secret,
        )
        api.patch(
            f"/customers/{customer_id}",
            "front_office",
            {"phone": "13900001111", "source": "customer"},
            If_Match='"1"',
            X_Reason=secret,
        )
    finally:
        root.removeHandler(handler)
    written = stream.getvalue() + caplog.text
    written += "".join(str(record.__dict__) for record in caplog.records)
    assert "Quillfeather" not in written
