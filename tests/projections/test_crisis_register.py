"""The crisis register and each affected customer's contact evidence, on both stores."""

from __future__ import annotations

from datetime import timedelta

import pytest

from domain.errors import ValidationFailed
from projections.runtime import ReadModels
from security.bootstrap import Ledger
from tests.domain.factories import COMPLIANCE, RM, Clock, individual

pytestmark = pytest.mark.integration


def test_the_register_lists_crises_with_first_contact_and_evidence_per_customer(
    ledger: Ledger, clock: Clock, models: ReadModels
) -> None:
    app = ledger.app
    first, second = individual(app), individual(app)
    older = app.open_crisis("Branch flood", "SH-01", "low", COMPLIANCE)
    app.update_crisis(older, "statement", "Branch closed today", COMPLIANCE)
    app.close_crisis(older, "Reopened", COMPLIANCE)
    clock.advance(hours=1)
    crisis_id = app.open_crisis(
        "Card outage", "cards", "high", COMPLIANCE, affected_customer_ids=[first, second]
    )
    opened = clock.now
    clock.advance(hours=2)
    app.record_crisis_contact(crisis_id, first, "phone", "Fee waived", RM)
    app.record_crisis_contact(crisis_id, first, "sms", "Resolved", RM)
    models.catch_up()

    register = models.crises.crisis_register()
    assert register.total == 2
    newest, oldest = register.items
    assert (newest["crisis_id"], oldest["crisis_id"]) == (str(crisis_id), str(older))
    assert (newest["affected"], newest["contacted"], newest["contacted_in_time"]) == (2, 1, 1)
    assert newest["first_contact_at"] == (opened + timedelta(hours=2)).strftime(
        "%Y-%m-%dT%H:%M:%S.%fZ"
    )
    assert newest["contact_overdue"] is False
    assert (oldest["state"], oldest["statements"], oldest["contact_overdue"]) == (
        "closed",
        1,
        False,
    )
    assert models.crises.crisis_register(state="closed").total == 1

    contacts = models.crises.crisis_contacts(str(crisis_id))
    by_customer = {row["customer_id"]: row for row in contacts.items}
    done, waiting = by_customer[str(first)], by_customer[str(second)]
    assert (done["contact_channel"], done["in_time"], done["contacts"]) == ("phone", True, 2)
    assert done["evidence_ref"] == f"{crisis_id}@v2"
    assert done["interaction_id"] is not None
    assert waiting["first_contact_at"] is None and waiting["contacts"] == 0
    assert models.crises.crisis_contacts(str(crisis_id), contacted=False).total == 1

    clock.advance(hours=23)  # past 24 hours with one customer never contacted
    assert models.crises.crisis_register(state="open").items[0]["contact_overdue"] is True


def test_a_register_sort_it_does_not_know_is_refused(models: ReadModels) -> None:
    with pytest.raises(ValidationFailed):
        models.crises.crisis_register(sort="title")
