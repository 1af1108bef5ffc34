"""`ledger serve` under load and faults, end to end (issue 12):

- 32 concurrent clients of mixed writes on each store (both at once): no 5xx; every
  2xx answer's event is in the store; `ledger verify` passes afterwards;
- PostgreSQL sessions of the app terminated mid-load: no 500 (503 at most), later
  writes succeed, nothing half-written;
- kill -9 of a gunicorn worker mid-write: no torn events, the master starts another
  worker, writes continue, the ledger verifies.

`LEDGER_LOAD_SECONDS` (default 30) is how long the mixed load runs; the fault tests
run a quarter of it (at least 8 s). Measured on a 2-core machine shared with other
work (load average 13): 90 s, 45 s and 35 s for the three tests with the default.
"""

from __future__ import annotations

import os
import signal
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import psycopg
import pytest

from security.bootstrap import Settings, build_ledger
from tests.conftest import PG_DSN, make_config
from tests.support.serving import (
    LoadResult,
    MixedWrites,
    Server,
    environment,
    ledger_cli,
    missing_events,
    serving,
    unreadable_aggregates,
)

pytestmark = pytest.mark.e2e

LOAD_SECONDS = float(os.environ.get("LEDGER_LOAD_SECONDS", "30"))
FAULT_SECONDS = max(8.0, LOAD_SECONDS / 4)
ACCEPTED = {200, 201, 409, 412}  # a conflict of If-Match or of state is the client's answer


def token(env: dict[str, str]) -> str:
    issued = ledger_cli(
        env, "token", "issue", "--role", "front_office", "--subject", "fo-load", "--branch", "BJ-01"
    )
    assert issued.returncode == 0, issued.stderr
    return issued.stdout.strip()


def prepared(config: Settings, **extra: str) -> dict[str, str]:
    """A ledger initialised at `config`, and the environment pointing at it."""
    env = environment(config.data_dir, config.database_url, **extra)
    initialised = ledger_cli(env, "init")
    assert initialised.returncode == 0, initialised.stderr
    return env


def assert_nothing_lost(config: Settings, env: dict[str, str], result: LoadResult) -> None:
    """Every 2xx's event stored and readable, and `ledger verify` passes."""
    ledger = build_ledger(config)
    try:
        assert not missing_events(ledger, result.written)
        assert not unreadable_aggregates(ledger, result.written)
    finally:
        ledger.close()
    verified = ledger_cli(env, "verify")
    assert verified.returncode == 0, verified.stdout + verified.stderr


def summary(name: str, result: LoadResult) -> str:
    kinds = dict(sorted(result.statuses.items()))
    return f"{name}: statuses {kinds}, dropped {dict(result.dropped)}, 2xx {len(result.written)}"


@pytest.fixture
def pg_config(tmp_path: Path, pg_schema: str) -> Settings:
    return make_config("postgres", tmp_path / "pg", pg_schema)


def test_32_clients_of_mixed_writes_on_each_store_see_no_5xx_and_lose_nothing(
    tmp_path: Path, pg_config: Settings
) -> None:
    configs = {"sqlite": make_config("sqlite", tmp_path / "sqlite"), "postgres": pg_config}
    envs = {name: prepared(config) for name, config in configs.items()}

    faults: dict[str, list[str]] = {}

    def load(name: str) -> LoadResult:
        with serving(envs[name]) as server:
            result = MixedWrites(server, token(envs[name]), clients=32).run(LOAD_SECONDS)
            faults[name] = server.log_lines("store ") + server.log_lines("unhandled ")
            return result

    # both stores at once, so the suite pays the duration once
    with ThreadPoolExecutor(2) as pool:
        results = dict(zip(configs, pool.map(load, configs), strict=True))
    for name, result in results.items():
        print(summary(name, result))
        statuses = result.by_status()
        assert not result.server_errors, (name, result.server_errors[:5], faults[name][:10])
        assert set(statuses) <= ACCEPTED, (name, statuses)
        assert not result.dropped, (name, result.dropped)
        kinds = {kind for (kind, status) in result.statuses if 200 <= status < 300}
        assert kinds >= {"register", "patch", "consent", "complaint", "transition"}, kinds
        assert_nothing_lost(configs[name], envs[name], result)


def terminate_sessions(application_name: str) -> int:
    """pg_terminate_backend on this test's server's sessions only (by application_name)."""
    with psycopg.connect(PG_DSN, autocommit=True) as conn:
        rows = conn.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE application_name = %s AND pid <> pg_backend_pid()",
            (application_name,),
        ).fetchall()
    return sum(1 for (done,) in rows if done)


def test_postgres_sessions_terminated_mid_load_give_503_at_most_and_writes_resume(
    pg_config: Settings, pg_schema: str
) -> None:
    application_name = f"ledger-e2e-{pg_schema}"
    env = prepared(pg_config, PGAPPNAME=application_name)
    cuts: list[tuple[float, int]] = []

    def cut(elapsed: float) -> None:
        due = [FAULT_SECONDS * 0.25, FAULT_SECONDS * 0.5]
        if len(cuts) < len(due) and elapsed >= due[len(cuts)]:
            cuts.append((elapsed, terminate_sessions(application_name)))

    with serving(env) as server:
        result = MixedWrites(server, token(env), clients=16, seed=7).run(FAULT_SECONDS, cut)
        ready = server.request("GET", "/readyz")
    print(summary("postgres cut", result), "cuts (at s, sessions):", cuts)
    assert len(cuts) == 2 and all(count > 0 for _, count in cuts), cuts
    statuses = result.by_status()
    assert set(statuses) <= ACCEPTED | {503}, statuses
    assert all(status == 503 for _, status, _ in result.server_errors), result.server_errors[:5]
    for _, _, body in result.server_errors:
        assert body["code"] in ("store_unavailable", "store_busy"), body
    assert not result.dropped, result.dropped
    assert result.ok_after(cuts[-1][0] + 1.0) > 0, "no write succeeded after the cut"
    assert ready[0] == 200, ready
    assert_nothing_lost(pg_config, env, result)


def test_a_worker_killed_mid_write_leaves_no_torn_event_and_is_replaced(tmp_path: Path) -> None:
    config = make_config("sqlite", tmp_path)
    env = prepared(config)
    killed: list[tuple[float, int]] = []

    with serving(env) as server:
        before = server.workers()
        assert len(before) == 2, before

        def kill(elapsed: float) -> None:
            if not killed and elapsed >= FAULT_SECONDS * 0.3:
                victim = min(server.workers())
                os.kill(victim, signal.SIGKILL)
                killed.append((elapsed, victim))

        result = MixedWrites(server, token(env), clients=16, seed=3).run(FAULT_SECONDS, kill)
        after = wait_for_workers(server, 2)
    print(summary("kill -9", result), "killed:", killed, "workers:", before, "->", after)
    assert killed and killed[0][1] not in after and len(after) == 2
    statuses = result.by_status()
    assert not result.server_errors, result.server_errors[:5]
    assert set(statuses) <= ACCEPTED, statuses
    # a request in flight on the killed worker loses its connection: it may or may not
    # have been recorded, never half; at most one per client
    assert sum(result.dropped.values()) <= 16, result.dropped
    assert result.ok_after(killed[0][0] + 1.0) > 0, "no write succeeded after the kill"
    assert_nothing_lost(config, env, result)


def wait_for_workers(server: Server, count: int, timeout: float = 30) -> set[int]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        workers = server.workers()
        if len(workers) == count:
            return workers
        time.sleep(0.2)
    return server.workers()
