"""Fixtures for the projection tests: a ledger with the real domain, and its views."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from projections.runtime import ReadModels, close_read_models, read_models
from security.bootstrap import Ledger, Settings, build_ledger
from tests.domain.factories import Clock


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def ledger(ledger_config: Settings, clock: Clock) -> Iterator[Ledger]:
    """The real LedgerApplication on SQLite or PostgreSQL, with a settable clock."""
    built = build_ledger(ledger_config, clock=clock)
    yield built
    close_read_models(built)
    built.close()


@pytest.fixture
def models(ledger: Ledger) -> ReadModels:
    """The ledger's read models, installed (no background follower)."""
    return read_models(ledger)
