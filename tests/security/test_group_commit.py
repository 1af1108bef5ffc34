"""Group commit (security.recorders.GroupCommit, SQLite): inserts made at the same time
by the threads of one process are written in one transaction, each in its own savepoint.
(PostgreSQL's recorder keeps one pipelined transaction per insert: grouping there was
measured slower, docs/api.md "Performance".)

What must still hold for each insert of a group: a version conflict fails that insert
alone (the others commit); its data keys and subject-index pairs are persisted exactly
when its events are; a busy store retries the group without writing anything twice;
and what was written verifies.

A group is made deterministic here: the first insert's write is held open (its leader
inside the transaction) until the next inserts have queued behind it; they are then
written together as the next group.
"""

from __future__ import annotations

import fcntl
import os
import sqlite3
import threading
import time
from collections.abc import Callable, Sequence
from datetime import date
from pathlib import Path
from typing import Any
from uuid import UUID, uuid4

import pytest
from eventsourcing.domain import Aggregate, event
from eventsourcing.persistence import IntegrityError, StoredEvent
from eventsourcing.sqlite import SQLiteDatastore

from domain.actor import Actor
from domain.identity import AlreadyRegistered
from domain.kyc import IdentityDocument
from security.bootstrap import Ledger, Settings, build_ledger
from security.keys.envelope import Envelope
from security.recorders import SecureDeleteConnectionPool, writer_lock_path
from tests.conftest import make_config
from tests.domain.factories import Clock
from tests.support.store import select

pytestmark = pytest.mark.integration


@pytest.fixture
def sqlite_config(tmp_path: Path) -> Settings:
    return make_config("sqlite", tmp_path)


FRONT = Actor("fo-001", "front_office", "branch")


class Note(Aggregate):
    """A stream about `subject_id`."""

    @event("Written")
    def __init__(self, subject_id: UUID, text: str) -> None:
        self.text = text


def stored(ledger: Ledger, subject: UUID) -> StoredEvent:
    """One new stream's first event, encrypted under the subject's (new) key."""
    (created,) = Note(subject_id=subject, text="about the subject").collect_events()
    made: StoredEvent = ledger.app.mapper.to_stored_event(created)
    return made


def key_of(event: StoredEvent) -> str:
    return Envelope.unpack(event.state).key_ref


def pending_refs(ledger: Ledger) -> set[str]:
    return {key.dek_id for key in ledger.keystore.pending()}


def stored_key_refs(ledger: Ledger) -> set[str]:
    rows = select(ledger, f"SELECT dek_id FROM {ledger.keystore.table}")
    return {str(row["dek_id"]) for row in rows}


def events_of(ledger: Ledger, originator_id: UUID | str) -> list[StoredEvent]:
    return list(ledger.app.recorder.select_events(originator_id))


class Grouped:
    """Holds the first insert's write open until `queued` more inserts wait behind it,
    then lets it go: they are written as one group. Records each group's size."""

    def __init__(self, ledger: Ledger, monkeypatch: pytest.MonkeyPatch) -> None:
        self.recorder = ledger.app.recorder
        self.sizes: list[int] = []
        self.entered = threading.Event()
        self.release = threading.Event()
        self.outcomes: dict[str, Any] = {}
        original_insert = self.recorder._insert_events
        original_group = self.recorder._write_group

        def held_insert(cursor: Any, events: Sequence[StoredEvent], **kwargs: Any) -> Any:
            if not self.entered.is_set():
                self.entered.set()
                assert self.release.wait(20)
            return original_insert(cursor, events, **kwargs)

        def counted_group(group: list[Any]) -> None:
            self.sizes.append(len(group))
            original_group(group)

        monkeypatch.setattr(self.recorder, "_insert_events", held_insert)
        monkeypatch.setattr(self.recorder, "_write_group", counted_group)

    def run(self, first: Callable[[], Any], others: dict[str, Callable[[], Any]]) -> None:
        def call(name: str, operation: Callable[[], Any]) -> None:
            try:
                self.outcomes[name] = operation()
            except Exception as exc:
                self.outcomes[name] = exc

        leader = threading.Thread(target=call, args=("first", first))
        leader.start()
        assert self.entered.wait(20)
        threads = [threading.Thread(target=call, args=item) for item in others.items()]
        for thread in threads:
            thread.start()
        deadline = time.monotonic() + 20
        while len(self.recorder.group_commit._queue) < len(others):
            assert time.monotonic() < deadline, "the inserts did not queue"
            time.sleep(0.005)
        self.release.set()
        for thread in [leader, *threads]:
            thread.join(30)
            assert not thread.is_alive()


def test_a_conflicting_insert_in_a_group_fails_alone_and_the_others_commit_with_their_keys(
    sqlite_config: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    ledger = build_ledger(sqlite_config, clock=Clock())
    try:
        recorder = ledger.app.recorder
        taken = stored(ledger, uuid4())
        recorder.insert_events([taken])
        first, one, two = (stored(ledger, uuid4()) for _ in range(3))
        clashes: list[StoredEvent] = []

        def insert_clash() -> Any:
            # made while the first write is held: its new subject's key is pending only
            # (a key made earlier may be stored by any write, as one without events)
            made = stored(ledger, uuid4())
            clashes.append(  # the same stream and version as `taken`: a version conflict
                StoredEvent(taken.originator_id, taken.originator_version, made.topic, made.state)
            )
            return recorder.insert_events(clashes)

        grouped = Grouped(ledger, monkeypatch)
        grouped.run(
            lambda: recorder.insert_events([first]),
            {
                "one": lambda: recorder.insert_events([one]),
                "clash": insert_clash,
                "two": lambda: recorder.insert_events([two]),
            },
        )
        (clash,) = clashes
        monkeypatch.undo()
        assert grouped.sizes == [1, 3]  # the three were written as one group
        assert isinstance(grouped.outcomes["clash"], IntegrityError)
        for name in ("first", "one", "two"):
            ids = grouped.outcomes[name]
            assert isinstance(ids, list) and len(ids) == 1, (name, ids)
        assert len({grouped.outcomes[n][0] for n in ("first", "one", "two")}) == 3
        # the conflict wrote nothing: the stream holds the first writer's event only
        assert [e.state for e in events_of(ledger, taken.originator_id)] == [taken.state]
        for event_ in (first, one, two):
            assert [e.state for e in events_of(ledger, event_.originator_id)] == [event_.state]
        # the committed inserts' keys are stored and no longer pending; the conflict's
        # key was not stored with it and is still pending (stored with a later write)
        stored_refs = stored_key_refs(ledger)
        assert {key_of(first), key_of(one), key_of(two)} <= stored_refs
        assert not {key_of(first), key_of(one), key_of(two)} & pending_refs(ledger)
        assert key_of(clash) not in stored_refs
        assert key_of(clash) in pending_refs(ledger)
        # and their events decrypt with the stored keys alone
        ledger.keystore.drop_cache()
        for event_ in (one, two):
            note = ledger.app.mapper.to_domain_event(events_of(ledger, event_.originator_id)[0])
            assert note.text == "about the subject"
        # the subject index holds the committed streams, not the conflict's pair
        assert (key_of(one), str(one.originator_id)) in recorder.indexed
        assert (key_of(clash), str(clash.originator_id)) not in recorder.indexed
    finally:
        ledger.close()


def insert_one(recorder: Any, event_: StoredEvent) -> Callable[[], Any]:
    return lambda: recorder.insert_events([event_])


def test_a_busy_store_during_a_group_retries_the_group_and_writes_each_insert_once(
    sqlite_config: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    ledger = build_ledger(sqlite_config, clock=Clock())
    try:
        recorder = ledger.app.recorder
        first, one, two, three = (stored(ledger, uuid4()) for _ in range(4))
        grouped = Grouped(ledger, monkeypatch)
        held = recorder._insert_events
        busy: list[int] = []

        def busy_once_in_the_group(cursor: Any, events: Sequence[StoredEvent], **kw: Any) -> Any:
            if events and events[0] is two and not busy:
                busy.append(1)
                raise sqlite3.OperationalError("database is locked")
            return held(cursor, events, **kw)

        monkeypatch.setattr(recorder, "_insert_events", busy_once_in_the_group)
        grouped.run(
            lambda: recorder.insert_events([first]),
            {
                name: insert_one(recorder, e)
                for name, e in (("one", one), ("two", two), ("three", three))
            },
        )
        monkeypatch.undo()
        assert busy == [1]
        assert grouped.sizes[:2] == [1, 3]
        for name in ("first", "one", "two", "three"):
            assert isinstance(grouped.outcomes[name], list), (name, grouped.outcomes[name])
        for event_ in (first, one, two, three):
            assert [e.state for e in events_of(ledger, event_.originator_id)] == [event_.state]
        assert {key_of(e) for e in (first, one, two, three)} <= stored_key_refs(ledger)
        assert not pending_refs(ledger) & {key_of(e) for e in (first, one, two, three)}
    finally:
        ledger.close()


PROFILE = {"name": "王芳", "date_of_birth": date(1985, 6, 15), "branch": "BJ-01"}


def register(ledger: Ledger, number: str) -> Callable[[], UUID]:
    document = IdentityDocument("resident_id", number, date(2031, 1, 1))
    return lambda: ledger.app.register_customer("individual", PROFILE, FRONT, id_document=document)


def test_concurrent_registrations_one_of_a_taken_number_it_alone_is_refused_the_rest_verify(
    sqlite_config: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Through the application: registrations written as one group; the one that lost
    the race for an identity number (read it free, found it taken at the write) is
    AlreadyRegistered (the API's 409) naming the holder; the others of its group are
    recorded, and the whole log verifies."""
    ledger = build_ledger(sqlite_config, clock=Clock())
    try:
        grouped = Grouped(ledger, monkeypatch)
        grouped.run(  # the first claims the number the third registration races for
            register(ledger, "110101198506150011"),
            {
                "a": register(ledger, "110101198506150033"),
                "taken": register(ledger, "110101198506150011"),
                "b": register(ledger, "110101198506150044"),
            },
        )
        monkeypatch.undo()
        assert grouped.sizes == [1, 3]
        refused = grouped.outcomes["taken"]
        assert isinstance(refused, AlreadyRegistered), refused
        assert refused.customer_id == grouped.outcomes["first"]
        for name in ("first", "a", "b"):
            customer_id = grouped.outcomes[name]
            assert isinstance(customer_id, UUID), (name, customer_id)
            assert ledger.app.get_customer(customer_id).name == "王芳"
        ledger.seal()
        report = ledger.verify_all(consult_witnesses=False)
        assert report.ok, [problem.message for problem in report.problems]
    finally:
        ledger.close()


# --- the SQLite writer lock file (security.recorders.WriterFileLock) ------------------


def test_the_writer_lock_file_sits_beside_a_file_database_and_none_for_memory() -> None:
    assert writer_lock_path("/data/ledger.db") == Path("/data/ledger.db-writer.lock")
    assert writer_lock_path("file:/data/my%20ledger.db?mode=rwc") == Path(
        "/data/my ledger.db-writer.lock"
    )
    assert writer_lock_path(":memory:") is None
    assert writer_lock_path("file:x?mode=memory&cache=shared") is None


def held_elsewhere(path: Path) -> bool:
    """Whether another open file holds the flock on `path`."""
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    finally:
        os.close(fd)
    return False


def test_a_sqlite_write_holds_the_writer_lock_and_another_process_writer_waits_for_it(
    tmp_path: Path,
) -> None:
    config = make_config("sqlite", tmp_path)
    one = build_ledger(config, clock=Clock())
    two = build_ledger(config, clock=Clock())  # another process's ledger, in all but pid
    try:
        lock = writer_lock_path(str(config.sqlite_path))
        assert lock is not None
        event_ = stored(two, uuid4())
        done = threading.Event()
        with one.datastore.transaction(commit=True) as cursor:
            cursor.execute("SELECT 1")
            assert held_elsewhere(lock)  # taken before BEGIN IMMEDIATE

            def write() -> None:
                two.app.recorder.insert_events([event_])
                done.set()

            writer = threading.Thread(target=write)
            writer.start()
            assert not done.wait(0.3)  # the other writer waits, without an error
        writer.join(10)
        assert done.is_set()
        assert not held_elsewhere(lock)  # released after the commit
        assert [e.state for e in events_of(one, event_.originator_id)] == [event_.state]
    finally:
        one.close()
        two.close()


def test_a_writer_lock_held_past_its_timeout_is_gone_around_the_store_still_writes(
    tmp_path: Path,
) -> None:
    """The lock is an optimisation: a writer that cannot take it in `timeout` (a stuck
    holder that holds no database lock) goes on to BEGIN IMMEDIATE and writes."""
    path = tmp_path / "db.sqlite"
    pool = SecureDeleteConnectionPool(db_name=str(path), lock_timeout=1)
    datastore = SQLiteDatastore(str(path))
    datastore.pool = pool
    lock = writer_lock_path(str(path))
    assert lock is not None
    stranger = os.open(lock, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(stranger, fcntl.LOCK_EX)
        with datastore.transaction(commit=True) as cursor:
            cursor.execute("CREATE TABLE t (x INTEGER)")
            cursor.execute("INSERT INTO t VALUES (1)")
        with datastore.transaction(commit=False) as cursor:
            cursor.execute("SELECT x FROM t")
            assert [row["x"] for row in cursor.fetchall()] == [1]
    finally:
        os.close(stranger)
        datastore.close()
