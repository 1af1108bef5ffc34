"""NPS, CSAT and the dissatisfaction thresholds at their boundaries."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from uuid import UUID

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.rules import RuleError
from domain.rules.satisfaction import csat, is_dissatisfied, nps, survey_due
from domain.settings import RuleSettings

pytestmark = pytest.mark.unit

S = RuleSettings()


def test_nps_counts_9_as_promoter_and_6_as_detractor() -> None:
    assert nps([9]) == Decimal("100.00")
    assert nps([6]) == Decimal("-100.00")


def test_nps_counts_7_and_8_as_passives() -> None:
    assert nps([7, 8]) == Decimal("0.00")


def test_nps_is_percent_promoters_minus_percent_detractors() -> None:
    assert nps([10, 9, 8, 6, 0, 10]) == Decimal("16.67")  # 50 % - 33.33 %


def test_nps_of_no_answers_is_none() -> None:
    assert nps([]) is None


def test_nps_bands_follow_settings_when_given() -> None:
    s = RuleSettings(nps_promoter_min=10, nps_detractor_max=5)
    assert nps([9, 6], settings=s) == Decimal("0.00")


@pytest.mark.parametrize("bad", [[-1], [11], [True], [5.0]])
def test_nps_refuses_answers_off_the_0_to_10_scale(bad: list[int]) -> None:
    with pytest.raises(RuleError, match="NPS"):
        nps(bad)


def test_csat_is_the_share_of_4_and_5() -> None:
    assert csat([5, 4, 3, 2, 1, 5]) == Decimal("0.5000")
    assert csat([4, 4, 3]) == Decimal("0.6667")


def test_csat_of_no_answers_is_none() -> None:
    assert csat([]) is None


@pytest.mark.parametrize("bad", [[0], [6]])
def test_csat_refuses_answers_off_the_1_to_5_scale(bad: list[int]) -> None:
    with pytest.raises(RuleError, match="CSAT"):
        csat(bad)


@pytest.mark.parametrize(("score", "expected"), [(1, True), (2, True), (3, False), (5, False)])
def test_csat_of_2_or_below_is_dissatisfied(score: int, expected: bool) -> None:
    assert is_dissatisfied("CSAT", score, S) is expected


@pytest.mark.parametrize(("score", "expected"), [(0, True), (6, True), (7, False), (9, False)])
def test_nps_of_6_or_below_is_dissatisfied(score: int, expected: bool) -> None:
    assert is_dissatisfied("NPS", score, S) is expected


def test_instrument_name_is_case_insensitive() -> None:
    assert is_dissatisfied("csat", 2, S)


@pytest.mark.parametrize(("instrument", "score"), [("CES", 3), ("CSAT", 0), ("NPS", 11)])
def test_unknown_instrument_or_off_scale_score_is_refused(instrument: str, score: int) -> None:
    with pytest.raises(RuleError):
        is_dissatisfied(instrument, score, S)


@given(st.lists(st.integers(min_value=0, max_value=10), min_size=1, max_size=200))
def test_nps_is_always_within_minus_100_and_100(scores: list[int]) -> None:
    value = nps(scores)
    assert value is not None and -100 <= value <= 100


@given(st.lists(st.integers(min_value=1, max_value=5), min_size=1, max_size=200))
def test_csat_is_always_a_share_between_0_and_1(scores: list[int]) -> None:
    value = csat(scores)
    assert value is not None and 0 <= value <= 1


def test_a_customer_surveyed_within_the_interval_is_not_due() -> None:
    every = RuleSettings(survey_sample_percent=100)
    customer = UUID(int=7)
    today = date(2026, 4, 2)
    assert not survey_due(customer, "2026Q2", today - timedelta(days=89), today, every)
    assert survey_due(customer, "2026Q2", today - timedelta(days=90), today, every)
    assert survey_due(customer, "2026Q2", None, today, every)


def test_the_draw_is_deterministic_and_near_the_configured_share() -> None:
    today = date(2026, 4, 2)
    drawn = [survey_due(UUID(int=n), "2026Q2", None, today, S) for n in range(2000)]
    again = [survey_due(UUID(int=n), "2026Q2", None, today, S) for n in range(2000)]
    assert drawn == again
    assert 150 <= sum(drawn) <= 250  # 10 % of 2000, within sampling noise
    other = [survey_due(UUID(int=n), "2026Q3", None, today, S) for n in range(2000)]
    assert other != drawn
