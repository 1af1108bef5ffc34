"""/readyz: store, keyring and the views' lag."""

from __future__ import annotations

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


def test_readyz_is_not_ready_while_a_business_calendar_lacks_this_or_next_year(
    api: Api,
) -> None:
    read_models(api.ledger).catch_up()
    assert api.client.get("/readyz").get_json()["checks"]["calendars"] == "ok"
    api.ledger.app.calendars = load_calendars(None)  # the packages alone: CN ends at 2026
    response = api.client.get("/readyz")
    assert response.status_code == 503
    reason = response.get_json()["checks"]["calendars"]
    assert reason.startswith("no business calendar for CN 2027")
