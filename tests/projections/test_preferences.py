"""Needs and interests (7.1) on the customer 360: encrypted in the view, notes masked."""

from __future__ import annotations

import pytest

from projections.runtime import ReadModels
from projections.schema import CUSTOMER
from security.bootstrap import Ledger
from tests.domain.factories import RM, individual

pytestmark = pytest.mark.integration


def test_preferences_show_on_the_360_and_are_stored_only_encrypted(
    ledger: Ledger, models: ReadModels
) -> None:
    app = ledger.app
    customer_id = individual(app)
    app.record_preferences(
        customer_id, ["retirement"], ["calligraphy"], RM, notes="Retires in 2030"
    )
    models.catch_up()
    seen = models.customers.customer_360(str(customer_id))
    assert seen["preferences"] == {
        "needs": ["retirement"],
        "interests": ["calligraphy"],
        "notes": "***",
    }
    assert "preference_notes" not in seen["profile"]
    row = models.store.row(
        f"SELECT * FROM {models.store.table(CUSTOMER)} WHERE customer_id=?", [str(customer_id)]
    )
    assert row is not None
    stored = repr(row)
    assert "Retires" not in stored and "calligraphy" not in stored
