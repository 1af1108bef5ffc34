"""Search is not an oracle (issue 13): who may search or filter by personal data, with
what purpose, how often, and what the access log keeps of it; both stores."""

from __future__ import annotations

import dataclasses
import io
import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from projections.runtime import ReadModels, ViewLagging, close_read_models, read_models
from security.bootstrap import Settings
from tests.domain.factories import Clock
from tests.web.conftest import WANG, Api, make_api
from web.logs import JsonFormatter

pytestmark = pytest.mark.e2e

PHONE = "13812345678"
ACCOUNT = "6222021234567890123"
CUSTOMER = {**WANG, "name": "Mary Ann Quenby", "account_number": ACCOUNT}
IDENTIFIERS = {
    "name": "  mary ann  QUENBY ",
    "phone": "138-1234-5678",
    "email": WANG["email"].upper(),
    "id_number": WANG["id_document"]["number"],  # type: ignore[index]
    "account_number": ACCOUNT,
}
PLAINTEXTS = ("Quenby", "QUENBY", "quenby", PHONE, "138-1234-5678", "1234-5678", ACCOUNT)


@pytest.fixture
def api(ledger_config: Settings, clock: Clock) -> Iterator[Api]:
    made = make_api(ledger_config, clock)
    built = next(made)
    yield built
    close_read_models(built.ledger)
    made.close()


def customers(api: Api, query: str, role: str, **headers: str) -> Any:
    return api.get(f"/views/customers?min_position={api.events()}&{query}", role, **headers)


def search_entries(api: Api) -> list[Any]:
    return [e for e in api.ledger.access_log.entries(limit=1000) if e.subject_id == "search"]


def test_the_front_office_cannot_search_by_an_identifier_nor_filter_by_a_c2_field(
    api: Api,
) -> None:
    api.register(CUSTOMER)
    for param, value in (*IDENTIFIERS.items(), ("segment", "individual/60_plus/high/balanced")):
        refused = customers(api, f"{param}={value}", "front_office", X_Purpose="customer_service")
        assert refused.status_code == 403, param
        assert refused.mimetype == "application/problem+json"
        assert refused.get_json()["code"] == "personal_filter_forbidden"
        assert param in refused.get_json()["detail"]
    # the sweep of issue 13: no answer differs, whatever the guess
    guesses = {customers(api, f"phone=1381234567{d}", "front_office").status_code for d in "78"}
    assert guesses == {403}
    assert search_entries(api) == []
    # C1 filters stay open to the front office
    assert customers(api, "branch=BJ-01", "front_office").get_json()["total"] == 1


def test_an_identifier_search_needs_a_purpose(api: Api) -> None:
    api.register(CUSTOMER)
    for param, value in IDENTIFIERS.items():
        refused = customers(api, f"{param}={value}", "compliance_officer")
        assert refused.status_code == 400, param
        assert refused.get_json()["code"] == "purpose_required"
        assert "X-Purpose" in refused.get_json()["detail"]
    assert search_entries(api) == []
    unknown = customers(api, f"phone={PHONE}", "compliance_officer", X_Purpose="curiosity")
    assert unknown.status_code == 422


def test_a_search_with_a_purpose_finds_and_is_logged_with_keyed_digests_only(
    api: Api, caplog: pytest.LogCaptureFixture
) -> None:
    customer_id = str(api.register(CUSTOMER))
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    logging.getLogger().addHandler(handler)
    caplog.set_level(logging.DEBUG)
    try:
        for param, value in IDENTIFIERS.items():
            found = customers(api, f"{param}={value}", "compliance_officer", X_Purpose="kyc_review")
            assert found.status_code == 200, (param, found.get_json())
            assert [c["customer_id"] for c in found.get_json()["items"]] == [customer_id], param
        missed = customers(api, "phone=13900000000", "relationship_manager", X_Purpose="kyc_review")
        assert missed.get_json()["total"] == 0
    finally:
        logging.getLogger().removeHandler(handler)

    entries = search_entries(api)
    assert len(entries) == len(IDENTIFIERS) + 1
    newest = entries[0]
    assert (newest.actor_id, newest.role, newest.purpose) == (
        "relationship_manager-1",
        "relationship_manager",
        "kyc_review",
    )
    by_field = {e.what.split("=")[0].removeprefix("search:"): e.what for e in entries[1:]}
    assert set(by_field) == set(IDENTIFIERS)
    # the keyed audit digest of the normalised value, under a key of its own
    blind = read_models(api.ledger).customers.index
    assert by_field["phone"] == f"search:phone={blind.audit_digest('phone', PHONE)}"
    assert by_field["name"] == f"search:name={blind.audit_digest('name', 'Mary Ann Quenby')}"
    assert blind.audit_digest("phone", PHONE) != blind.digest("phone", PHONE)
    rows = repr(api.ledger.access_log.entries(limit=1000))
    logged = stream.getvalue() + caplog.text + "".join(str(r.__dict__) for r in caplog.records)
    for plaintext in PLAINTEXTS:
        assert plaintext not in rows, plaintext
        assert plaintext not in logged, plaintext


def test_the_31st_identifier_search_in_a_minute_is_429_with_retry_after(api: Api) -> None:
    api.register(CUSTOMER)
    for n in range(30):
        ok = customers(api, f"phone=1380000{n:04d}", "relationship_manager", X_Purpose="kyc_review")
        assert ok.status_code == 200, n
    refused = customers(api, f"phone={PHONE}", "relationship_manager", X_Purpose="kyc_review")
    assert refused.status_code == 429
    assert refused.mimetype == "application/problem+json"
    assert refused.get_json()["code"] == "search_limit_reached"
    assert 1 <= int(refused.headers["Retry-After"]) <= 60
    assert len(search_entries(api)) == 30  # the refused search found nothing, recorded nothing
    # filters that find no person are not searches; another actor has its own budget
    assert customers(api, "branch=BJ-01", "relationship_manager").status_code == 200
    other = api.get(
        f"/views/customers?phone={PHONE}",
        None,
        Authorization=f"Bearer {api.token('relationship_manager', 'rm-other')}",
        X_Purpose="kyc_review",
    )
    assert other.status_code == 200


def test_the_limit_holds_across_processes_sharing_the_store(
    ledger_config: Settings, clock: Clock, tmp_path: Path
) -> None:
    """Two apps on two ledgers over one store (as two gunicorn workers): one budget."""
    config = dataclasses.replace(ledger_config, search_limit=3)
    first, second = make_api(config, clock), make_api(config, clock)
    one, two = next(first), next(second)
    try:
        assert config.search_limit == 3 and one.ledger.config.search_limit == 3
        statuses = [
            customers(
                worker, f"phone=1380000000{n}", "compliance_officer", X_Purpose="kyc_review"
            ).status_code
            for n, worker in enumerate((one, two, one, two))
        ]
        assert statuses == [200, 200, 200, 429]
    finally:
        for built, made in ((one, first), (two, second)):
            close_read_models(built.ledger)
            made.close()


def test_care_reasons_are_masked_for_the_front_office_and_not_filterable(api: Api) -> None:
    customer_id = api.register(CUSTOMER)
    path = f"/customers/{customer_id}"
    flagged = api.post(
        f"{path}/special-care", "front_office", {"reasons": ["disabled"], "measures": []}
    )
    assert flagged.status_code == 200
    assert api.get(path, "front_office").get_json()["special_care"] == ["***"]
    full = api.get(path, "relationship_manager", X_Purpose="relationship_care").get_json()
    assert full["special_care"] == ["disabled"]
    head = api.events()
    care = api.get(f"/views/special-care?min_position={head}", "front_office").get_json()
    assert [c["reasons"] for c in care["items"]] == [["***"]]
    seen = api.get(f"/views/customers/{customer_id}", "front_office").get_json()
    assert seen["care"]["reasons"] == ["***"]
    assert "disabled" not in repr(care) + repr(seen)
    refused = api.get("/views/special-care?reason=disabled", "front_office")
    assert refused.status_code == 403
    assert refused.get_json()["code"] == "personal_filter_forbidden"
    as_rm = api.get("/views/special-care?reason=disabled", "relationship_manager").get_json()
    assert [c["reasons"] for c in as_rm["items"]] == [["disabled"]]
    # the event's reasons are health data too: history, changes and timeline (not the
    # front office's) mask them unless disclosed for a purpose
    now = api.clock.now.isoformat().replace("+", "%2B")
    views = (f"{path}/history?as_of={now}", f"{path}/changes?from=0", f"{path}/timeline")
    for view in views:
        assert api.get(view, "front_office").status_code == 403, view
        masked = api.get(view, "relationship_manager")
        assert masked.status_code == 200, view
        assert "disabled" not in masked.get_data(as_text=True), view
    assert api.get(views[0], "relationship_manager").get_json()["special_care"] == ["***"]
    changed = api.get(views[1], "relationship_manager").get_json()["changes"]
    care_changes = [c["new"] for c in changed if c["field"] == "special_care"]
    assert care_changes and all(new == ["***"] for new in care_changes)
    shown = api.get(views[0], "relationship_manager", X_Purpose="relationship_care")
    assert shown.get_json()["special_care"] == ["disabled"]


def test_unknown_query_parameters_are_a_400_naming_them(api: Api) -> None:
    misspelt = api.get("/views/customers?brnach=BJ-01&limit=5", "front_office")
    assert misspelt.status_code == 400
    assert misspelt.mimetype == "application/problem+json"
    body = misspelt.get_json()
    assert body["code"] == "unknown_parameter"
    assert "brnach" in body["detail"] and set(body["errors"]) == {"brnach"}
    for path, role in (
        ("/views/complaints?x=1&y=2", "front_office"),
        ("/access-log?who=me", "security_officer"),
        ("/exports?page=2", "compliance_officer"),
        ("/integrity/checkpoint?fresh=1", "regulator"),
        (f"/customers/{api.register()}?phone={PHONE}", "front_office"),
    ):
        answer = api.get(path, role)
        assert answer.status_code == 400, path
        assert answer.get_json()["code"] == "unknown_parameter"
    # the role check comes first: a caller without the role learns nothing of them
    assert api.get("/views/kpis?nope=1", "front_office").status_code == 403
    assert api.get("/views/customers?nope=1", None).status_code == 401


def test_a_min_position_wait_is_capped_by_the_settings(
    api: Api, ledger_config: Settings, clock: Clock, monkeypatch: pytest.MonkeyPatch
) -> None:
    asked: list[float] = []

    def wait_for(self: ReadModels, names: Any, position: int, timeout: float) -> int:
        asked.append(timeout)
        raise ViewLagging("behind")

    monkeypatch.setattr(ReadModels, "wait_for", wait_for)
    far = str(api.events() + 10**9)
    lagging = api.get("/views/complaints", "front_office", X_Min_Position=far)
    assert lagging.status_code == 503 and lagging.headers["Retry-After"] == "1"
    assert asked == [2.0]  # the default cap, whatever position the client names
    made = make_api(dataclasses.replace(ledger_config, views_max_wait=0.5), clock)
    other = next(made)
    try:
        assert other.get(f"/views/complaints?min_position={far}", "front_office").status_code == 503
        assert asked == [2.0, 0.5]
    finally:
        close_read_models(other.ledger)
        made.close()
