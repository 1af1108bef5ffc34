"""A store fault met inside a command, injected at the recorder (the driver's own error,
raised inside the insert's transaction): a busy store is retried, an unavailable one is
a 503 problem and a full one a 507, each with Retry-After and never a 500; nothing of
the request is recorded, its Idempotency-Key is freed, and the ledger verifies after.

The same fault on a real full disk (a small tmpfs) is tests/integration/test_disk_full.py.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from typing import Any

import pytest
from eventsourcing.persistence import OperationalError
from psycopg import errors as pg

from tests.web.conftest import WANG, WANG_2, Api

pytestmark = pytest.mark.integration

FAULTS: dict[str, dict[str, Callable[[], Exception]]] = {
    "sqlite": {
        "full": lambda: sqlite3.OperationalError("database or disk is full"),
        "unavailable": lambda: sqlite3.OperationalError("disk I/O error"),
    },
    "postgres": {
        "full": lambda: pg.DiskFull("could not extend file: No space left on device"),
        "unavailable": lambda: pg.AdminShutdown(
            "terminating connection due to administrator command"
        ),
    },
}


def stored_events(api: Api) -> int:
    """How many events the store holds (PostgreSQL's ids can have gaps: count rows)."""
    return len(api.ledger.app.recorder.select_notifications(None, 100_000))


def inject(monkeypatch: pytest.MonkeyPatch, api: Api, make: Callable[[], Exception]) -> list[int]:
    """Every insert raises `make()` inside its transaction, after the data keys were
    written in it; returns a list that counts the attempts."""
    recorder = api.ledger.app.recorder
    original = recorder._insert_events
    attempts: list[int] = []

    def failing(cursor: Any, stored_events: Any, **kwargs: Any) -> Any:
        original(cursor, [], **kwargs)  # the pending data keys go in, then the fault
        attempts.append(1)
        raise make()

    monkeypatch.setattr(recorder, "_insert_events", failing)
    return attempts


def assert_verifies(api: Api) -> None:
    api.ledger.seal()
    report = api.ledger.verify_all(consult_witnesses=False)
    assert report.ok, [problem.message for problem in report.problems]


@pytest.mark.parametrize(
    ("fault", "status", "code", "retry_after"),
    [
        ("full", 507, "insufficient_storage", "60"),
        ("unavailable", 503, "store_unavailable", "5"),
    ],
)
def test_a_store_fault_in_a_command_is_a_problem_with_retry_after_and_records_nothing(
    api: Api,
    store_kind: str,
    monkeypatch: pytest.MonkeyPatch,
    fault: str,
    status: int,
    code: str,
    retry_after: str,
) -> None:
    api.register()
    before = stored_events(api)
    with monkeypatch.context() as patch:
        inject(patch, api, FAULTS[store_kind][fault])
        response = api.post("/customers", "front_office", WANG_2, Idempotency_Key="reg-1")
    assert response.status_code == status, response.get_json()
    assert response.content_type == "application/problem+json"
    assert response.headers["Retry-After"] == retry_after
    body = response.get_json()
    assert body["type"].endswith("/" + code) and body["code"] == code
    assert "No space" not in body["detail"] and "administrator" not in body["detail"]
    assert stored_events(api) == before  # rolled back: nothing half-written
    # the key was freed: the same request again is a first answer, recorded once
    again = api.post("/customers", "front_office", WANG_2, Idempotency_Key="reg-1")
    assert again.status_code == 201, again.get_json()
    assert "Idempotent-Replayed" not in again.headers
    assert stored_events(api) > before
    customer = api.get(f"/customers/{again.get_json()['id']}", "front_office")
    assert customer.status_code == 200
    assert_verifies(api)


def test_a_busy_sqlite_store_is_retried_and_the_command_recorded_once(
    sqlite_api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    api = sqlite_api
    recorder = api.ledger.app.recorder
    original = recorder._insert_events
    attempts: list[int] = []

    def busy_twice(cursor: Any, stored_events: Any, **kwargs: Any) -> Any:
        attempts.append(1)
        if len(attempts) <= 2:
            raise sqlite3.OperationalError("database is locked")
        return original(cursor, stored_events, **kwargs)

    before = stored_events(api)
    monkeypatch.setattr(recorder, "_insert_events", busy_twice)
    response = api.post("/customers", "front_office", WANG_2)
    assert response.status_code == 201, response.get_json()
    assert len(attempts) == 3
    registered = stored_events(api) - before
    monkeypatch.undo()
    api.register()
    assert stored_events(api) - before == 2 * registered  # one registration's events, once
    assert_verifies(api)


def test_a_store_busy_past_the_retries_is_503_store_busy(
    sqlite_api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    api = sqlite_api
    before = stored_events(api)
    attempts = inject(monkeypatch, api, lambda: sqlite3.OperationalError("database is locked"))
    response = api.post("/customers", "front_office", WANG_2)
    assert response.status_code == 503, response.get_json()
    assert response.get_json()["code"] == "store_busy"
    assert response.headers["Retry-After"] == "1"
    assert len(attempts) == 4  # bounded
    assert stored_events(api) == before


def test_a_version_conflict_in_the_store_is_not_retried_and_stays_412(
    sqlite_api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A writer that got there first (the store's unique version) is the caller's
    conflict, answered 412 at once: retrying it blindly could only fail again."""
    api = sqlite_api
    customer_id = api.register()
    etag = api.get(f"/customers/{customer_id}", "front_office").headers["ETag"]
    attempts = inject(
        monkeypatch,
        api,
        lambda: sqlite3.IntegrityError(
            "UNIQUE constraint failed: stored_events.originator_id, "
            "stored_events.originator_version"
        ),
    )
    response = api.patch(
        f"/customers/{customer_id}",
        "front_office",
        {"email": "a@example.cn", "source": "customer"},
        If_Match=etag,
    )
    assert response.status_code == 412, response.get_json()
    assert len(attempts) == 1


def test_readyz_names_an_unavailable_store(api: Api, monkeypatch: pytest.MonkeyPatch) -> None:
    def cut() -> int:
        try:
            raise pg.AdminShutdown("terminating connection due to administrator command")
        except pg.AdminShutdown as exc:
            raise OperationalError(str(exc)) from exc

    monkeypatch.setattr(api.ledger.app.recorder, "max_notification_id", cut)
    response = api.client.get("/readyz")
    assert response.status_code == 503
    assert response.get_json()["checks"]["store"] == (
        "unavailable: store_unavailable (OperationalError)"
    )


def test_a_store_gone_after_the_command_keeps_the_answer(
    sqlite_api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The command was recorded; only remembering its answer failed: the client gets
    the 201 (its event is in the store), not a 5xx that would invite a second event."""
    api = sqlite_api
    before = stored_events(api)
    api.post("/customers", "front_office", WANG, Idempotency_Key="warm-up")
    with api.app.app_context():
        store = api.app.extensions["idempotency_store"]

    def gone(*_: Any) -> None:
        raise sqlite3.OperationalError("disk I/O error")

    monkeypatch.setattr(store, "complete", gone)
    response = api.post("/customers", "front_office", WANG_2, Idempotency_Key="answer-lost")
    assert response.status_code == 201, response.get_json()
    assert stored_events(api) > before


def test_a_deadlock_outside_the_insert_is_retried_not_a_503(
    api: Api, store_kind: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The Idempotency-Key's reservation and the access log's append are transactions of
    their own: a busy store there (PostgreSQL's deadlock victim, SQLite's lock past the
    busy timeout) rolls that transaction back and runs it again, as the event insert
    does, instead of answering 503 to a request that would succeed a moment later."""
    busy = {
        "sqlite": lambda: sqlite3.OperationalError("database is locked"),
        "postgres": lambda: pg.DeadlockDetected("deadlock detected"),
    }[store_kind]
    api.post("/customers", "front_office", WANG, Idempotency_Key="warm-up")  # the store
    with api.app.app_context():
        store = api.app.extensions["idempotency_store"]
    access_log = api.ledger.access_log
    failures: dict[str, int] = {"reserve": 0, "access": 0}

    def once(name: str, original: Callable[..., Any]) -> Callable[..., Any]:
        def wrapped(*args: Any) -> Any:
            if failures[name] == 0:
                failures[name] += 1
                raise busy()
            return original(*args)

        return wrapped

    monkeypatch.setattr(store, "_reserve", once("reserve", store._reserve))
    monkeypatch.setattr(access_log, "_insert", once("access", access_log._insert))
    before = stored_events(api)
    created = api.post("/customers", "front_office", WANG_2, Idempotency_Key="deadlocked")
    assert created.status_code == 201, created.get_json()
    customer_id = created.get_json()["id"]
    read = api.get(f"/customers/{customer_id}", "compliance_officer", X_Purpose="customer_service")
    assert read.status_code == 200, read.get_json()
    assert read.get_json()["disclosure"] == "full"
    (entry,) = api.ledger.access_log.entries(subject_id=customer_id)  # logged once
    assert entry.purpose == "customer_service"
    assert failures == {"reserve": 1, "access": 1}  # each met the fault, then succeeded
    assert stored_events(api) > before
    replay = api.post("/customers", "front_office", WANG_2, Idempotency_Key="deadlocked")
    assert replay.headers.get("Idempotent-Replayed") == "true", replay.get_json()
    assert_verifies(api)
