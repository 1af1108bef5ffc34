"""Regular surveys (policy 5.1): drawn customers with consent get the period's survey,
exactly once per customer and period, whatever re-runs."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

import pytest

from domain.ids import periodic_survey_id
from domain.settings import RuleSettings
from domain.survey import SurveySent
from scheduler.population import stream_ids
from scheduler.runner import JobRunner
from security.bootstrap import Settings
from tests.domain.factories import FRONT, SYSTEM, Clock, individual
from tests.scheduler.conftest import events, open_test_runner

pytestmark = pytest.mark.integration

QUARTER_START = datetime(2026, 4, 2, 9, tzinfo=UTC)


@pytest.fixture
def everyone(ledger_config: Settings, clock: Clock) -> Iterator[JobRunner]:
    """A runner whose survey sample is every customer due (100 %)."""
    config = dataclasses.replace(ledger_config, rules=RuleSettings(survey_sample_percent=100))
    built = open_test_runner(config, clock)
    yield built
    built.close()


def _consenting(app: Any) -> UUID:
    customer_id = individual(app)
    app.grant_consent(
        customer_id, "research", FRONT, data_categories=["contact"], notice_version="v3",
        method="written", evidence="signed form 1",
    )  # fmt: skip
    return customer_id


def _periodic(app: Any) -> list[UUID]:
    return [
        sid for sid in stream_ids(app, SurveySent)
        if app.get_survey(sid).context.startswith("periodic:")
    ]  # fmt: skip


def test_each_customer_due_gets_the_periods_survey_once_across_reruns(
    everyone: JobRunner, clock: Clock, monkeypatch: pytest.MonkeyPatch
) -> None:
    app = everyone.ledger.app
    first, second, third = (_consenting(app) for _ in range(3))
    without_consent = individual(app)
    recently = _consenting(app)
    app.send_survey(recently, "NPS", SYSTEM, context="after_complaint")
    clock.set(QUARTER_START)

    # the run fails on one customer midway; a re-run surveys only the rest
    real = app.send_periodic_survey

    def flaky(customer_id: UUID, period: str, actor: Any) -> bool:
        if customer_id == second:
            raise RuntimeError("core system down")
        return bool(real(customer_id, period, actor))

    monkeypatch.setattr(app, "send_periodic_survey", flaky)
    assert everyone.run("surveys").state == "failed"
    monkeypatch.setattr(app, "send_periodic_survey", real)
    clock.set(QUARTER_START + timedelta(hours=1))
    rerun = everyone.run_by_hand("surveys", QUARTER_START)
    assert (rerun.state, rerun.period) == ("completed", "2026Q2")
    assert rerun.summary["customers_surveyed"] == 1
    assert rerun.summary["customers_already_surveyed"] == 2
    assert rerun.summary["customers_without_consent"] == 1
    assert rerun.summary["customers_not_due"] == 1
    sent = _periodic(app)
    assert sorted(sent) == sorted(periodic_survey_id(c, "2026Q2") for c in (first, second, third))
    assert {app.get_survey(s).context for s in sent} == {"periodic:2026Q2"}
    assert without_consent not in {app.get_survey(s).customer_id for s in sent}

    # a completed period records nothing more
    before = events(everyone)
    assert everyone.run_by_hand("surveys", QUARTER_START).state == "skipped"
    assert events(everyone) == before


def test_the_next_quarter_surveys_again_once_the_interval_has_passed(
    everyone: JobRunner, clock: Clock
) -> None:
    app = everyone.ledger.app
    customer = _consenting(app)
    clock.set(QUARTER_START)
    assert everyone.run("surveys").summary["customers_surveyed"] == 1
    clock.set(datetime(2026, 7, 2, 9, tzinfo=UTC))  # 91 days later
    nxt = everyone.run("surveys")
    assert (nxt.period, nxt.summary["customers_surveyed"]) == ("2026Q3", 1)
    assert app.get_survey(periodic_survey_id(customer, "2026Q3")).instrument == "CSAT"


def test_the_default_sample_draws_about_ten_percent(sqlite_runner: JobRunner, clock: Clock) -> None:
    app = sqlite_runner.ledger.app
    for _ in range(60):
        _consenting(app)
    clock.set(QUARTER_START)
    outcome = sqlite_runner.run("surveys")
    surveyed = outcome.summary["customers_surveyed"]
    assert surveyed + outcome.summary["customers_not_due"] == 60
    assert 1 <= surveyed <= 15
    assert outcome.summary.get("customers_without_consent", 0) == 0
