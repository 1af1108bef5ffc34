"""An export whose worker stopped mid-run ends as `failed` (interrupted), never `running`
forever; a live export's heartbeat keeps it running; a thread that cannot record its
outcome does not raise."""

from __future__ import annotations

import logging
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from security.export.exporter import ExportActor, ExportScope
from tests.web.conftest import Api
from web.api import _export_jobs, exports
from web.api._export_jobs import INTERRUPTED, ExportJobs

pytestmark = pytest.mark.e2e

ACTOR = ExportActor("co-1", "compliance_officer", "api", "case 9")


def job_store(api: Api) -> ExportJobs:
    with api.app.app_context():
        return exports.jobs()


def started_without_a_thread(api: Api) -> str:
    """A job recorded as running whose worker died before it beat: what a killed worker
    leaves behind."""
    customer = api.register()
    return job_store(api).create(
        "co-1", "csrc-inspector-1", ExportScope(customers=(str(customer),))
    )


def test_a_job_whose_worker_died_is_failed_as_interrupted_once_stale(
    api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    job_id = started_without_a_thread(api)
    assert api.get(f"/exports/{job_id}", "compliance_officer").get_json()["status"] == "running"

    monkeypatch.setattr(_export_jobs, "STALE_SECONDS", 0.0)
    job = api.get(f"/exports/{job_id}", "compliance_officer").get_json()
    assert (job["status"], job["error"]) == ("failed", INTERRUPTED)
    assert job["finished_at"]
    listed = api.get("/exports", "compliance_officer").get_json()
    assert [(j["id"], j["status"]) for j in listed] == [(job_id, "failed")]
    download = api.get(f"/exports/{job_id}/bundle", "compliance_officer")
    assert download.status_code == 409
    assert download.headers["Content-Type"] == "application/problem+json"

    # settled in the store, not only in the answer: still failed once no longer stale
    monkeypatch.setattr(_export_jobs, "STALE_SECONDS", 3600.0)
    assert api.get(f"/exports/{job_id}", "compliance_officer").get_json()["status"] == "failed"


def test_a_fresh_heartbeat_keeps_a_job_running(api: Api, monkeypatch: pytest.MonkeyPatch) -> None:
    job_id = started_without_a_thread(api)
    store = job_store(api)
    monkeypatch.setattr(_export_jobs, "STALE_SECONDS", 0.5)
    time.sleep(0.7)  # its creation is stale now; a beat is not
    store.beat(job_id)
    assert store.get(job_id)["status"] == "running"  # type: ignore[index]
    time.sleep(0.7)  # no beat since
    assert store.get(job_id)["status"] == "failed"  # type: ignore[index]


def test_a_long_export_beats_and_finishes_done(api: Api, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_export_jobs, "STALE_SECONDS", 0.6)
    monkeypatch.setattr(_export_jobs, "HEARTBEAT_SECONDS", 0.1)
    real = exports.export_bundle
    release = threading.Event()

    def slow(*args: Any, **kwargs: Any) -> Any:
        release.wait(10)
        return real(*args, **kwargs)

    monkeypatch.setattr(exports, "export_bundle", slow)
    customer = api.register()
    answer = api.post(
        "/exports",
        "compliance_officer",
        {"customers": [str(customer)], "addressed_to": "csrc-inspector-1", "reason": "case 9"},
    )
    assert answer.status_code == 202, answer.get_json()
    job_id = answer.get_json()["id"]
    deadline = time.monotonic() + 1.5  # longer than STALE_SECONDS: only the beats keep it
    while time.monotonic() < deadline:
        status = api.get(f"/exports/{job_id}", "compliance_officer").get_json()["status"]
        assert status == "running"
        time.sleep(0.1)
    release.set()
    deadline = time.monotonic() + 60
    while status == "running" and time.monotonic() < deadline:
        time.sleep(0.1)
        status = api.get(f"/exports/{job_id}", "compliance_officer").get_json()["status"]
    assert status == "done"


def test_an_outcome_after_the_job_was_settled_leaves_it_failed_and_drops_the_bundle(
    api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    job_id = started_without_a_thread(api)
    store = job_store(api)
    monkeypatch.setattr(_export_jobs, "STALE_SECONDS", 0.0)
    assert store.get(job_id)["status"] == "failed"  # type: ignore[index]
    monkeypatch.setattr(_export_jobs, "STALE_SECONDS", 3600.0)
    customer = store.get(job_id)["scope"]["customers"][0]  # type: ignore[index]
    exports.run_export(store, job_id, ExportScope(customers=(customer,)), ACTOR)
    job = store.get(job_id)
    assert job is not None
    assert (job["status"], job["error"]) == ("failed", INTERRUPTED)
    assert not Path(store.bundle_path(job_id)).exists()


def test_a_thread_that_cannot_record_its_outcome_logs_and_does_not_raise(
    api: Api, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    job_id = started_without_a_thread(api)
    store = job_store(api)

    def closed(*_: Any, **__: Any) -> bool:
        raise RuntimeError("the connection pool is closed")

    monkeypatch.setattr(store, "finish", closed)
    raised: list[BaseException] = []
    monkeypatch.setattr(threading, "excepthook", lambda args: raised.append(args.exc_value))
    customer = store.get(job_id)["scope"]["customers"][0]  # type: ignore[index]
    with caplog.at_level(logging.ERROR, logger="web.api.exports"):
        thread = threading.Thread(
            target=exports.run_export,
            args=(store, job_id, ExportScope(customers=(customer,)), ACTOR),
        )
        thread.start()
        thread.join(60)
    assert raised == []
    assert any("outcome was not recorded: RuntimeError" in r.getMessage() for r in caplog.records)
    assert "the connection pool" not in caplog.text  # only the type, never the message
