"""A customer read by the book check and by the endpoint is replayed once per request:
both see one state (one version), and the ETag is that version's."""

from __future__ import annotations

from typing import Any
from uuid import UUID

import pytest

from tests.web.conftest import BRIGHT, WANG, Api

pytestmark = pytest.mark.e2e


def count_reads(api: Api, monkeypatch: pytest.MonkeyPatch) -> list[UUID]:
    """Every `get_customer` of the ledger's application, from now on."""
    reads: list[UUID] = []
    real = api.ledger.app.get_customer

    def counted(customer_id: UUID) -> Any:
        reads.append(customer_id)
        return real(customer_id)

    monkeypatch.setattr(api.ledger.app, "get_customer", counted)
    return reads


def test_a_masked_read_by_the_front_office_replays_the_customer_once(
    api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    customer_id = api.register()
    reads = count_reads(api, monkeypatch)
    answer = api.get(f"/customers/{customer_id}", "front_office")
    assert answer.status_code == 200, answer.get_json()
    assert answer.get_json()["disclosure"] == "masked"
    assert answer.headers["ETag"] == f'"{answer.get_json()["version"]}"'
    assert reads == [customer_id]


def test_each_request_reads_afresh(api: Api, monkeypatch: pytest.MonkeyPatch) -> None:
    customer_id = api.register()
    first = api.get(f"/customers/{customer_id}", "relationship_manager").headers["ETag"]
    changed = api.patch(
        f"/customers/{customer_id}",
        "relationship_manager",
        {"occupation": "teacher", "source": "customer"},
        If_Match=first,
    )
    assert changed.status_code == 200, changed.get_json()
    reads = count_reads(api, monkeypatch)
    again = api.get(f"/customers/{customer_id}", "relationship_manager")
    assert again.headers["ETag"] == changed.headers["ETag"] != first
    assert reads == [customer_id]


def test_a_profile_change_checks_the_kind_on_the_book_checks_read(
    api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    customer_id = api.register(BRIGHT)
    etag = api.get(f"/customers/{customer_id}", "front_office").headers["ETag"]
    reads = count_reads(api, monkeypatch)
    refused = api.patch(
        f"/customers/{customer_id}",
        "front_office",
        {"occupation": "teacher", "source": "customer"},
        If_Match=etag,
    )
    assert refused.status_code == 422
    assert "occupation" in str(refused.get_json())
    assert reads == [customer_id]
    assert api.get(f"/customers/{customer_id}", "front_office").headers["ETag"] == etag


def test_a_customer_outside_the_book_is_refused_after_one_read(
    api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    customer_id = api.register({**WANG, "branch": "SH-09"}, role="system")
    reads = count_reads(api, monkeypatch)
    assert api.get(f"/customers/{customer_id}", "front_office").status_code == 403
    assert reads == [customer_id]
