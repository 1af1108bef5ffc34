"""Exports over HTTP: compliance officers request; only the addressed regulator downloads."""

from __future__ import annotations

import io
import tarfile
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from tests.web.conftest import Api
from web.cli import main

pytestmark = pytest.mark.e2e


def wait_done(api: Api, export_id: str) -> dict[str, Any]:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        job = api.get(f"/exports/{export_id}", "compliance_officer").get_json()
        if job["status"] != "running":
            return job  # type: ignore[no-any-return]
        time.sleep(0.1)
    raise AssertionError("the export did not finish")


def test_an_officer_exports_a_customer_and_the_addressed_regulator_downloads_it(
    api: Api, tmp_path: Path
) -> None:
    customer = api.register()
    api.register({**_other()})
    response = api.post(
        "/exports",
        "compliance_officer",
        {"customers": [str(customer)], "addressed_to": "csrc-inspector-1", "reason": "case 17"},
    )
    assert response.status_code == 202, response.get_json()
    export_id = response.get_json()["id"]
    job = wait_done(api, export_id)
    assert job["status"] == "done", job
    assert job["events"] >= 2

    regulator = api.headers("regulator")
    regulator["Authorization"] = f"Bearer {api.token('regulator', 'csrc-inspector-1')}"
    other = {"Authorization": f"Bearer {api.token('regulator', 'someone-else')}"}
    listing = api.client.get("/api/v1/exports", headers=regulator).get_json()
    assert [j["id"] for j in listing] == [export_id]
    assert api.client.get("/api/v1/exports", headers=other).get_json() == []
    assert api.client.get(f"/api/v1/exports/{export_id}/bundle", headers=other).status_code == 404
    assert api.get(f"/exports/{export_id}/bundle", "front_office").status_code == 403

    download = api.client.get(f"/api/v1/exports/{export_id}/bundle", headers=regulator)
    assert download.status_code == 200
    assert download.mimetype == "application/gzip"
    bundle = tmp_path / "bundle.tar.gz"
    bundle.write_bytes(download.get_data())
    with tarfile.open(fileobj=io.BytesIO(download.get_data())) as tar:
        names = tar.getnames()
    assert any(name.endswith("manifest.json") for name in names)
    result = CliRunner().invoke(main, ["verify-bundle", str(bundle)])
    assert result.exit_code == 0, result.output

    log = api.get(f"/access-log?subject={customer}", "compliance_officer").get_json()
    assert any(entry["purpose"] == "regulatory_request" for entry in _entries(log))


def test_a_bad_scope_is_a_422_problem_and_starts_nothing(api: Api) -> None:
    both = api.post(
        "/exports", "compliance_officer", {"all": True, "since": "2026-01-01T00:00:00Z"}
    )
    assert both.status_code == 422
    assert both.headers["Content-Type"] == "application/problem+json"
    none = api.post("/exports", "compliance_officer", {})
    assert none.status_code == 422
    assert api.get("/exports", "compliance_officer").get_json() == []


def test_an_export_of_an_unknown_customer_fails_with_a_reason(api: Api) -> None:
    response = api.post(
        "/exports",
        "compliance_officer",
        {"customers": ["00000000-0000-4000-8000-000000000000"], "addressed_to": "csrc-1"},
    )
    job = wait_done(api, response.get_json()["id"])
    assert job["status"] == "failed"
    assert "no events" in job["error"]
    bundle = api.get(f"/exports/{job['id']}/bundle", "compliance_officer")
    assert bundle.status_code == 409


def _other() -> dict[str, Any]:
    from tests.web.conftest import WANG

    return {
        **WANG,
        "name": "Lin Yu",
        "phone": "13800005555",
        "email": "lin.yu@example.cn",
        "id_document": {**WANG["id_document"], "number": "110101199001011238"},
    }


def _entries(log: Any) -> list[dict[str, Any]]:
    return log["entries"] if isinstance(log, dict) else log


def test_bundles_are_owner_only_and_expire(api: Api, monkeypatch: pytest.MonkeyPatch) -> None:
    customer = api.register()
    response = api.post(
        "/exports",
        "compliance_officer",
        {"customers": [str(customer)], "addressed_to": "csrc-inspector-1"},
    )
    job = wait_done(api, response.get_json()["id"])
    assert job["status"] == "done"
    from web.api.exports import ExportJobs

    path = ExportJobs(api.ledger).bundle_path(job["id"])
    assert path.stat().st_mode & 0o777 == 0o600
    monkeypatch.setattr(api.ledger, "config", replace(api.ledger.config, export_keep_days=0))
    gone = api.get(f"/exports/{job['id']}/bundle", "compliance_officer")
    assert gone.status_code == 410
    assert gone.get_json()["code"] == "bundle_expired"
    assert not path.exists()


def test_an_export_window_reads_dates_as_the_cli_does(api: Api) -> None:
    # a plain date is that day at 00:00 UTC, as `ledger export --since` reads it
    response = api.post(
        "/exports", "compliance_officer", {"since": "2026-01-01", "until": "2026-01-02T00:00"}
    )
    assert response.status_code == 202, response.get_json()
    job = wait_done(api, response.get_json()["id"])
    assert job["status"] == "pending_approval"  # addressed to no regulator: four eyes
    assert job["scope"]["since"].startswith("2026-01-01T00:00:00")
    bad = api.post("/exports", "compliance_officer", {"since": "yesterday"})
    assert bad.status_code == 422
    assert "since" in bad.get_json()["errors"]
