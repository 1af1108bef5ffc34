"""Loading an aggregate replays its events with the ledger's own projector: the same
state as the library's, without the library's per-event `isinstance` check against
its runtime-checkable `CanMutateProtocol` (a Protocol check walks the protocol's
attributes on every call: about 6% of a masked GET /api/v1/customers/<id>)."""

from __future__ import annotations

from typing import Any
from uuid import uuid4

import pytest
from eventsourcing.application import project_aggregate
from eventsourcing.domain import CanMutateProtocol

from domain.application import LedgerApplication
from domain.customer import Customer
from domain.errors import NotFound
from tests.domain.factories import RM, individual

pytestmark = pytest.mark.unit


def test_a_load_gives_the_state_the_library_replay_gives(app: LedgerApplication) -> None:
    customer_id = individual(app)
    app.change_profile_fields(customer_id, {"phone": "13700002222"}, RM)
    app.change_profile_fields(customer_id, {"email": "chen@example.cn"}, RM)
    loaded = app._load(Customer, customer_id)
    library = project_aggregate(None, app.events.get(customer_id))
    assert library is not None
    assert loaded.version == library.version == 3
    assert vars(loaded) == vars(library)
    assert (app.get_customer(customer_id).phone, app.get_customer(customer_id).email) == (
        "13700002222",
        "chen@example.cn",
    )


def test_a_load_checks_no_event_against_the_library_protocol(
    app: LedgerApplication, monkeypatch: pytest.MonkeyPatch
) -> None:
    customer_id = individual(app)
    app.change_profile_fields(customer_id, {"phone": "13700002222"}, RM)
    checked: list[Any] = []
    meta = type(CanMutateProtocol)
    real = meta.__instancecheck__

    def counting(cls: Any, instance: Any) -> bool:
        if cls is CanMutateProtocol:
            checked.append(instance)
        return bool(real(cls, instance))

    monkeypatch.setattr(meta, "__instancecheck__", counting)
    assert isinstance(object(), CanMutateProtocol) is False  # the patch is in place
    checked.clear()
    assert app.get_customer(customer_id).version == 2
    assert checked == []


def test_an_unknown_id_is_still_not_found(app: LedgerApplication) -> None:
    with pytest.raises(NotFound):
        app.get_customer(uuid4())
