"""PostgreSQL: a commit whose answer was lost (the session cut between COMMIT and its
reply) is retried; the retry meets its own rows. After such a cut, byte-identical rows
are recognised as that commit, so the command answers as done, not as a 412 conflict;
without a cut, or with any other writer's rows, a duplicate stays an IntegrityError."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import psycopg
import pytest
from eventsourcing.persistence import IntegrityError, OperationalError

from security import recorders
from security.bootstrap import Ledger
from tests.support.sample import sample_ledger_on_postgres

pytestmark = [pytest.mark.integration, pytest.mark.postgres]


@pytest.fixture
def ledger(tmp_path: Path, pg_schema: str) -> Iterator[Ledger]:
    yield from sample_ledger_on_postgres(tmp_path, pg_schema)


def connection_cut_once(monkeypatch: pytest.MonkeyPatch, *, after_commit: bool) -> list[str]:
    """The first insert's connection is cut, after its commit or before it."""
    real = recorders._INSERT_ONCE
    calls: list[str] = []

    def insert(*args: Any, **kwargs: Any) -> Any:
        first = not calls
        calls.append("attempt")
        result = real(*args, **kwargs) if after_commit or not first else None
        if first:
            try:
                raise psycopg.OperationalError("server closed the connection unexpectedly")
            except psycopg.OperationalError as exc:
                raise OperationalError(str(exc)) from exc
        return result

    monkeypatch.setattr(recorders, "_INSERT_ONCE", insert)
    monkeypatch.setattr(recorders, "INSERT_RETRY_WAIT", 0.0)
    return calls


def test_a_retry_after_a_cut_that_meets_its_own_commit_answers_as_done(
    ledger: Ledger, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls = connection_cut_once(monkeypatch, after_commit=True)
    person = ledger.app.register("Writer", "13800000000", "W1")  # no conflict raised
    stored = list(ledger.app.recorder.select_events(person))
    assert len(stored) == 1
    assert ledger.app.repository.get(person).version == 1
    assert calls == ["attempt", "attempt"]


def test_a_duplicate_without_a_cut_or_from_another_writer_stays_a_conflict(
    ledger: Ledger, monkeypatch: pytest.MonkeyPatch
) -> None:
    person = ledger.app.register("Writer", "13800000000", "W1")
    recorder = ledger.app.recorder
    stored = list(recorder.select_events(person))
    with pytest.raises(IntegrityError):
        recorder.insert_events(stored)  # the recorder's contract: a duplicate is refused
    calls = connection_cut_once(monkeypatch, after_commit=False)
    # another writer's row: the last byte flipped (setting it to 0 left the row as it
    # was whenever the tag's last byte was already 0, 1 run in 256)
    state = stored[0].state
    forged = [replace(stored[0], state=state[:-1] + bytes([state[-1] ^ 0xFF]))]
    with pytest.raises(IntegrityError):
        recorder.insert_events(forged)  # after a cut, another writer's row: a conflict
    assert calls == ["attempt", "attempt"]
    assert len(list(recorder.select_events(person))) == 1
