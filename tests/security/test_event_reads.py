"""PostgreSQL: an aggregate's whole stream is read with a statement composed once, and
gives what the library's own read gives; reads with bounds still go to the library."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any
from uuid import UUID

import psycopg.sql
import pytest
from eventsourcing.postgres import PostgresApplicationRecorder

from security.bootstrap import Ledger, build_ledger
from security.event_reads import StreamReadingRecorder
from tests.conftest import make_config
from tests.domain.factories import RM, individual

pytestmark = [pytest.mark.integration, pytest.mark.postgres]


@pytest.fixture
def ledger(tmp_path: Path, pg_schema: str) -> Iterator[Ledger]:
    built = build_ledger(make_config("postgres", tmp_path, pg_schema))
    yield built
    built.close()


def customer_with_history(ledger: Ledger) -> UUID:
    customer_id = individual(ledger.app)
    ledger.app.change_profile_fields(customer_id, {"phone": "13700002222"}, RM)
    ledger.app.change_profile_fields(customer_id, {"email": "chen@example.cn"}, RM)
    return customer_id


def test_a_whole_stream_is_what_the_library_reads(ledger: Ledger) -> None:
    recorder = ledger.app.recorder
    assert isinstance(recorder, StreamReadingRecorder)
    customer_id = customer_with_history(ledger)
    ours = recorder.select_events(customer_id)
    library = PostgresApplicationRecorder.select_events(recorder, customer_id)
    assert [e.originator_version for e in ours] == [1, 2, 3]
    assert ours == library
    assert recorder.select_events(UUID(int=0)) == []
    assert ledger.app.get_customer(customer_id).email == "chen@example.cn"


def test_the_whole_stream_statement_is_composed_once(
    ledger: Ledger, monkeypatch: pytest.MonkeyPatch
) -> None:
    recorder = ledger.app.recorder
    customer_id = customer_with_history(ledger)
    recorder.select_events(customer_id)
    composed: list[Any] = []
    real = psycopg.sql.Composed.__init__

    def counting(self: Any, *args: Any, **kwargs: Any) -> None:
        composed.append(1)
        real(self, *args, **kwargs)

    monkeypatch.setattr(psycopg.sql.Composed, "__init__", counting)
    for _ in range(3):
        assert len(recorder.select_events(customer_id)) == 3
    assert composed == []


def test_bounded_reads_go_to_the_library(ledger: Ledger) -> None:
    recorder = ledger.app.recorder
    customer_id = customer_with_history(ledger)
    assert [e.originator_version for e in recorder.select_events(customer_id, gt=1)] == [2, 3]
    assert [e.originator_version for e in recorder.select_events(customer_id, lte=2)] == [1, 2]
    newest = recorder.select_events(customer_id, desc=True, limit=1)
    assert [e.originator_version for e in newest] == [3]
