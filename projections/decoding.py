"""Decoding a batch of stored events for the views, in fewer Python calls.

The projector decrypts every event its views follow, and the library's JSON transcoder
rebuilds each value it wrote as `{"_type_": ..., "_data_": ...}` (a UUID, a time, a
date, an amount) with a call per value: the same customer id, actor id and day come
back again and again within a batch. `BatchTranscoder` is that transcoder with the
same registered transcodings and one change: a value whose transcoding gives an
immutable object (a UUID, datetime, date, Decimal) is rebuilt once per batch and then
shared, so the events are equal, field by field and type by type, to what the ledger's
own transcoder gives (tests/projections/test_decoding.py compares every demo event).

`batch_mapper(mapper)` is the ledger's `EnvelopeMapper` (same key store: each event's
key, associated data and authentication unchanged) reading with such a transcoder.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any, cast
from uuid import UUID

from eventsourcing.persistence import JSONTranscoder, Mapper, TranscodingNotRegisteredError

from security.keys.envelope import EnvelopeMapper

IMMUTABLE = (UUID, datetime, date, Decimal, str, int, float, bool)
MEMO_LIMIT = 100_000  # values kept between two `forget` calls at most


class BatchTranscoder(JSONTranscoder):
    """The ledger's JSON transcoder, sharing the immutable values it rebuilds (see the
    module docstring); `forget()` drops them (the projector calls it per batch)."""

    def __init__(self, source: JSONTranscoder) -> None:
        super().__init__()
        for transcoding in source.names.values():
            self.register(transcoding)
        self._memo: dict[tuple[str, str], Any] = {}

    def forget(self) -> None:
        """Drop the shared values."""
        self._memo.clear()

    def _decode_obj(self, d: dict[str, Any]) -> Any:
        if len(d) != 2 or "_type_" not in d or "_data_" not in d:
            return d
        name, data = d["_type_"], d["_data_"]
        if type(name) is not str or type(data) is not str:
            return super()._decode_obj(d)  # the library's own answer (or error)
        memo = self._memo
        key = (name, data)
        found = memo.get(key)
        if found is not None:
            return found
        transcoding = self.names.get(name)
        if transcoding is None:
            raise TranscodingNotRegisteredError(
                f"Data serialized with name '{name}' is not deserializable. Please register "
                "a custom transcoding for this type."
            )
        value = transcoding.decode(data)
        if type(value) in IMMUTABLE:
            if len(memo) >= MEMO_LIMIT:
                memo.clear()
            memo[key] = value
        return value


def batch_mapper(mapper: Mapper[Any]) -> tuple[Mapper[Any], BatchTranscoder | None]:
    """A mapper reading like `mapper` with a `BatchTranscoder`, and that transcoder;
    `mapper` itself (and None) when it is not the ledger's envelope mapper over the
    library's JSON transcoder."""
    if not isinstance(mapper, EnvelopeMapper) or not isinstance(mapper.transcoder, JSONTranscoder):
        return mapper, None
    transcoder = BatchTranscoder(mapper.transcoder)
    return cast(Mapper[Any], EnvelopeMapper(transcoder, mapper.keystore)), transcoder
