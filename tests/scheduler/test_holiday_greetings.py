"""Festival greetings: on Spring Festival, Mid-Autumn and National Day (lunar and solar
calendars), within consent, in the customer's language, once a year; both stores."""

from __future__ import annotations

from datetime import UTC, datetime
from uuid import UUID

import pytest

from domain.ids import interaction_log_id
from domain.interaction import GreetingSent
from domain.rules.care import GREETING_TEXTS
from scheduler.runner import JobRunner
from tests.domain.factories import RM, Clock, grant_marketing, individual

pytestmark = pytest.mark.integration


def greetings(runner: JobRunner, customer_id: UUID) -> list[GreetingSent]:
    events = runner.ledger.app.events_of(interaction_log_id(customer_id))
    return [e for e in events if isinstance(e, GreetingSent)]


def test_mid_autumn_is_greeted_within_consent_in_the_customers_language_once(
    runner: JobRunner, clock: Clock
) -> None:
    app = runner.ledger.app
    clock.set(datetime(2026, 9, 1, 9, tzinfo=UTC))
    chinese = individual(app)
    english = individual(app, language="en", phone="13812345679", email="en@example.cn")
    silent = individual(app, phone="13812345670", email="silent@example.cn")
    grant_marketing(app, chinese, purpose="greetings")
    grant_marketing(app, english, purpose="greetings")
    clock.set(datetime(2026, 9, 24, 9, tzinfo=UTC))
    assert runner.run("holiday_greetings").summary.get("no_festival_today") == 1
    clock.set(datetime(2026, 9, 25, 9, tzinfo=UTC))  # 15th of the 8th lunar month
    outcome = runner.run("holiday_greetings")
    assert outcome.summary["greetings_sent"] == 2
    assert outcome.summary["greetings_without_consent"] == 1
    (zh,) = greetings(runner, chinese)
    (en,) = greetings(runner, english)
    assert (zh.occasion, zh.language, zh.message) == (
        "mid_autumn",
        "zh-CN",
        GREETING_TEXTS["mid_autumn"]["zh-CN"],
    )
    assert (en.language, en.message) == ("en", GREETING_TEXTS["mid_autumn"]["en"])
    assert zh.rule_version == "greeting_festivals/1"
    assert zh.consent_record_id is not None
    assert greetings(runner, silent) == []
    clock.set(datetime(2026, 9, 26, 8, tzinfo=UTC))
    assert runner.run("holiday_greetings").summary.get("no_festival_today") == 1
    again = runner.run_by_hand("holiday_greetings", datetime(2026, 9, 25, 20, tzinfo=UTC))
    assert again.state == "skipped"
    assert not app.send_greeting(chinese, "mid_autumn", None, RM)  # once a year
    assert len(greetings(runner, chinese)) == 1
