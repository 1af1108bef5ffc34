"""`ledger projections status | rebuild | run`, called as a user would."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from click.testing import CliRunner

from security.bootstrap import Settings, build_ledger
from tests.domain.factories import Clock
from tests.projections.world import populate
from tests.support.environment import point_environment_at
from web.cli import main

pytestmark = pytest.mark.e2e


@pytest.fixture
def env(ledger_config: Settings, monkeypatch: pytest.MonkeyPatch) -> Iterator[int]:
    """The environment pointing at a ledger holding the small world; yields its head."""
    point_environment_at(ledger_config, monkeypatch)
    clock = Clock()
    ledger = build_ledger(ledger_config, clock=clock)
    populate(ledger.app, clock)
    head = int(ledger.app.recorder.max_notification_id() or 0)
    ledger.close()
    yield head


def test_status_shows_the_lag_run_catches_up_and_check_follows_readiness(env: int) -> None:
    runner = CliRunner()
    behind = runner.invoke(main, ["projections", "status", "--check"])
    assert behind.exit_code == 1, behind.output
    assert f"log head: {env}" in behind.output
    assert "NOT READY" in behind.output
    assert "customers" in behind.output and str(env) in behind.output

    ran = runner.invoke(main, ["projections", "run", "--once"])
    assert ran.exit_code == 0, ran.output
    assert f"caught up: {env} events read" in ran.output

    ready = runner.invoke(main, ["projections", "status", "--check", "--json"])
    assert ready.exit_code == 0, ready.output
    body = json.loads(ready.output)
    assert body["ready"] is True
    assert {(v["name"], v["position"], v["lag_events"]) for v in body["views"]} == {
        (name, env, 0)
        for name in (
            "customers",
            "cases",
            "consents",
            "kpis",
            "quality",
            "satisfaction",
            "crises",
            "value_strategies",
        )
    }


def test_rebuild_one_view_or_all_from_zero(env: int) -> None:
    runner = CliRunner()
    assert runner.invoke(main, ["projections", "run", "--once"]).exit_code == 0
    one = runner.invoke(main, ["projections", "rebuild", "cases"])
    assert one.exit_code == 0, one.output
    assert one.output.strip() == (
        f"rebuilt cases: {env} events read, now at position {env} (generation 2)"
    )
    every = runner.invoke(main, ["projections", "rebuild", "--batch-size", "5"])
    assert every.exit_code == 0, every.output
    assert (
        "rebuilt customers, cases, consents, kpis, quality, satisfaction, crises, value_strategies"
        in every.output
    )
    assert "(generation 3)" in every.output
    status = json.loads(runner.invoke(main, ["projections", "status", "--json"]).output)
    assert {v["name"]: v["generation"] for v in status["views"]}["cases"] == 3


def test_rebuilding_an_unknown_view_is_a_one_line_error(env: int) -> None:
    result = CliRunner().invoke(main, ["projections", "rebuild", "nonsense"])
    assert result.exit_code == 2
    assert result.output.strip().startswith("error: no view named nonsense")
