"""The `satisfaction` view: survey dimensions per month, on both stores."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from projections.runtime import ReadModels
from security.bootstrap import Ledger
from tests.domain.factories import COMPLIANCE, SYSTEM, Clock, individual

pytestmark = pytest.mark.integration


def _scores(service: int, product: int, price: int, communication: int) -> dict[str, int]:
    return {
        "service_quality": service,
        "product_quality": product,
        "price_reasonableness": price,
        "communication": communication,
    }


def test_dimensions_are_aggregated_per_month_and_leave_with_an_erased_customer(
    ledger: Ledger, clock: Clock, models: ReadModels
) -> None:
    app = ledger.app
    clock.set(datetime(2026, 3, 10, 9, tzinfo=UTC))
    prospect = individual(app, status="prospect")
    stayer = individual(app)
    first = app.send_survey(stayer, "CSAT", SYSTEM)
    second = app.send_survey(prospect, "CSAT", SYSTEM)
    plain = app.send_survey(stayer, "NPS", SYSTEM)
    app.answer_survey(first, 5, SYSTEM, dimensions=_scores(5, 4, 2, 5))
    app.answer_survey(second, 4, SYSTEM, dimensions=_scores(4, 3, 3, 4))
    app.answer_survey(plain, 9, SYSTEM)  # no dimensions: not in this view
    clock.set(datetime(2026, 4, 3, 9, tzinfo=UTC))
    april = app.send_survey(stayer, "CSAT", SYSTEM)
    app.answer_survey(april, 3, SYSTEM, dimensions=_scores(3, 3, 3, 3))
    models.catch_up()
    march, april_row = models.satisfaction.survey_dimensions("2026-01", "2026-06")
    assert (march["period"], march["answers"], april_row["answers"]) == ("2026-03", 2, 1)
    assert march["service_quality"] == {"mean": "4.50", "satisfied_share": "1.0000"}
    assert march["price_reasonableness"] == {"mean": "2.50", "satisfied_share": "0.0000"}
    assert march["product_quality"] == {"mean": "3.50", "satisfied_share": "0.5000"}
    assert models.satisfaction.survey_dimensions("2026-04", "2026-04") == [april_row]

    app.request_erasure(prospect, COMPLIANCE)  # a prospect is erased on request at once
    models.catch_up()
    (march_after,) = models.satisfaction.survey_dimensions("2026-03", "2026-03")
    assert march_after["answers"] == 1
