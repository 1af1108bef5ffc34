"""Four eyes on bulk disclosure, and every bundle download in the access log."""

from __future__ import annotations

from typing import Any

import pytest

from tests.web.conftest import Api
from tests.web.test_api_exports import wait_done

pytestmark = pytest.mark.e2e

REGULATOR = "csrc-inspector-1"


def as_officer(api: Api, subject: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {api.token('compliance_officer', subject)}"}


def approve(api: Api, export_id: str, subject: str) -> Any:
    return api.client.post(
        f"/api/v1/exports/{export_id}/approval", headers=as_officer(api, subject)
    )


def test_one_officer_alone_cannot_export_the_whole_ledger(api: Api) -> None:
    api.register()
    requested = api.client.post(
        "/api/v1/exports",
        json={"all": True, "addressed_to": REGULATOR, "reason": "annual inspection"},
        headers=as_officer(api, "co-1"),
    )
    assert requested.status_code == 202, requested.get_json()
    job = requested.get_json()
    assert job["status"] == "pending_approval" and job["approved_by"] is None
    export_id = job["id"]
    # nothing runs, nothing is downloadable, until a second officer approves
    assert api.get(f"/exports/{export_id}/bundle", "compliance_officer").status_code == 409
    assert api.get(f"/exports/{export_id}", "compliance_officer").get_json()["status"] == (
        "pending_approval"
    )
    own = approve(api, export_id, "co-1")
    assert own.status_code == 403
    assert own.get_json()["code"] == "same_approver"
    assert api.get(f"/exports/{export_id}", "compliance_officer").get_json()["status"] == (
        "pending_approval"
    )
    not_an_officer = api.post(f"/exports/{export_id}/approval", "regulator")
    assert not_an_officer.status_code == 403

    second = approve(api, export_id, "co-2")
    assert second.status_code == 202, second.get_json()
    done = wait_done(api, export_id)
    assert done["status"] == "done", done
    assert (done["requested_by"], done["approved_by"]) == ("co-1", "co-2")
    again = approve(api, export_id, "co-3")
    assert again.status_code == 409
    assert again.get_json()["code"] == "export_not_pending"


def test_an_export_to_no_named_regulator_waits_for_a_second_officer(api: Api) -> None:
    customer = api.register()
    requested = api.client.post(
        "/api/v1/exports",
        json={"customers": [str(customer)], "reason": "internal review"},
        headers=as_officer(api, "co-1"),
    )
    assert requested.get_json()["status"] == "pending_approval"
    named = api.client.post(
        "/api/v1/exports",
        json={"customers": [str(customer)], "addressed_to": REGULATOR},
        headers=as_officer(api, "co-1"),
    )
    assert named.get_json()["status"] == "running"  # one customer, to a named regulator
    assert wait_done(api, named.get_json()["id"])["status"] == "done"
    assert approve(api, requested.get_json()["id"], "co-2").status_code == 202
    assert wait_done(api, requested.get_json()["id"])["status"] == "done"


def test_approving_an_unknown_export_is_404(api: Api) -> None:
    missing = approve(api, "00000000-0000-4000-8000-000000000000", "co-2")
    assert missing.status_code == 404


def test_every_download_of_a_bundle_is_in_the_access_log(api: Api) -> None:
    customer = api.register()
    requested = api.post(
        "/exports",
        "compliance_officer",
        {"customers": [str(customer)], "addressed_to": REGULATOR},
    )
    export_id = requested.get_json()["id"]
    assert wait_done(api, export_id)["status"] == "done"
    regulator = {"Authorization": f"Bearer {api.token('regulator', REGULATOR)}"}
    before = api.get(f"/access-log?subject={export_id}", "compliance_officer")
    assert before.status_code == 200 and before.get_json()["entries"] == []

    for headers in (regulator, {**regulator, "X-Purpose": "regulatory_request"}):
        download = api.client.get(f"/api/v1/exports/{export_id}/bundle", headers=headers)
        assert download.status_code == 200
    officer = api.get(f"/exports/{export_id}/bundle", "compliance_officer")
    assert officer.status_code == 200

    log = api.get(f"/access-log?subject={export_id}", "compliance_officer").get_json()
    seen = [(e["actor_id"], e["role"], e["purpose"], e["what"]) for e in log["entries"]]
    what = f"export.bundle:{export_id}"
    assert seen == [
        ("compliance_officer-1", "compliance_officer", "none", what),
        (REGULATOR, "regulator", "regulatory_request", what),
        (REGULATOR, "regulator", "none", what),
    ]
    by_customer = api.get(f"/access-log?subject={customer}", "compliance_officer").get_json()
    assert sum(e["what"] == what for e in by_customer["entries"]) == 3
