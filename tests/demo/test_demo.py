"""The demo generator: deterministic per seed, every complaint state, a year of activity."""

from __future__ import annotations

from datetime import date

import pytest

from demo.year import DemoSummary, generate_demo
from domain.application import LedgerApplication
from domain.interaction import GreetingSent
from security.festivals import festival_dates
from tests.domain.factories import Clock, new_app

pytestmark = pytest.mark.unit


def _stored(app: LedgerApplication) -> list[tuple[object, int, str, bytes]]:
    return [
        (n.originator_id, n.originator_version, n.topic, n.state)
        for n in app.recorder.select_notifications(1, 1_000_000)
    ]


@pytest.fixture(scope="module")
def demo() -> tuple[LedgerApplication, DemoSummary]:
    app = new_app()
    return app, generate_demo(app, customers=150, seed=11, festival_days=festival_dates)


@pytest.fixture
def demo_app(demo: tuple[LedgerApplication, DemoSummary]) -> LedgerApplication:
    return demo[0]


@pytest.fixture
def summary(demo: tuple[LedgerApplication, DemoSummary]) -> DemoSummary:
    return demo[1]


def test_the_same_seed_writes_the_same_events_byte_for_byte(demo_app: LedgerApplication) -> None:
    again = new_app()
    generate_demo(again, customers=150, seed=11, festival_days=festival_dates)
    assert _stored(again) == _stored(demo_app)


def test_another_seed_writes_other_customers() -> None:
    first, second = new_app(), new_app()
    generate_demo(first, customers=20, seed=1)
    generate_demo(second, customers=20, seed=2)
    assert set(first.customer_ids()).isdisjoint(second.customer_ids())


def test_the_demo_shows_complaints_in_every_state_and_the_other_stories(
    demo_app: LedgerApplication, summary: DemoSummary
) -> None:
    assert set(summary.cases_by_state) == {
        "received",
        "acknowledged",
        "investigating",
        "resolved",
        "followed_up",
        "closed",
        "reopened",
        "withdrawn",
    }
    assert summary.customers == 150 == len(list(demo_app.customer_ids()))
    assert summary.individuals > summary.corporates > 0
    assert summary.surveys > 0 and summary.churn_cases > 0
    assert (summary.start, summary.end) == (date(2025, 7, 1), date(2026, 6, 30))
    assert "150 customers" in str(summary)


def test_the_demo_stays_near_twenty_events_a_customer(
    demo_app: LedgerApplication, summary: DemoSummary
) -> None:
    assert summary.events == len(_stored(demo_app))
    # About 18 a customer before credit assessments, risk measures and value strategies
    # (issue 14) added roughly one each per graded or assessed customer; festival
    # greetings (three a year for each customer with a greetings consent), crisis
    # contacts and advice (issue 14, item 6) about 1.3 more.
    assert 12 <= summary.events / summary.customers <= 23


def test_names_are_chinese_and_english_and_customers_are_individual_and_corporate(
    demo_app: LedgerApplication,
) -> None:
    views = [demo_app.get_customer(c) for c in demo_app.customer_ids()]
    names = [v.name or "" for v in views]
    assert any("\u4e00" <= n[0] <= "\u9fff" for n in names)
    assert any(n[:1].isascii() and " " in n for n in names)
    corporate = [v for v in views if v.kind == "corporate"]
    assert corporate and all(v.credit_code and v.industry for v in corporate)


def test_progress_grows_to_the_customer_count_and_the_app_is_restored() -> None:
    clock = Clock()
    app = new_app(clock)
    seen: list[int] = []
    new_id = app.new_id
    generate_demo(app, customers=30, seed=5, progress=seen.append)
    assert seen == sorted(seen) and seen[-1] == 30
    assert app.clock is clock and app.new_id == new_id
    assert app.now() == clock.now


def test_events_run_in_time_order(demo_app: LedgerApplication) -> None:
    times = [
        demo_app.mapper.to_domain_event(n).timestamp  # type: ignore[attr-defined]
        for n in demo_app.recorder.select_notifications(1, 1_000_000)
    ]
    assert times == sorted(times)


def test_the_demo_shows_every_kind_of_warning(demo_app: LedgerApplication) -> None:
    topics = {n.topic for n in demo_app.recorder.select_notifications(1, 1_000_000)}
    for warning in (
        "domain.kyc:IdentityDocumentExpiring",
        "domain.kyc:RiskRatingOverdue",
        "domain.interaction:CareFollowUpOverdue",
        "domain.consent:ConsentExpired",
    ):
        assert warning in topics, warning


def test_the_demo_exercises_festival_greetings_crisis_contacts_advice_and_case_analysis(
    demo_app: LedgerApplication,
) -> None:
    topics = [n.topic.split(":")[-1] for n in demo_app.recorder.select_notifications(1, 10**6)]
    assert topics.count("CrisisCustomerContacted") == 25
    assert topics.count("AdviceGiven") == 8
    assert topics.count("PreferencesRecorded") == 5
    assert topics.count("ImprovementPlanClosed") == 1
    festivals = {
        (e.occasion, e.language)
        for n in demo_app.recorder.select_notifications(1, 10**6)
        if n.topic.endswith(":GreetingSent")
        for e in demo_app.events_of(n.originator_id)
        if isinstance(e, GreetingSent) and e.rule_version == "greeting_festivals/1"
    }
    assert {occasion for occasion, _ in festivals} == {
        "spring_festival",
        "mid_autumn",
        "national_day",
    }
    assert {language for _, language in festivals} == {"zh-CN", "en"}
