"""Erasure over HTTP: it reaches everything, cannot be forced early, can be withdrawn,
and erases a bare prospect at once (issue 13)."""

from __future__ import annotations

import time
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from domain.calendars import table_calendar
from projections.field_encryption import BlindIndex
from projections.runtime import read_models
from security.bootstrap import Ledger
from security.dialect import Dialect
from security.erasure_reach import BUNDLE_DELETED
from tests.web.conftest import WANG, Api

pytestmark = pytest.mark.e2e

OTHER = {
    **WANG,
    "name": "李四",
    "phone": "13900002222",
    "email": "li.si@example.cn",
    "id_document": {**WANG["id_document"], "number": "110101198001015678"},
}
SECRETS = (WANG["name"], WANG["phone"], WANG["email"], WANG["id_document"]["number"])


def wait_done(api: Api, export_id: str) -> dict[str, Any]:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        job = api.get(f"/exports/{export_id}", "compliance_officer").get_json()
        if job["status"] != "running":
            return job  # type: ignore[no-any-return]
        time.sleep(0.1)
    raise AssertionError("the export did not finish")


def export_of(api: Api, customer: str) -> str:
    response = api.post(
        "/exports",
        "compliance_officer",
        {"customers": [customer], "addressed_to": "csrc-1", "reason": "case 9"},
    )
    assert response.status_code == 202, response.get_json()
    job = wait_done(api, response.get_json()["id"])
    assert job["status"] == "done", job
    return str(job["id"])


def _rows(
    datastore: Any, dialect: Dialect, statement: str, params: tuple[Any, ...] = ()
) -> list[Any]:
    with datastore.transaction(commit=False) as cursor:
        dialect.execute(cursor, statement, params)
        return list(cursor.fetchall())


def every_table_as_text(ledger: Ledger) -> str:
    """Every row of every table of the ledger's store and of the views' store, as text
    (what an attacker with the databases would search)."""
    views = read_models(ledger).store
    parts = []
    for datastore, dialect in (
        (ledger.datastore, ledger.keystore.dialect),
        (views.datastore, views.dialect),
    ):
        parts.append(_tables_as_text(datastore, dialect))
    return "\n".join(parts)


def _tables_as_text(datastore: Any, dialect: Dialect) -> str:
    if dialect.name == "sqlite":
        query = "SELECT name FROM sqlite_master WHERE type='table'"
        names = [row["name"] for row in _rows(datastore, dialect, query)]
    else:
        query = "SELECT table_name FROM information_schema.tables WHERE table_schema=?"
        names = [row["table_name"] for row in _rows(datastore, dialect, query, (dialect.schema,))]
    parts = []
    for name in names:
        for row in _rows(datastore, dialect, f"SELECT * FROM {dialect.table(name)}"):
            for value in dict(row).values():
                if isinstance(value, bytes | memoryview):
                    parts.append(bytes(value).decode("latin-1"))
                else:
                    parts.append(str(value))
    return "\n".join(parts)


def data_dir_text(folder: Path) -> str:
    return "\n".join(
        path.read_bytes().decode("latin-1") for path in folder.rglob("*") if path.is_file()
    )


def test_erasure_deletes_the_bundles_that_disclosed_the_customer_and_leaves_nothing_readable(
    api: Api,
) -> None:
    response = api.post("/customers", "front_office", WANG, Idempotency_Key="reg-wang")
    assert response.status_code == 201
    gone = response.get_json()["id"]
    kept = str(api.register(OTHER))
    models = read_models(api.ledger)
    models.catch_up()
    index = BlindIndex(api.ledger.keyring.index_key())
    digests = [index.digest("phone", WANG["phone"]), index.digest("id_number", SECRETS[3])]
    assert all(d in every_table_as_text(api.ledger) for d in digests)  # the probe works
    bundle_gone, bundle_kept = export_of(api, gone), export_of(api, kept)

    assert api.post(f"/customers/{gone}/erasure-request", "front_office").status_code == 201
    ended = api.post(f"/customers/{gone}/relationship-end", "relationship_manager", {})
    assert ended.status_code == 200
    api.clock.set(datetime(2036, 3, 3, 9, tzinfo=UTC))
    # no calendar package covers 2036: a stand-in CN year (test data) so deadlines count
    app = api.ledger.app
    app.calendars = replace(app.calendars, cn=table_calendar("CN", {2036}, ()))
    erased = api.post(f"/customers/{gone}/erasure", "compliance_officer")
    assert erased.status_code == 200, erased.get_json()
    models.catch_up()

    # the bundle that disclosed the customer is gone, the other one is not
    download = api.get(f"/exports/{bundle_gone}/bundle", "compliance_officer")
    assert download.status_code == 410
    assert api.get(f"/exports/{bundle_gone}", "compliance_officer").get_json()["error"] == (
        BUNDLE_DELETED
    )
    assert api.get(f"/exports/{bundle_kept}/bundle", "compliance_officer").status_code == 200
    log = api.get(f"/access-log?subject={gone}", "compliance_officer").get_json()
    entries = log["entries"] if isinstance(log, dict) else log
    assert f"export_bundle_deleted:{bundle_gone}" in {entry["what"] for entry in entries}
    # the stored first answer of the registration (it named the customer) is gone
    replay = api.post("/customers", "front_office", WANG, Idempotency_Key="reg-wang")
    assert "Idempotent-Replayed" not in replay.headers
    assert replay.status_code >= 400
    # nothing readable of the customer in any table or file: no plaintext, no blind index
    stored = every_table_as_text(api.ledger)
    files = data_dir_text(Path(api.ledger.config.data_dir))
    for secret in (*SECRETS, *digests):
        assert secret not in stored, secret
        assert secret not in files, secret
    kept_view = api.get(f"/customers/{kept}", "compliance_officer", X_Purpose="compliance_audit")
    assert kept_view.get_json()["name"] == OTHER["name"]
    # the number is free again, as a new customer
    renewed = {**WANG, "id_document": {**WANG["id_document"], "expires_on": "2046-01-01"}}
    again = api.post("/customers", "front_office", renewed)
    assert again.status_code == 201 and again.get_json()["id"] != gone


def test_a_back_dated_relationship_end_cannot_erase_a_new_customer(api: Api) -> None:
    customer = api.register()
    assert api.post(f"/customers/{customer}/erasure-request", "front_office").status_code == 201
    back = api.post(
        f"/customers/{customer}/relationship-end", "compliance_officer", {"ended_on": "1990-01-01"}
    )
    assert back.status_code == 422
    assert "ended_on" in back.get_json()["errors"]
    future = api.post(
        f"/customers/{customer}/relationship-end", "compliance_officer", {"ended_on": "2030-01-01"}
    )
    assert future.status_code == 422
    erase = api.post(f"/customers/{customer}/erasure", "compliance_officer")
    assert erase.status_code == 409
    assert erase.get_json()["code"] == "retention_running"
    assert not api.ledger.keystore.is_shredded(customer)


def test_a_relationship_end_changes_only_with_a_reason_within_the_bounds(api: Api) -> None:
    customer = api.register()
    api.clock.advance(days=20)
    assert (
        api.post(f"/customers/{customer}/relationship-end", "relationship_manager", {}).status_code
        == 200
    )
    path = f"/customers/{customer}/relationship-end"
    no_reason = api.call("PUT", path, "compliance_officer", {"ended_on": "2026-03-10"})
    assert no_reason.status_code == 422 and "reason" in no_reason.get_json()["errors"]
    early = api.call(
        "PUT", path, "compliance_officer", {"ended_on": "1990-01-01", "reason": "letter"}
    )
    assert early.status_code == 422
    assert (
        api.call("PUT", path, "front_office", {"ended_on": "2026-03-10", "reason": "x"}).status_code
        == 403
    )
    changed = api.call(
        "PUT", path, "compliance_officer", {"ended_on": "2026-03-10", "reason": "closing letter"}
    )
    assert changed.status_code == 200, changed.get_json()
    assert changed.get_json()["retention_ends_on"] == "2036-03-10"
    history = api.ledger.app.events_of(customer)
    assert type(history[-1]).__name__ == "RelationshipEndChanged"
    assert history[-1].reason == "closing letter"


def test_compliance_withdraws_an_erasure_request_front_office_cannot(api: Api) -> None:
    customer = api.register()
    assert api.post(f"/customers/{customer}/erasure-request", "front_office").status_code == 201
    path = f"/customers/{customer}/erasure-request/withdrawal"
    assert api.post(path, "front_office", {"reason": "x"}).status_code == 403
    assert api.post(path, "compliance_officer", {}).status_code == 422
    done = api.post(path, "compliance_officer", {"reason": "filed in error, ticket 7"})
    assert done.status_code == 200, done.get_json()
    assert not api.ledger.app.get_customer(customer).processing_restricted
    assert api.post(path, "compliance_officer", {"reason": "again"}).status_code == 409


def test_a_prospect_is_erased_on_request_at_once(api: Api) -> None:
    body = {key: value for key, value in WANG.items() if key != "id_document"}
    prospect = api.register({**body, "status": "prospect"})
    answer = api.post(f"/customers/{prospect}/erasure-request", "front_office")
    assert answer.status_code == 201, answer.get_json()
    assert answer.get_json()["decision"] == "erased"
    assert api.ledger.keystore.is_shredded(prospect)
    assert api.get(f"/customers/{prospect}", "compliance_officer").status_code == 410


@pytest.mark.parametrize("body", [{"dry_run": True, "confirm": False}, {"__x": 1}, [], "erase", 0])
def test_a_body_sent_to_a_write_that_takes_none_is_refused_and_erases_nothing(
    api: Api, body: Any
) -> None:
    plain = {key: value for key, value in WANG.items() if key != "id_document"}
    prospect = api.register({**plain, "status": "prospect"})
    before = api.events()
    answer = api.post(f"/customers/{prospect}/erasure-request", "front_office", body)
    assert answer.status_code == 422, answer.get_json()
    assert answer.headers["Content-Type"] == "application/problem+json"
    assert answer.get_json()["errors"] == {"_body": ["this operation takes no request body"]}
    assert api.events() == before
    assert not api.ledger.keystore.is_shredded(prospect)
    classify = api.post(f"/customers/{prospect}/classification", "system", body)
    assert classify.status_code == 422
    assert api.events() == before
    # an empty object is no body
    answer = api.post(f"/customers/{prospect}/erasure-request", "front_office", {})
    assert answer.status_code == 201, answer.get_json()
