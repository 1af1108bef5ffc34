"""The identifier-search limit: counted and recorded in one locked transaction of the
access log, so concurrent searches from several processes never pass it; both stores."""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

import pytest

from security.bootstrap import Ledger, Settings, build_ledger
from security.integrity.access_log import SEARCH_SUBJECT, UnknownPurpose

pytestmark = pytest.mark.integration


@pytest.fixture
def ledgers(ledger_config: Settings) -> Iterator[tuple[Ledger, Ledger]]:
    """Two ledgers over one store: two processes, as two gunicorn workers."""
    first, second = build_ledger(ledger_config), build_ledger(ledger_config)
    yield first, second
    first.close()
    second.close()


def search(ledger: Ledger, actor: str = "rm-1", at: datetime | None = None) -> int | None:
    return ledger.access_log.record_search(
        actor_id=actor,
        role="relationship_manager",
        purpose="kyc_review",
        what="search:phone=00ff",
        limit=5,
        at=at,
    )


def test_concurrent_searches_from_two_processes_never_pass_the_limit(
    ledgers: tuple[Ledger, Ledger],
) -> None:
    with ThreadPoolExecutor(max_workers=8) as pool:
        answers = list(pool.map(lambda n: search(ledgers[n % 2]), range(16)))
    assert answers.count(None) == 5
    assert all(1 <= a <= 60 for a in answers if a is not None)
    entries = ledgers[0].access_log.entries(actor_id="rm-1")
    assert len(entries) == 5 and {e.subject_id for e in entries} == {SEARCH_SUBJECT}
    assert search(ledgers[0], actor="rm-2") is None  # a budget per actor


def test_the_window_slides_and_retry_after_says_when(ledgers: tuple[Ledger, Ledger]) -> None:
    start = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
    for second in range(5):
        assert search(ledgers[0], at=start + timedelta(seconds=second * 10)) is None
    assert search(ledgers[1], at=start + timedelta(seconds=45)) == 16  # the first leaves at 60
    assert search(ledgers[1], at=start + timedelta(seconds=61)) is None
    with pytest.raises(UnknownPurpose):
        ledgers[0].access_log.record_search(
            actor_id="rm-1", role="r", purpose="curiosity", what="search:x", limit=5
        )
