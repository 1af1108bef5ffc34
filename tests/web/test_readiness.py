"""/readyz: store, keyring and the views' lag."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from projections.runtime import read_models
from security.calendars import load_calendars
from tests.web.conftest import Api

pytestmark = pytest.mark.e2e


def test_readyz_reports_lagging_views_until_they_catch_up(api: Api) -> None:
    api.register()
    lagging = api.client.get("/readyz")
    assert lagging.status_code == 503
    body = lagging.get_json()
    assert body["checks"]["store"] == "ok" and body["checks"]["keyring"] == "ok"
    assert body["checks"]["views"].startswith("lagging")
    read_models(api.ledger).catch_up()
    ready = api.client.get("/readyz")
    assert ready.status_code == 200, ready.get_json()
    assert ready.get_json()["checks"]["views"] == "ok"


def test_readyz_is_not_ready_without_this_years_calendar_and_warns_for_the_next(
    api: Api,
) -> None:
    read_models(api.ledger).catch_up()
    assert api.client.get("/readyz").get_json()["checks"]["calendars"] == "ok"
    app = api.ledger.app
    app.calendars = load_calendars(None)  # the packages alone: CN ends at 2026
    app.clock = lambda: datetime(2026, 12, 1, 9, tzinfo=UTC)  # type: ignore[method-assign]
    warned = api.client.get("/readyz")
    assert warned.status_code == 200, warned.get_json()
    warning = warned.get_json()["checks"]["calendars"]
    assert warning.startswith("warning: no business calendar for CN 2027")
    app.clock = lambda: datetime(2027, 3, 1, 9, tzinfo=UTC)  # type: ignore[method-assign]
    response = api.client.get("/readyz")
    assert response.status_code == 503
    reason = response.get_json()["checks"]["calendars"]
    assert reason.startswith("no business calendar for CN 2027")
