"""Concurrent writers, stale versions, and a kill -9 in the middle of a write load."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from uuid import UUID

import pytest
from eventsourcing.persistence import IntegrityError

from security.bootstrap import Ledger, Settings, build_ledger
from tests.support.sample import Person, SampleApp

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def ledger(ledger_config: Settings) -> Iterator[Ledger]:
    built = build_ledger(ledger_config, app_class=SampleApp)
    yield built
    built.close()


def test_two_writers_with_a_stale_version_one_wins_one_gets_the_conflict(ledger: Ledger) -> None:
    person_id = ledger.app.register("Stale Test")
    other = build_ledger(ledger.config, app_class=SampleApp)
    try:
        mine: Person = ledger.app.repository.get(person_id)
        theirs: Person = other.app.repository.get(person_id)
        mine.rename("Mine")
        theirs.rename("Theirs")
        ledger.app.save(mine)
        with pytest.raises(IntegrityError):
            other.app.save(theirs)
    finally:
        other.close()
    fresh: Person = ledger.app.repository.get(person_id)
    assert (fresh.name, fresh.version) == ("Mine", 2)


def test_four_threads_of_500_events_are_all_present_and_sealed_in_order(ledger: Ledger) -> None:
    ids: list[list[UUID]] = [[] for _ in range(4)]
    errors: list[BaseException] = []

    def work(n: int) -> None:
        try:
            for i in range(500):
                ids[n].append(ledger.app.register(f"T{n}-{i}"))
        except BaseException as exc:  # surfaced below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert sum(len(chunk) for chunk in ids) == 2000
    stored = ledger.seal()
    assert stored is not None and stored.size == 2000
    leaves = list(ledger.sealed_log.leaf_rows())
    assert [leaf.seq for leaf in leaves] == list(range(2000))
    nids = [leaf.notification_id for leaf in leaves]
    assert nids == sorted(nids)
    originators = {
        n.originator_id for n in ledger.app.recorder.select_notifications(start=None, limit=5000)
    }
    assert originators == {i for chunk in ids for i in chunk}
    assert ledger.verify().ok


def test_kill_minus_9_mid_write_loses_no_acknowledged_write(ledger: Ledger) -> None:
    url = ledger.config.database_url or ""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen(
        [sys.executable, "-m", "tests.support.writer", str(ledger.config.data_dir), url],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        env=env,
        cwd=ROOT,
        text=True,
    )
    acknowledged: list[str] = []
    assert proc.stdout is not None
    deadline = time.monotonic() + 60
    while len(acknowledged) < 300 and time.monotonic() < deadline:
        line = proc.stdout.readline()
        if not line:
            break
        acknowledged.append(line.strip())
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    acknowledged.extend(line.strip() for line in proc.stdout.read().splitlines() if line.strip())
    assert len(acknowledged) >= 300

    restarted = build_ledger(ledger.config, app_class=SampleApp)
    try:
        for person_id in acknowledged:
            person: Person = restarted.app.repository.get(UUID(person_id))
            assert person.name.startswith("Writer ")
        # no torn event: every stored row decrypts and authenticates
        for note in restarted.app.recorder.select_notifications(start=None, limit=100_000):
            restarted.app.mapper.to_domain_event(note)
        restarted.seal()
        report = restarted.verify()
        assert report.ok, report.problems
        assert report.sealed >= len(acknowledged)
    finally:
        restarted.close()


@pytest.mark.postgres
def test_processes_starting_at_once_on_a_new_postgres_schema_all_come_up(
    pg_schema: str, tmp_path: Path
) -> None:
    """Without the DDL lock, concurrent CREATE TYPE/TABLE collide in pg_type."""
    from tests.conftest import make_config

    config = make_config("postgres", tmp_path, pg_schema)
    errors: list[str] = []

    def start() -> None:
        try:
            build_ledger(config, app_class=SampleApp).close()
        except Exception as exc:  # surfaced below
            errors.append(type(exc).__name__)

    threads = [threading.Thread(target=start) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
