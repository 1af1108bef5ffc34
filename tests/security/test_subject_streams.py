"""The store's index of a subject's streams: written with the events, read by one join."""

from __future__ import annotations

from datetime import date
from typing import Any
from uuid import UUID, uuid4

import pytest
from eventsourcing.domain import Aggregate, event
from eventsourcing.persistence import IntegrityError

from domain.actor import Actor
from domain.ids import consent_id, kyc_file_id
from security import recorders, subject_streams
from security.bootstrap import Ledger, Settings, build_ledger
from security.keys.envelope import Envelope
from security.subject_streams import TABLE, stream_pairs
from tests.domain.factories import Clock, grant_marketing
from tests.support.store import run_sql, select

pytestmark = pytest.mark.integration

FRONT = Actor("fo-001", "front_office", "branch")
PROFILE = {
    "name": "王芳",
    "date_of_birth": date(1985, 6, 15),
    "phone": "13812345678",
    "branch": "BJ-01",
    "relationship_manager": "rm-007",
}


def test_the_index_names_every_stream_of_the_subject_and_no_other(ledger_config: Settings) -> None:
    ledger = build_ledger(ledger_config, clock=Clock())
    try:
        app = ledger.app
        mine = app.register_customer("individual", PROFILE, FRONT, status="prospect")
        theirs = app.register_customer(
            "individual", {**PROFILE, "phone": "13700001111"}, FRONT, status="prospect"
        )
        grant_marketing(app, mine)
        grant_marketing(app, theirs)
        case_id = app.receive_feedback(mine, "complaint", "fees", "Charged twice", FRONT)
        streams = set(app.subject_streams.streams_of(mine))
        assert streams == {mine, consent_id(mine, "marketing"), case_id}
        assert kyc_file_id(mine) not in streams  # a prospect has no KYC file
        positions = app.subject_streams.positions(sorted(streams))
        assert {stream for stream, _ in positions} == streams
        ids = [p.notification_id for p in positions.values()]
        assert len(set(ids)) == len(ids)
        assert all(p.seq is None for p in positions.values())
        ledger.seal()
        sealed = app.subject_streams.positions([case_id])
        assert [p.seq for p in sealed.values()] == [
            ledger.sealed_log.seq_of_notification(p.notification_id) for p in sealed.values()
        ]
    finally:
        ledger.close()


def test_a_store_written_before_the_index_is_indexed_once_on_start(
    ledger_config: Settings,
) -> None:
    clock = Clock()
    ledger = build_ledger(ledger_config, clock=clock)
    try:
        customer_id = ledger.app.register_customer("individual", PROFILE, FRONT, status="prospect")
        grant_marketing(ledger.app, customer_id)
        table = ledger.keystore.dialect.table(TABLE)
        run_sql(ledger, f"DELETE FROM {table}")
        assert ledger.app.subject_streams.streams_of(customer_id) == []
    finally:
        ledger.close()
    again = build_ledger(ledger_config, clock=clock)
    try:
        found = set(again.app.subject_streams.streams_of(customer_id))
        assert found == {customer_id, consent_id(customer_id, "marketing")}
        assert select(again, f"SELECT COUNT(*) AS n FROM {table}")[0]["n"] >= 2
    finally:
        again.close()


# --- the recorder's cache of pairs already indexed (security.subject_streams.IndexedPairs)


class Note(Aggregate):
    """A stream about `subject_id` (its created event names the subject)."""

    @event("Written")
    def __init__(self, subject_id: UUID, text: str) -> None:
        self.text = text


def stored(ledger: Ledger, subject: UUID) -> Any:
    """One new stream's first event, encrypted under the subject's key."""
    (created,) = Note(subject_id=subject, text="about the subject").collect_events()
    return ledger.app.mapper.to_stored_event(created)


def indexed_streams(ledger: Ledger) -> set[str]:
    table = ledger.keystore.dialect.table(TABLE)
    return {str(row["originator_id"]) for row in select(ledger, f"SELECT * FROM {table}")}


def test_a_write_remembers_its_pairs_and_the_next_save_of_the_stream_inserts_none(
    ledger_config: Settings,
) -> None:
    ledger = build_ledger(ledger_config, clock=Clock())
    try:
        subject = uuid4()
        event = stored(ledger, subject)
        recorder = ledger.app.recorder
        recorder.insert_events([event])
        key_ref = Envelope.unpack(event.state).key_ref
        assert (key_ref, str(event.originator_id)) in recorder.indexed
        assert str(event.originator_id) in indexed_streams(ledger)
        assert recorder.indexed.missing(stream_pairs([event])) == []
    finally:
        ledger.close()


def test_a_rolled_back_insert_leaves_no_remembered_pair_and_the_next_write_indexes_it(
    ledger_config: Settings,
) -> None:
    ledger = build_ledger(ledger_config, clock=Clock())
    try:
        subject = uuid4()
        recorder = ledger.app.recorder
        first = stored(ledger, subject)
        recorder.insert_events([first])
        second = stored(ledger, subject)
        with pytest.raises(IntegrityError):  # the batch conflicts: all of it rolls back
            recorder.insert_events([second, first])
        pair = (Envelope.unpack(second.state).key_ref, str(second.originator_id))
        assert pair not in recorder.indexed
        assert str(second.originator_id) not in indexed_streams(ledger)
        recorder.insert_events([second])
        assert pair in recorder.indexed
        assert set(ledger.app.subject_streams.streams_of(subject)) == {
            first.originator_id,
            second.originator_id,
        }
    finally:
        ledger.close()


def test_a_failure_after_the_index_insert_rolls_it_back_and_remembers_nothing(
    ledger_config: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    ledger = build_ledger(ledger_config, clock=Clock())
    try:
        subject = uuid4()
        recorder = ledger.app.recorder
        event = stored(ledger, subject)
        real = subject_streams.insert_pairs
        calls: list[int] = []

        def insert_then_fail(dialect: Any, cursor: Any, pairs: Any) -> None:
            real(dialect, cursor, pairs)
            calls.append(len(pairs))
            raise RuntimeError("the store failed after the index insert")

        monkeypatch.setattr(recorders, "insert_pairs", insert_then_fail)
        with pytest.raises(RuntimeError):
            recorder.insert_events([event])
        monkeypatch.undo()
        assert calls == [1]  # the pair was inserted, then the transaction rolled back
        assert len(recorder.indexed) == 0
        assert indexed_streams(ledger) == set()
        recorder.insert_events([event])
        assert ledger.app.subject_streams.streams_of(subject) == [event.originator_id]
    finally:
        ledger.close()


def test_a_second_process_with_its_own_cache_still_indexes_its_streams(
    ledger_config: Settings,
) -> None:
    one = build_ledger(ledger_config, clock=Clock())
    two = build_ledger(ledger_config, clock=Clock())
    try:
        subject = uuid4()
        mine = stored(one, subject)
        one.app.recorder.insert_events([mine])
        theirs = stored(two, subject)  # the same subject's key, found in the store
        assert Envelope.unpack(theirs.state).key_ref == Envelope.unpack(mine.state).key_ref
        assert len(two.app.recorder.indexed) == 0
        two.app.recorder.insert_events([theirs])
        expected = {mine.originator_id, theirs.originator_id}
        assert set(one.app.subject_streams.streams_of(subject)) == expected
        assert set(two.app.subject_streams.streams_of(subject)) == expected
        # the first process, its pair remembered, writes a third stream: indexed too
        third = stored(one, subject)
        one.app.recorder.insert_events([third])
        assert set(two.app.subject_streams.streams_of(subject)) == {*expected, third.originator_id}
    finally:
        one.close()
        two.close()
