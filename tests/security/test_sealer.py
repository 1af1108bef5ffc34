"""Continuous sealing: every committed event is covered by a signed checkpoint within
about a second; one sealer per store signs; a standby takes over when the leader dies."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from eventsourcing.persistence import OperationalError

from security.bootstrap import Ledger, Settings, build_ledger
from security.integrity.sealer import Sealer, has_unsealed, leadership_for
from security.presence import prepare_store
from tests.domain.factories import individual
from tests.support.sample import SampleApp

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]
LAG_LIMIT = 2.0


@pytest.fixture
def ledger(keyed_config: Settings) -> Iterator[Ledger]:
    """Over the file keyring and an HSM (SoftHSM2 signs the checkpoints), on each store."""
    built = build_ledger(keyed_config, app_class=SampleApp)
    yield built
    built.close()


def covered(ledger: Ledger, notification_id: int) -> bool:
    seq = ledger.sealed_log.seq_of_notification(notification_id)
    latest = ledger.sealed_log.latest_checkpoint()
    return seq is not None and latest is not None and latest.size > seq


def wait_until_covered(ledger: Ledger, notification_id: int, limit: float = LAG_LIMIT) -> float:
    """Seconds until the event is under a signed checkpoint (fails past `limit`)."""
    start = time.monotonic()
    while not covered(ledger, notification_id):
        assert time.monotonic() - start < limit, f"event {notification_id} unsealed"
        time.sleep(0.02)
    return time.monotonic() - start


def newest_id(ledger: Ledger) -> int:
    newest = ledger.app.recorder.max_notification_id()
    assert newest is not None
    return int(newest)


def test_a_running_sealer_covers_each_event_and_access_entry_within_a_second(
    ledger: Ledger,
) -> None:
    sealer = Sealer(ledger.config, build=lambda c: build_ledger(c, app_class=SampleApp))
    sealer.start()
    try:
        lags = []
        for i in range(8):
            ledger.app.register(f"Person {i}", f"1390000{i:04d}", f"ID{i}")
            lags.append(wait_until_covered(ledger, newest_id(ledger)))
        ledger.access_log.record(
            actor_id="a-1", role="auditor", purpose="compliance_audit", subject_id="s-1", what="x"
        )
        deadline = time.monotonic() + LAG_LIMIT
        while has_unsealed(ledger.access_sealed):
            assert time.monotonic() < deadline, "the access entry stayed unsealed"
            time.sleep(0.02)
    finally:
        sealer.stop()
    print(f"seal lag: max {max(lags):.3f} s, mean {sum(lags) / len(lags):.3f} s")
    assert max(lags) < LAG_LIMIT
    assert sealer.is_leader is False  # released on stop
    assert ledger.verify().ok and ledger.verify_access_log().ok


def test_two_sealers_in_one_process_only_one_leads(ledger: Ledger) -> None:
    build = lambda c: build_ledger(c, app_class=SampleApp)  # noqa: E731
    first = Sealer(ledger.config, build=build, standby_interval=0.2)
    second = Sealer(ledger.config, build=build, standby_interval=0.2)
    first.start()
    deadline = time.monotonic() + 5
    while not first.is_leader:
        assert time.monotonic() < deadline
        time.sleep(0.02)
    second.start()
    try:
        ledger.app.register("A", "13900000001", "IDA")
        wait_until_covered(ledger, newest_id(ledger))
        time.sleep(0.3)  # the standby retries every 0.2 s: it must still stand by
        assert first.is_leader and not second.is_leader
        first.stop()
        ledger.app.register("B", "13900000002", "IDB")
        wait_until_covered(ledger, newest_id(ledger), limit=3.0)
        assert second.is_leader
    finally:
        first.stop()
        second.stop()


def test_a_wiped_log_stops_the_sealer_signing(ledger: Ledger) -> None:
    ledger.app.register("A", "13900000001", "IDA")
    ledger.seal()
    ledger.app.register("B", "13900000002", "IDB")
    events = (
        "stored_events"
        if ledger.config.store_kind == "sqlite"
        else f'"{ledger.datastore.schema}".ledger_events'
    )
    with ledger.datastore.transaction(commit=True) as cursor:  # wiped behind its back
        cursor.execute(f"DELETE FROM {events}")
        cursor.execute(f"DELETE FROM {ledger.sealed_log.checkpoints_table}")
        cursor.execute(f"DELETE FROM {ledger.sealed_log.leaves_table}")
    sealer = Sealer(ledger.config, build=lambda c: build_ledger(c, app_class=SampleApp))
    sealer.start()
    try:
        deadline = time.monotonic() + 5
        while ledger.sealed_log.origin not in sealer.halted:
            assert time.monotonic() < deadline
            time.sleep(0.02)
        assert "anchored" in sealer.halted[ledger.sealed_log.origin]
    finally:
        sealer.stop()
    assert ledger.sealed_log.latest_checkpoint() is None  # nothing was signed over it


def start_sealer_process(config: Settings, log: Path) -> subprocess.Popen[bytes]:
    env = {**os.environ, "LEDGER_DATA_DIR": str(config.data_dir)}
    env.pop("LEDGER_DATABASE_URL", None)
    if config.database_url:
        env["LEDGER_DATABASE_URL"] = config.database_url
    with log.open("wb") as out:
        return subprocess.Popen(
            [sys.executable, "-m", "web.cli", "sealer"],
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=out,
        )


def test_kill_the_leader_mid_seal_and_the_standby_takes_over(
    ledger_config: Settings, tmp_path: Path
) -> None:
    prepare_store(ledger_config)
    ledger = build_ledger(ledger_config)
    logs = [tmp_path / "sealer-0.log", tmp_path / "sealer-1.log"]
    procs = [start_sealer_process(ledger_config, log) for log in logs]
    stop = threading.Event()
    try:
        deadline = time.monotonic() + 60
        while not any(b"is the leader" in log.read_bytes() for log in logs):
            assert time.monotonic() < deadline, [log.read_text() for log in logs]
            time.sleep(0.05)
        leader = next(i for i, log in enumerate(logs) if b"is the leader" in log.read_bytes())
        standby = 1 - leader
        ledger.access_log.record(
            actor_id="a-1", role="auditor", purpose="compliance_audit", subject_id="s-1", what="x"
        )
        individual(ledger.app)
        written = threading.Thread(target=write_customers, args=(ledger, stop), daemon=True)
        written.start()
        while b"sealed" not in logs[leader].read_bytes():
            assert time.monotonic() < deadline
            time.sleep(0.02)
        assert b"sealed" not in logs[standby].read_bytes()  # only the leader signs
        # kill it while it seals under a steady write load
        time.sleep(0.1)
        procs[leader].send_signal(signal.SIGKILL)
        procs[leader].wait(timeout=10)
        killed_at = time.monotonic()
        while b"is the leader" not in logs[standby].read_bytes():
            assert time.monotonic() - killed_at < 10, logs[standby].read_text()
            time.sleep(0.05)
        stop.set()
        written.join(timeout=10)
        # an event written after the take-over: only the standby can seal it (under load
        # the writer may have written nothing between the kill and the take-over)
        individual(ledger.app)
        wait_until_covered(ledger, newest_id(ledger), limit=5.0)
        while b"sealed" not in logs[standby].read_bytes():  # the standby signs on (its
            # log line follows the commit the coverage check saw)
            assert time.monotonic() - killed_at < 30, logs[standby].read_text()
            time.sleep(0.05)
        assert ledger.verify().ok, ledger.verify().problems
        assert ledger.verify_access_log().ok
    finally:
        stop.set()
        for proc in procs:
            if proc.poll() is None:
                proc.terminate()
                proc.wait(timeout=20)
        ledger.close()
    assert procs[standby].returncode == 0  # SIGTERM: a clean stop


def write_customers(ledger: Ledger, stop: threading.Event) -> None:
    while not stop.is_set():
        # SQLite may answer "database is locked" once while it recovers the WAL of the
        # killed process: a writer retries, as an application would
        with contextlib.suppress(OperationalError):
            individual(ledger.app)


def test_a_stopped_leader_releases_its_lock_at_once_and_the_standby_seals_on(
    ledger: Ledger,
) -> None:
    build = lambda c: build_ledger(c, app_class=SampleApp)  # noqa: E731
    first = Sealer(ledger.config, build=build, standby_interval=0.1)
    second = Sealer(ledger.config, build=build, standby_interval=0.1)
    first.start()
    try:
        deadline = time.monotonic() + 5
        while not first.is_leader:
            assert time.monotonic() < deadline
            time.sleep(0.02)
        second.start()
        ledger.app.register("A", "13900000001", "IDA")
        wait_until_covered(ledger, newest_id(ledger))
        assert not second.is_leader
        second.stop()
        first.stop()  # the process lives on: the lock must be free now, not at exit
        probe = leadership_for(ledger.config)
        try:
            assert probe.try_acquire(), "the stopped leader still holds the sealer lock"
        finally:
            probe.release()
        standby = Sealer(ledger.config, build=build, standby_interval=0.1)
        standby.start()
        try:
            ledger.app.register("B", "13900000002", "IDB")
            wait_until_covered(ledger, newest_id(ledger), limit=3.0)
            assert standby.is_leader
        finally:
            standby.stop()
    finally:
        first.stop()
        second.stop()
    assert ledger.verify().ok


def test_stopping_a_leader_busy_past_the_timeout_still_frees_the_lock(ledger: Ledger) -> None:
    release = threading.Event()

    def slow_build(config: Settings) -> Ledger:
        release.wait(10)  # a seal held up (a database that does not answer)
        return build_ledger(config, app_class=SampleApp)

    busy = Sealer(ledger.config, build=slow_build, standby_interval=0.1)
    busy.start()
    try:
        deadline = time.monotonic() + 5
        while not busy.is_leader:
            assert time.monotonic() < deadline
            time.sleep(0.02)
        busy.stop(timeout=0.3)
        probe = leadership_for(ledger.config)
        try:
            assert probe.try_acquire(), "a stopped sealer kept the lock while busy"
        finally:
            probe.release()
    finally:
        release.set()
        busy.stop()
    assert not busy.is_leader
