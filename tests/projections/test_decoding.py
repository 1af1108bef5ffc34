"""The projector's batch decoding (projections.decoding): every event equal, field by
field and type by type, to what the ledger's own mapper reads."""

from __future__ import annotations

from datetime import date
from typing import Any
from uuid import UUID

import pytest
from eventsourcing.persistence import (
    DatetimeAsISO,
    DecimalAsStr,
    JSONTranscoder,
    TranscodingNotRegisteredError,
    UUIDAsHex,
)

from demo.year import generate_demo
from domain.transcodings import register_domain_transcodings
from projections.decoding import BatchTranscoder, batch_mapper
from security.bootstrap import Ledger
from security.keys.envelope import Envelope, EnvelopeMapper
from tests.domain.factories import Clock
from tests.projections.world import populate


def fields(event: Any) -> dict[str, tuple[type, Any]]:
    """Each attribute of an event with its exact type (a date is not a datetime)."""
    return {name: (type(value), value) for name, value in vars(event).items()}


@pytest.mark.integration
def test_batch_decoding_gives_the_events_the_ledgers_mapper_gives(
    ledger: Ledger, clock: Clock
) -> None:
    populate(ledger.app, clock)
    generate_demo(ledger.app, customers=6, seed=5, end=date(2026, 3, 31))
    notifications = ledger.app.recorder.select_notifications(1, 10_000)
    assert len(notifications) > 100
    mapper, transcoder = batch_mapper(ledger.app.mapper)
    assert isinstance(mapper, EnvelopeMapper) and isinstance(transcoder, BatchTranscoder)
    assert mapper is not ledger.app.mapper
    shared = 0
    for notification in notifications:
        expected = ledger.app.mapper.to_domain_event(notification)
        found = mapper.open_event(notification, Envelope.unpack(notification.state))
        assert type(found) is type(expected)
        assert fields(found) == fields(expected)
        shared += sum(isinstance(v, UUID) for v in vars(found).values())
    assert shared > len(notifications)  # ids were rebuilt (and shared) along the way
    transcoder.forget()


@pytest.mark.unit
def test_batch_transcoder_shares_immutable_values_and_keeps_the_library_errors() -> None:
    source = JSONTranscoder()
    for transcoding in (UUIDAsHex(), DatetimeAsISO(), DecimalAsStr()):
        source.register(transcoding)
    register_domain_transcodings(source)
    batch = BatchTranscoder(source)
    value = {"a": [UUID(int=7), date(2026, 1, 2)], "b": UUID(int=7), "c": {"_type_": 1}}
    data = source.encode(value)
    decoded = batch.decode(data)
    assert decoded == source.decode(data) == value
    assert decoded["a"][0] is decoded["b"]  # rebuilt once, shared
    batch.forget()
    assert batch.decode(data)["b"] is not decoded["b"]
    with pytest.raises(TranscodingNotRegisteredError):
        batch.decode(b'{"_type_":"nope","_data_":"x"}')
