"""Fixtures for the scheduler tests: a job runner over a real store, on a hand-moved clock."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from scheduler.config import SchedulerSettings, load_scheduler_settings
from scheduler.registry import DEFAULT_CRONS
from scheduler.runner import JobRunner, open_runner
from security.bootstrap import Settings
from tests.conftest import make_config
from tests.domain.factories import Clock

START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)  # a Monday


def settings(**env: str) -> SchedulerSettings:
    """Scheduler settings from defaults and exactly `env` (never the process environment)."""
    return load_scheduler_settings(DEFAULT_CRONS, env=dict(env))


def events(runner: JobRunner) -> int:
    """How many events the ledger holds."""
    return int(runner.ledger.app.recorder.max_notification_id() or 0)


def open_test_runner(config: Settings, clock: Clock, **env: str) -> JobRunner:
    return open_runner(config, settings(**env), base_clock=clock)


@pytest.fixture
def clock() -> Clock:
    return Clock(START)


@pytest.fixture
def runner(ledger_config: Settings, clock: Clock) -> Iterator[JobRunner]:
    """A runner on SQLite and on PostgreSQL (the store-parametrised `ledger_config`)."""
    built = open_test_runner(ledger_config, clock)
    yield built
    built.close()


@pytest.fixture
def sqlite_runner(tmp_path: Path, clock: Clock) -> Iterator[JobRunner]:
    """A runner on SQLite only, for jobs whose behaviour does not depend on the store."""
    built = open_test_runner(make_config("sqlite", tmp_path), clock)
    yield built
    built.close()


@pytest.fixture
def app(sqlite_runner: JobRunner) -> Any:
    return sqlite_runner.ledger.app
