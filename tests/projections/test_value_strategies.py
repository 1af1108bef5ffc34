"""The value-strategies view (6.2): customers by their latest strategy, book-scoped."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from domain.errors import ValidationFailed
from projections.book import Book
from projections.runtime import ReadModels
from security.bootstrap import Ledger
from tests.domain.factories import SYSTEM, Clock, individual, quarter_of_trades

pytestmark = pytest.mark.integration


def test_high_potential_customers_are_listed_by_their_latest_strategy_in_the_book(
    ledger: Ledger, clock: Clock, models: ReadModels
) -> None:
    app = ledger.app
    big = individual(app)
    small = individual(app, phone="13700000000", branch="SH-02")
    clock.set(datetime(2026, 7, 1, tzinfo=UTC))
    quarter_of_trades(app, big, date(2026, 4, 1), 40, "100000", "b1")
    quarter_of_trades(app, small, date(2026, 1, 1), 2, "1000", "s1")
    assessed = app.assess_values([big, small], SYSTEM)
    assert assessed[big].strategy == "high_potential"
    models.catch_up()
    views = models.value_strategies
    assert views.value_strategies(strategy="high_potential").total == 2
    assert views.value_strategies(strategy="standard").total == 0
    page = views.value_strategies(strategy="high_potential", book=Book(branch="SH-02"))
    (row,) = page.items
    assert row == {
        "customer_id": str(small),
        "strategy": "high_potential",
        "as_of": "2026-07-01",
        "planned_actions": ["needs_discovery", "targeted_offer"],
        "rule_version": "value_strategy/1",
    }
    assert views.value_strategies(book=Book(branch="BJ-01")).items[0]["customer_id"] == str(big)
    assert views.value_strategies(book=Book(nobody=True)).total == 0
    with pytest.raises(ValidationFailed):
        views.value_strategies(limit=0)
