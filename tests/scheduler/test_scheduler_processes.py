"""Real `ledger scheduler` processes: two against one PostgreSQL store record each period once,
and SIGTERM stops a scheduler cleanly."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from domain.ids import job_run_id
from domain.jobs import JobRunCompleted, JobRunStarted
from scheduler.periods import HOURLY
from security.bootstrap import Settings, build_ledger
from tests.conftest import make_config
from tests.domain.factories import COMPLIANCE, FRONT, Clock, grant_marketing, individual
from tests.scheduler.conftest import open_test_runner

pytestmark = [pytest.mark.e2e, pytest.mark.postgres]

ROOT = Path(__file__).resolve().parents[2]
DAY = datetime(2026, 4, 1, tzinfo=UTC)  # a month's and a quarter's first day: every job fires


def process_env(config: Settings, **extra: str) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("LEDGER_JOB_", "LEDGER_SCHEDULER_", "LEDGER_RULE"))
    }
    env.pop("LEDGER_KEYRING", None)
    env.pop("LEDGER_KEYRING_FILE", None)
    env.update(LEDGER_DATA_DIR=str(config.data_dir), LEDGER_DATABASE_URL=str(config.database_url))
    env.update(extra)
    return env


def seed(config: Settings) -> None:
    """A few customers with something for every job to do (and the shared keyring)."""
    clock = Clock(datetime(2026, 1, 5, 9, tzinfo=UTC))
    ledger = build_ledger(config, clock=clock)
    try:
        app = ledger.app
        people = [individual(app, date_of_birth=datetime(1966, 4, 1).date()) for _ in range(3)]
        app.assign_risk_rating(people[0], "high", COMPLIANCE)
        grant_marketing(app, people[1], purpose="greetings")
        clock.set(datetime(2026, 3, 20, 9, tzinfo=UTC))
        app.receive_feedback(people[2], "complaint", "service", "Queue", FRONT)
        ledger.seal()
    finally:
        ledger.close()


def test_two_scheduler_processes_replaying_the_same_day_record_each_period_once(
    pg_schema: str, tmp_path: Path
) -> None:
    config = make_config("postgres", tmp_path, pg_schema)
    seed(config)
    args = [sys.executable, "-m", "web.cli", "scheduler"]
    args += [
        "--replay-from",
        DAY.isoformat(),
        "--replay-until",
        (DAY + timedelta(days=1)).isoformat(),
    ]
    procs = [
        subprocess.Popen(
            args,
            cwd=ROOT,
            env=process_env(config, LEDGER_SCHEDULER_ID=f"scheduler-{name}"),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for name in ("a", "b")
    ]
    outputs = [p.communicate(timeout=150) for p in procs]
    completed = []
    for proc, (out, err) in zip(procs, outputs, strict=True):
        assert proc.returncode == 0, err[-3000:]
        found = re.search(r"(\d+) completed", out)
        completed.append(int(found.group(1)) if found else 0)

    runner = open_test_runner(config, Clock(datetime(2026, 11, 1, tzinfo=UTC)))
    try:
        fires = runner.fire_times(DAY, DAY + timedelta(days=1))
        periods = {(spec.name, spec.cadence.key(at)) for at, spec in fires}
        assert len(periods) == len(fires) == 96 + 24 + 7 + 3  # SLA, security, dailies, rest
        assert sum(completed) == len(periods)  # no period completed by both processes
        app = runner.ledger.app
        starters: set[str] = set()
        for name, period in periods:
            run_events = app.events_of(job_run_id(name, period))
            assert [type(e) for e in run_events] == [JobRunStarted, JobRunCompleted], (name, period)
            starters.add(run_events[0].actor_id)
        assert starters <= {"scheduler-a", "scheduler-b"}
        assert app.get_evaluation("2026-03", "overall").evaluations == 1
        assert app.get_evaluation("2026Q1", "overall").evaluations == 1
        assert runner.ledger.verify().ok
    finally:
        runner.close()


def wait_for(predicate: Any, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.2)
    return False


def test_live_schedulers_run_on_their_triggers_and_stop_cleanly_on_sigterm(
    pg_schema: str, tmp_path: Path
) -> None:
    config = make_config("postgres", tmp_path, pg_schema)
    seed(config)
    only_security = {
        f"LEDGER_JOB_{spec_name.upper()}_ENABLED": "false"
        for spec_name in (
            "reverification",
            "performance_monthly",
            "performance_quarterly",
            "grading",
            "value_churn",
            "complaint_sla",
            "relationship_care",
            "surveys",
            "holiday_greetings",
            "retention",
        )
    }
    procs = [
        subprocess.Popen(
            [sys.executable, "-m", "web.cli", "scheduler"],
            cwd=ROOT,
            env=process_env(
                config,
                LEDGER_SCHEDULER_ID=f"live-{name}",
                LEDGER_JOB_SECURITY_CHECKS_CRON="* * * * * *",  # every second
                **only_security,
            ),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for name in ("a", "b")
    ]
    ledger = build_ledger(config)
    try:
        started = HOURLY.key(datetime.now(UTC))
        periods: list[str] = []

        def recorded() -> bool:
            # the hour may turn while the processes start: either hour counts
            for key in dict.fromkeys((started, HOURLY.key(datetime.now(UTC)))):
                if ledger.app.get_job_run("security_checks", key) is not None:
                    periods.append(key)
                    return True
            return False

        ran = wait_for(recorded, 60)
        period = periods[0] if periods else started
        time.sleep(3)  # both keep firing every second: the hour is already recorded
        for proc in procs:
            proc.send_signal(signal.SIGTERM)
        outputs = [p.communicate(timeout=30) for p in procs]
        assert ran, outputs[0][1][-2000:]
        for proc, (_, err) in zip(procs, outputs, strict=True):
            assert proc.returncode == 0, err[-2000:]
            assert "received SIGTERM" in err and "stopped" in err
        logs = "".join(err for _, err in outputs)
        assert "skipped, already completed" in logs
        first = ledger.app.get_job_run("security_checks", period)
        assert (first.state, first.attempt) == ("completed", 1)
        later = ledger.app.get_job_run("security_checks", HOURLY.key(datetime.now(UTC)))
        if later is not None:  # the test crossed an hour: that hour was claimed once too
            assert later.attempt == 1
    finally:
        ledger.close()
