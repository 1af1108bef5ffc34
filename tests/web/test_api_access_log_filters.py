"""GET /api/v1/access-log filters on the server: purpose, until (with since, actor and
subject) and pages (`limit`, `offset`, `next_offset`), on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from urllib.parse import urlencode
from uuid import uuid4

import pytest

from tests.web.conftest import Api

pytestmark = pytest.mark.integration

T0 = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
SUBJECTS = (uuid4(), uuid4())


def seed(api: Api) -> None:
    """Six entries an hour apart: purposes alternate, two actors, two subjects."""
    purposes = ("compliance_audit", "kyc_review")
    for hour in range(6):
        api.ledger.access_log.record(
            actor_id=f"officer-{hour % 3}",
            role="compliance_officer",
            purpose=purposes[hour % 2],
            subject_id=str(SUBJECTS[hour % 2]),
            what="customer.profile",
            at=T0 + timedelta(hours=hour),
        )


def listed(api: Api, **query: object) -> dict[str, object]:
    response = api.get(f"/access-log?{urlencode(query)}", "compliance_officer")
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert isinstance(body, dict)
    return body


def hours(body: dict[str, object]) -> list[int]:
    entries = body["entries"]
    assert isinstance(entries, list)
    return [
        int((datetime.fromisoformat(e["recorded_at"]) - T0).total_seconds() // 3600)
        for e in entries
    ]


def test_purpose_is_filtered_by_the_api(api: Api) -> None:
    seed(api)
    body = listed(api, purpose="kyc_review")
    assert hours(body) == [5, 3, 1]
    assert hours(listed(api, purpose="regulatory_request")) == []


def test_until_is_exclusive_and_combines_with_since_and_purpose(api: Api) -> None:
    seed(api)
    until = (T0 + timedelta(hours=3)).isoformat()
    assert hours(listed(api, until=until)) == [2, 1, 0]
    since = (T0 + timedelta(hours=1)).isoformat()
    assert hours(listed(api, since=since, until=until)) == [2, 1]
    assert hours(listed(api, since=since, until=until, purpose="compliance_audit")) == [2]
    # an offset in the query is honoured (09:00+08:00 is 01:00 UTC: before every entry)
    assert hours(listed(api, until="2026-03-01T09:00:00+08:00")) == []


def test_actor_and_subject_still_filter(api: Api) -> None:
    seed(api)
    assert hours(listed(api, actor="officer-1")) == [4, 1]
    assert hours(listed(api, subject=SUBJECTS[0])) == [4, 2, 0]


def test_pages_walk_every_entry_once(api: Api) -> None:
    seed(api)
    walked: list[int] = []
    offset: object = 0
    pages = 0
    while offset is not None:
        body = listed(api, limit=4, offset=offset)
        walked += hours(body)
        offset = body["next_offset"]
        pages += 1
    assert (walked, pages) == ([5, 4, 3, 2, 1, 0], 2)
    assert listed(api, limit=6)["next_offset"] is None
    assert listed(api, limit=5)["next_offset"] == 5


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ({"purpose": "curiosity"}, "purpose"),
        ({"until": "yesterday"}, "until"),
        ({"since": "2026-03-02", "until": "2026-03-01"}, "until"),
        ({"since": "2026-03-01", "until": "2026-03-01"}, "until"),
    ],
)
def test_a_bad_filter_is_a_problem_naming_it(api: Api, query: dict[str, str], field: str) -> None:
    seed(api)
    before = len(api.ledger.access_log.entries(limit=1000))
    response = api.get(f"/access-log?{urlencode(query)}", "compliance_officer")
    assert response.status_code == 422  # the API's status for a refused parameter
    assert response.content_type == "application/problem+json"
    assert field in str(response.get_json())
    assert len(api.ledger.access_log.entries(limit=1000)) == before
