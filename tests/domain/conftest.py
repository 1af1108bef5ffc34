"""Fixtures for the domain tests: an in-memory ledger driven by a hand-moved clock."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from domain.application import LedgerApplication
from tests.domain.factories import Clock, RecordingKeys, new_app


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def keys() -> RecordingKeys:
    return RecordingKeys()


@pytest.fixture
def app(clock: Clock, keys: RecordingKeys) -> Iterator[LedgerApplication]:
    ledger = new_app(clock, subject_keys=keys)
    yield ledger
    ledger.close()
