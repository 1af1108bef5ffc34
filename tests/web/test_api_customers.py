"""Customers over HTTP: registration, masking and purpose, If-Match, history, erasure."""

from __future__ import annotations

from typing import Any

import pytest

from tests.web.conftest import BRIGHT, WANG, Api

pytestmark = pytest.mark.e2e


def test_registering_an_individual_answers_201_with_id_version_and_etag(api: Api) -> None:
    response = api.post("/customers", "front_office", WANG)
    assert response.status_code == 201
    body = response.get_json()
    assert set(body) == {"id", "version"}
    assert response.headers["ETag"] == f'"{body["version"]}"'
    assert response.headers["Location"].endswith(body["id"])
    kyc = api.ledger.app.get_kyc(body["id"])
    assert (kyc.doc_type, kyc.doc_number) == ("resident_id", "110101195802031234")


@pytest.mark.parametrize(
    "doc_type",
    ["resident_id", "passport", "hk_macau_permit", "taiwan_permit", "foreign_permanent_resident"],
)
def test_every_front_office_document_type_is_accepted(api: Api, doc_type: str) -> None:
    body = {**WANG, "id_document": {**WANG["id_document"], "type": doc_type}}
    assert api.post("/customers", "front_office", body).status_code == 201


@pytest.mark.parametrize("gender", ["female", "male", "other", "undisclosed"])
def test_every_gender_is_accepted(api: Api, gender: str) -> None:
    assert api.post("/customers", "front_office", {**WANG, "gender": gender}).status_code == 201


def test_a_corporate_customer_uses_registry_names(api: Api) -> None:
    customer_id = api.register(BRIGHT)
    body = api.get(
        f"/customers/{customer_id}", "compliance_officer", X_Purpose="kyc_review"
    ).get_json()
    assert body["kind"] == "corporate"
    assert body["registered_name"] == BRIGHT["registered_name"]
    assert body["unified_social_credit_code"] == "91310000MA1FL3LQ2X"
    assert (body["size"], body["industry"], body["stage"]) == ("medium", "logistics", "growth")
    assert "date_of_birth" not in body and "name" not in body


def test_a_validation_problem_lists_every_bad_field_and_records_nothing(api: Api) -> None:
    before = api.events()
    body = {
        **WANG,
        "gender": "unknown",
        "phone": "call me",
        "email": "nope",
        "id_document": {"type": "library_card", "number": "!", "expires_on": "soon"},
    }
    del body["branch"]
    response = api.post("/customers", "front_office", body)
    assert response.status_code == 422
    assert response.mimetype == "application/problem+json"
    problem = response.get_json()
    assert problem["type"].endswith("/validation_failed")
    fields = problem["errors"]
    assert {"gender", "phone", "email", "branch"} <= set(fields)
    assert {"id_document.type", "id_document.number", "id_document.expires_on"} <= set(fields)
    assert "call me" not in response.get_data(as_text=True)
    assert api.events() == before


def test_fields_of_the_other_kind_are_refused(api: Api) -> None:
    response = api.post("/customers", "front_office", {**WANG, "registered_name": "X Ltd"})
    assert response.status_code == 422
    assert "registered_name" in response.get_json()["errors"]


def test_an_expired_identity_document_is_refused_before_anything_is_recorded(api: Api) -> None:
    before = api.events()
    body = {**WANG, "id_document": {**WANG["id_document"], "expires_on": "2020-01-01"}}
    response = api.post("/customers", "front_office", body)
    assert response.status_code == 422
    assert "id_document.expires_on" in response.get_json()["errors"]
    assert api.events() == before


def test_a_read_without_purpose_is_masked(api: Api) -> None:
    customer_id = api.register()
    response = api.get(f"/customers/{customer_id}", "compliance_officer")
    body = response.get_json()
    assert response.status_code == 200
    assert body["disclosure"] == "masked"
    assert body["name"] == "王**"
    assert body["phone"] == "*******5678"
    assert body["date_of_birth"] == "1958-**-**"
    assert body["email"] == "w***@example.cn"
    assert response.headers["ETag"] == f'"{body["version"]}"'
    assert api.ledger.access_log.entries(subject_id=str(customer_id)) == []


@pytest.mark.parametrize("role", ["compliance_officer", "relationship_manager"])
def test_a_read_with_purpose_by_an_allowed_role_is_full_and_access_logged(
    api: Api, role: str
) -> None:
    customer_id = api.register()
    response = api.get(f"/customers/{customer_id}", role, X_Purpose="customer_service")
    body = response.get_json()
    assert body["disclosure"] == "full"
    assert (body["name"], body["phone"]) == ("王小明", "13812345678")
    assert body["date_of_birth"] == "1958-02-03"
    (entry,) = api.ledger.access_log.entries(subject_id=str(customer_id))
    assert (entry.actor_id, entry.role, entry.purpose, entry.what) == (
        f"{role}-1",
        role,
        "customer_service",
        "customer.profile",
    )


def test_front_office_stays_masked_even_with_a_purpose(api: Api) -> None:
    customer_id = api.register()
    body = api.get(
        f"/customers/{customer_id}", "front_office", X_Purpose="customer_service"
    ).get_json()
    assert body["disclosure"] == "masked"
    assert body["phone"] == "*******5678"
    assert api.ledger.access_log.entries(subject_id=str(customer_id)) == []


def test_an_unknown_purpose_is_a_validation_problem_naming_the_header(api: Api) -> None:
    customer_id = api.register()
    response = api.get(f"/customers/{customer_id}", "compliance_officer", X_Purpose="curiosity")
    assert response.status_code == 422
    assert response.get_json()["type"].endswith("/validation_failed")
    (message,) = response.get_json()["errors"]["X-Purpose"]
    assert message.startswith("must be one of: customer_service, kyc_review,")
    assert api.ledger.access_log.entries(subject_id=str(customer_id)) == []


def test_an_unknown_customer_is_a_404_problem(api: Api) -> None:
    response = api.get("/customers/6f1c1d2e-7a53-4c1e-9b55-2d0b6f9e5a10", "front_office")
    assert response.status_code == 404
    assert response.mimetype == "application/problem+json"


def _etag(api: Api, customer_id: Any) -> str:
    return str(api.get(f"/customers/{customer_id}", "front_office").headers["ETag"])


def test_patch_with_the_current_etag_changes_the_profile(api: Api) -> None:
    customer_id = api.register()
    etag = _etag(api, customer_id)
    response = api.patch(
        f"/customers/{customer_id}",
        "relationship_manager",
        {"phone": "13900001111", "email": "new@example.cn", "source": "customer"},
        If_Match=etag,
    )
    assert response.status_code == 200
    version = response.get_json()["version"]
    assert version == int(etag.strip('"')) + 2
    assert response.headers["ETag"] == f'"{version}"'
    view = api.ledger.app.get_customer(customer_id)
    assert (view.phone, view.email) == ("13900001111", "new@example.cn")


def test_patch_with_a_stale_etag_is_412_and_records_nothing(api: Api) -> None:
    customer_id = api.register()
    etag = _etag(api, customer_id)
    api.patch(
        f"/customers/{customer_id}",
        "front_office",
        {"phone": "13900001111", "source": "customer"},
        If_Match=etag,
    )
    before = api.events()
    response = api.patch(
        f"/customers/{customer_id}",
        "front_office",
        {"phone": "13900002222", "source": "customer"},
        If_Match=etag,
    )
    assert response.status_code == 412
    assert response.get_json()["type"].endswith("/version_conflict")
    assert api.events() == before


def test_patch_without_if_match_is_428_and_records_nothing(api: Api) -> None:
    customer_id = api.register()
    before = api.events()
    response = api.patch(
        f"/customers/{customer_id}", "front_office", {"phone": "13900001111", "source": "customer"}
    )
    assert response.status_code == 428
    assert response.get_json()["type"].endswith("/precondition_required")
    assert api.events() == before


def test_patch_with_a_malformed_if_match_is_400(api: Api) -> None:
    customer_id = api.register()
    response = api.patch(
        f"/customers/{customer_id}",
        "front_office",
        {"phone": "13900001111", "source": "customer"},
        If_Match="version five",
    )
    assert response.status_code == 400


def test_history_as_of_a_moment_shows_the_customer_then(api: Api) -> None:
    customer_id = api.register()
    registered = api.clock.now
    api.clock.advance(days=2)
    api.patch(
        f"/customers/{customer_id}",
        "front_office",
        {"phone": "13900001111", "source": "customer"},
        If_Match=_etag(api, customer_id),
    )
    path = f"/customers/{customer_id}/history?as_of={registered.isoformat().replace('+', '%2B')}"
    then = api.get(path, "compliance_officer", X_Purpose="compliance_audit").get_json()
    assert then["phone"] == "13812345678"
    assert then["disclosure"] == "full"
    masked = api.get(path, "compliance_officer").get_json()
    assert masked["phone"] == "*******5678"
    entries = api.ledger.access_log.entries(subject_id=str(customer_id))
    assert [e.what for e in entries] == ["customer.history"]


def test_history_needs_a_moment(api: Api) -> None:
    customer_id = api.register()
    response = api.get(f"/customers/{customer_id}/history", "compliance_officer")
    assert response.status_code == 422
    assert "as_of" in response.get_json()["errors"]


def test_changes_mask_personal_values_unless_disclosed(api: Api) -> None:
    customer_id = api.register()
    etag = _etag(api, customer_id)
    api.patch(
        f"/customers/{customer_id}",
        "front_office",
        {"phone": "13900001111", "source": "customer"},
        If_Match=etag,
    )
    version = int(etag.strip('"'))
    path = f"/customers/{customer_id}/changes?from={version}"
    masked = api.get(path, "compliance_officer").get_json()
    (change,) = masked["changes"]
    assert (change["field"], change["old"], change["new"]) == (
        "phone",
        "*******5678",
        "*******1111",
    )
    assert (change["actor_id"], change["role"], change["source"]) == (
        "front_office-1",
        "front_office",
        "customer",
    )
    full = api.get(path, "compliance_officer", X_Purpose="compliance_audit").get_json()
    assert (full["changes"][0]["old"], full["changes"][0]["new"]) == ("13812345678", "13900001111")
    (entry,) = api.ledger.access_log.entries(subject_id=str(customer_id))
    assert entry.what == "customer.changes"


def test_changes_out_of_range_are_a_422(api: Api) -> None:
    customer_id = api.register()
    response = api.get(f"/customers/{customer_id}/changes?from=0&to=99", "compliance_officer")
    assert response.status_code == 422


def test_the_timeline_lists_events_without_data(api: Api) -> None:
    customer_id = api.register()
    body = api.get(f"/customers/{customer_id}/timeline", "compliance_officer").get_json()
    assert body["events"][0]["event"] == "CustomerRegistered"
    assert "王小明" not in str(body)


def test_an_erased_customer_reads_as_410_subject_erased(api: Api) -> None:
    customer_id = api.register()
    path = f"/customers/{customer_id}"
    assert api.post(f"{path}/relationship-end", "relationship_manager", {}).status_code == 200
    response = api.post(f"{path}/erasure-request", "front_office")
    assert (response.status_code, response.get_json()["decision"]) == (201, "restrict")
    refused = api.post(f"{path}/erasure", "compliance_officer")
    assert refused.status_code == 409
    assert refused.get_json()["type"].endswith("/retention_running")
    api.clock.advance(days=366 * 10 + 3)
    assert api.get(f"{path}/erasure", "compliance_officer").get_json()["decision"] == "erase"
    assert api.post(f"{path}/erasure", "compliance_officer").status_code == 200
    for read in (path, f"{path}/kyc", f"{path}/changes"):
        response = api.get(read, "compliance_officer", X_Purpose="data_subject_request")
        assert response.status_code == 410, read
        assert response.get_json()["type"].endswith("/subject_erased")


def test_if_match_star_skips_the_check_and_a_weak_etag_never_matches(api: Api) -> None:
    customer_id = api.register()
    path = f"/customers/{customer_id}"
    weak = api.patch(
        path, "front_office", {"phone": "13900001111", "source": "customer"}, If_Match='W/"2"'
    )
    assert weak.status_code == 412
    star = api.patch(
        path, "front_office", {"phone": "13900001111", "source": "customer"}, If_Match="*"
    )
    assert star.status_code == 200
    assert api.ledger.app.get_customer(customer_id).phone == "13900001111"


def test_a_patch_refuses_fields_of_the_other_kind_and_null_for_a_name(api: Api) -> None:
    customer_id = api.register()
    etag = _etag(api, customer_id)
    before = api.events()
    other = api.patch(
        f"/customers/{customer_id}",
        "front_office",
        {"registered_name": "X Ltd", "source": "customer"},
        If_Match=etag,
    )
    assert other.status_code == 422
    nameless = api.patch(
        f"/customers/{customer_id}",
        "front_office",
        {"name": None, "source": "customer"},
        If_Match=etag,
    )
    assert nameless.status_code == 422
    empty = api.patch(
        f"/customers/{customer_id}", "front_office", {"source": "customer"}, If_Match=etag
    )
    assert empty.status_code == 422
    assert api.events() == before
