"""The views over HTTP: read-your-writes, masking, paging, filters, sorting, roles."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator
from datetime import timedelta
from uuid import UUID

import pytest

from projections.runtime import close_read_models
from security.bootstrap import Settings
from tests.domain.factories import FRONT, Clock
from tests.projections.world import ID_NUMBER, NAME, PHONE, populate
from tests.web.conftest import WANG, Api, make_api

pytestmark = pytest.mark.e2e


@pytest.fixture
def api(ledger_config: Settings, clock: Clock) -> Iterator[Api]:
    """The app on both stores; no background projector unless a test starts one."""
    made = make_api(ledger_config, clock)
    built = next(made)
    built.app.config.update(VIEWS_MAX_WAIT=5.0, VIEWS_FOLLOW=False)
    yield built
    close_read_models(built.ledger)
    with contextlib.suppress(StopIteration):
        next(made)


@pytest.mark.parametrize("follow", [False, True], ids=["inline", "follower"])
def test_a_view_read_after_a_write_waits_for_that_write(api: Api, follow: bool) -> None:
    api.app.config["VIEWS_FOLLOW"] = follow
    assert api.get("/views/customers", "front_office").status_code == 200  # views exist
    registered = api.post("/customers", "front_office", WANG)
    customer_id = registered.get_json()["id"]
    written = int(registered.headers["X-Ledger-Position"])
    assert written == api.events()
    response = api.get(
        f"/views/customers?min_position={written}&phone=138-1234-5678",
        "relationship_manager",
        X_Purpose="customer_service",
    )
    assert response.status_code == 200, response.get_json()
    assert int(response.headers["X-View-Position"]) >= written
    assert [c["customer_id"] for c in response.get_json()["items"]] == [customer_id]

    case = api.ledger.app.receive_feedback(
        UUID(customer_id), "complaint", "fees", "too high", FRONT
    )
    written = api.events()
    queue = api.get("/views/complaints", "relationship_manager", X_Min_Position=str(written))
    assert queue.status_code == 200
    assert [c["case_id"] for c in queue.get_json()["items"]] == [str(case)]
    seen = api.get(f"/views/customers/{customer_id}?min_position={written}", "front_office")
    assert [c["case_id"] for c in seen.get_json()["open_cases"]] == [str(case)]


def test_a_view_that_cannot_catch_up_in_time_answers_503_problem(api: Api) -> None:
    api.app.config["VIEWS_MAX_WAIT"] = 0.3
    ahead = api.events() + 1000
    started = time.monotonic()
    response = api.get(f"/views/complaints?min_position={ahead}", "front_office")
    assert 0.3 <= time.monotonic() - started < 5
    assert response.status_code == 503
    assert response.mimetype == "application/problem+json"
    assert response.get_json()["code"] == "view_lagging"
    assert response.headers["Retry-After"] == "1"
    bad = api.get("/views/complaints", "front_office", X_Min_Position="soon")
    assert bad.status_code == 422


def test_the_360_is_masked_and_an_erased_customer_is_gone(api: Api, clock: Clock) -> None:
    world = populate(api.ledger.app, clock)
    head = api.events()
    response = api.get(f"/views/customers/{world.elder}?min_position={head}", "front_office")
    assert response.status_code == 200
    body = response.get_json()
    text = response.get_data(as_text=True)
    assert body["name"] == "*** Quillborough"
    assert body["care"]["reasons"] == ["***"]  # health data: not for the front office
    as_rm = api.get(f"/views/customers/{world.elder}", "compliance_officer").get_json()
    assert as_rm["care"]["reasons"] == ["elderly"]
    assert body["tier"] == "ordinary" and body["risk_level"] == "high"
    assert [c["purpose"] for c in body["live_consents"]] == ["greetings", "marketing"]
    assert len(body["last_interactions"]) == 3
    for secret in (NAME, PHONE, ID_NUMBER):
        assert secret not in text
    missing = api.get("/views/customers/8a3b6f4e-0000-4000-8000-000000000000", "front_office")
    assert missing.status_code == 404
    api.ledger.keystore.shred(world.elder)
    assert api.get(f"/views/customers/{world.elder}", "front_office").status_code == 410


def test_the_complaint_queue_puts_overdue_first_and_pages(api: Api, clock: Clock) -> None:
    # across branches and relationship managers: a compliance officer's view (the book of
    # business of the other roles is tests/web/test_api_book.py)
    app = api.ledger.app
    world = populate(app, clock)
    for note in ("first", "second"):
        app.receive_feedback(world.plain, "complaint", "service", note, FRONT)
    clock.advance(days=20)  # the first complaint (15 days) is overdue, the others not yet
    fresh = app.receive_feedback(world.corporate, "complaint", "fees", "late fee", FRONT)
    head = api.events()
    page = api.get(
        f"/views/complaints?kind=complaint&limit=2&min_position={head}", "compliance_officer"
    )
    body = page.get_json()
    assert body["total"] == 4 and body["limit"] == 2
    first = body["items"][0]
    assert (first["case_id"], first["overdue"]) == (str(world.complaint), True)
    assert body["items"][1]["overdue"] is True
    rest = api.get(
        "/views/complaints?kind=complaint&limit=2&offset=2", "compliance_officer"
    ).get_json()
    assert [c["overdue"] for c in rest["items"]] == [True, False]
    assert rest["items"][1]["case_id"] == str(fresh)
    assert rest["items"][1]["seconds_left"] > timedelta(days=14).total_seconds()
    by_owner = api.get("/views/complaints?owner=rm-007", "compliance_officer").get_json()
    assert [c["case_id"] for c in by_owner["items"]] == [str(world.complaint)]
    bad_sort = api.get("/views/complaints?sort=narrative", "compliance_officer")
    assert bad_sort.status_code == 422 and bad_sort.get_json()["code"] == "validation_failed"
    assert api.get("/views/complaints?limit=500", "compliance_officer").status_code == 422


def test_lists_filter_and_the_analyst_views_answer(api: Api, clock: Clock) -> None:
    world = populate(api.ledger.app, clock)
    head = api.events()
    q = f"min_position={head}"
    care = api.get(f"/views/special-care?{q}", "compliance_officer").get_json()
    assert [c["customer_id"] for c in care["items"]] == [str(world.elder)]
    consents = api.get(
        f"/views/consents?{q}&customer_id={world.elder}&live=true", "compliance_officer"
    )
    assert [c["purpose"] for c in consents.get_json()["items"]] == ["greetings", "marketing"]
    by_branch = api.get(
        f"/views/customers?{q}&branch=SH-02&sort=-registered_on", "compliance_officer"
    )
    assert by_branch.get_json()["total"] == 2
    dist = api.get(f"/views/distribution?{q}", "compliance_officer").get_json()["items"]
    assert {
        "tier": "ordinary",
        "segment": "individual/60_plus/high/balanced",
        "customers": 1,
    } in dist
    kpis = api.get(f"/views/kpis?from=2026-03&to=2026-03&by=branch&{q}", "compliance_officer")
    rows = {r["branch"]: r for r in kpis.get_json()["items"]}
    assert rows["BJ-01"]["cases_received"] == 1 and rows["SH-02"]["csat"] == "1.0000"
    assert api.get("/views/kpis/evaluations", "system").status_code == 200
    assert (
        api.get("/views/reverification-due?within_days=365", "compliance_officer").status_code
        == 200
    )
    assert api.get("/views/churn-watch", "compliance_officer").get_json()["total"] == 0


def test_each_view_declares_its_roles(api: Api) -> None:
    assert api.get("/views/customers", None).status_code == 401
    assert api.get("/views/customers", "regulator").status_code == 403
    assert api.get("/views/kpis?from=2026-01&to=2026-02", "front_office").status_code == 403
    assert api.get("/views/status", "front_office").status_code == 403
    status = api.get("/views/status", "security_officer")
    assert status.status_code == 200  # an empty log: nothing to lag behind
    assert {v["name"] for v in status.get_json()["views"]} == {
        "customers",
        "cases",
        "consents",
        "kpis",
        "quality",
        "satisfaction",
        "crises",
        "value_strategies",
    }


def test_status_is_503_while_the_views_lag(api: Api, clock: Clock) -> None:
    api.get("/views/status", "system")
    populate(api.ledger.app, clock)
    lagging = api.get("/views/status", "system")
    assert lagging.status_code == 503
    assert lagging.get_json()["ready"] is False
    api.get(f"/views/customers?min_position={api.events()}", "front_office")
    api.get(f"/views/kpis?from=2026-03&to=2026-03&min_position={api.events()}", "system")
    ready = api.get("/views/status", "system")
    assert ready.status_code == 200, ready.get_json()
    assert all(v["lag_events"] == 0 for v in ready.get_json()["views"])
