"""Customer value: RFM quintiles, CLV, and churn early-warning signals."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.rules import RuleError
from domain.rules.value import (
    CHURN_SIGNAL_CODES,
    ChurnInputs,
    RfmInput,
    Transaction,
    churn_signals,
    clv,
    rfm_scores,
)
from domain.settings import RuleSettings

pytestmark = pytest.mark.unit

S = RuleSettings()
AS_OF = date(2026, 6, 30)


def customer(*days_ago_and_amounts: tuple[int, str]) -> RfmInput:
    return RfmInput(
        tuple(Transaction(AS_OF - timedelta(days), Decimal(a)) for days, a in days_ago_and_amounts)
    )


def test_five_distinct_customers_get_one_score_each_from_1_to_5() -> None:
    population = {f"c{k}": customer(*[(100 - 10 * k, "10")] * (k + 1)) for k in range(5)}
    scores = rfm_scores(population, AS_OF, S)
    assert [scores[f"c{k}"].f for k in range(5)] == [1, 2, 3, 4, 5]
    assert [scores[f"c{k}"].r for k in range(5)] == [1, 2, 3, 4, 5]  # more recent = higher
    assert [scores[f"c{k}"].m for k in range(5)] == [1, 2, 3, 4, 5]
    assert scores["c4"].code == "555"
    assert scores["c4"].rule_version == "rfm_scores/1"


def test_tied_customers_share_the_lowest_quintile_they_span() -> None:
    population = {"a": customer((5, "100")), "b": customer((5, "100")), "c": customer((1, "900"))}
    population |= {"d": customer((5, "100")), "e": customer((5, "100"))}
    scores = rfm_scores(population, AS_OF, S)
    assert {scores[k].m for k in "abde"} == {1}
    assert scores["c"].m == 5
    assert {scores[k].r for k in "abde"} == {1} and scores["c"].r == 5


def test_everyone_equal_scores_everyone_alike() -> None:
    scores = rfm_scores({k: customer((3, "50")) for k in "abc"}, AS_OF, S)
    assert {(s.r, s.f, s.m) for s in scores.values()} == {(1, 1, 1)}


def test_transactions_outside_the_12_month_window_are_ignored() -> None:
    window_start = date(2025, 6, 30)
    inside = Transaction(window_start + timedelta(1), Decimal("10"))
    on_edge = Transaction(window_start, Decimal("1000"))
    future = Transaction(AS_OF + timedelta(1), Decimal("1000"))
    scores = rfm_scores({"a": RfmInput((inside, on_edge, future))}, AS_OF, S)
    assert (scores["a"].frequency, scores["a"].monetary) == (1, Decimal("10"))
    assert scores["a"].window_start == window_start


def test_customer_without_transactions_in_the_window_ranks_lowest_on_recency() -> None:
    scores = rfm_scores({"idle": RfmInput(), "busy": customer((200, "1"))}, AS_OF, S)
    assert scores["idle"].last_transaction_on is None
    assert scores["idle"].r < scores["busy"].r


def test_empty_population_gives_no_scores() -> None:
    assert rfm_scores({}, AS_OF, S) == {}


populations = st.dictionaries(
    st.text(min_size=1, max_size=4),
    st.builds(
        RfmInput,
        st.lists(
            st.builds(
                Transaction,
                st.dates(min_value=date(2025, 1, 1), max_value=date(2026, 8, 1)),
                st.decimals(min_value=0, max_value=10**6, places=2),
                st.integers(min_value=1, max_value=20),
            ),
            max_size=6,
        ).map(tuple),
    ),
    max_size=30,
)


@given(populations)
def test_rfm_scores_are_always_1_to_5_for_exactly_the_customers_given(
    population: dict[str, RfmInput],
) -> None:
    scores = rfm_scores(population, AS_OF, S)
    assert scores.keys() == population.keys()
    for s in scores.values():
        assert {s.r, s.f, s.m} <= {1, 2, 3, 4, 5}


@given(populations)
def test_higher_frequency_never_scores_lower(population: dict[str, RfmInput]) -> None:
    scores = list(rfm_scores(population, AS_OF, S).values())
    for a in scores:
        for b in scores:
            if a.frequency > b.frequency:
                assert a.f >= b.f


def test_clv_follows_the_formula_rounded_to_cents() -> None:
    # 1000 * 0.8 / (1 + 0.1 - 0.8) - 500 = 2666.666... - 500
    assert clv(Decimal(1000), Decimal("0.8"), Decimal("0.1"), Decimal(500)) == Decimal("2166.67")


def test_clv_with_zero_retention_is_minus_the_acquisition_cost() -> None:
    assert clv(Decimal(1000), Decimal(0), Decimal("0.1"), Decimal(200)) == Decimal("-200.00")


def test_clv_with_full_retention_needs_a_positive_discount() -> None:
    assert clv(Decimal(100), Decimal(1), Decimal("0.25"), Decimal(0)) == Decimal("400.00")
    with pytest.raises(RuleError, match="1 \\+ discount"):
        clv(Decimal(100), Decimal(1), Decimal(0), Decimal(0))


@pytest.mark.parametrize(
    ("r", "d"), [(Decimal("-0.1"), Decimal("0.1")), (Decimal("1.1"), Decimal(1)), (0, -1)]
)
def test_clv_refuses_out_of_range_rates(r: Decimal, d: Decimal) -> None:
    with pytest.raises(RuleError):
        clv(Decimal(100), r, d, Decimal(0))


def test_clv_refuses_floats() -> None:
    with pytest.raises(RuleError, match="margin"):
        clv(100.0, Decimal("0.5"), Decimal(0), Decimal(0))  # type: ignore[arg-type]


def txns(*days_ago_and_counts: tuple[int, int]) -> tuple[Transaction, ...]:
    return tuple(Transaction(AS_OF - timedelta(d), Decimal(1), c) for d, c in days_ago_and_counts)


def test_no_signals_for_a_steady_customer() -> None:
    inputs = ChurnInputs(transactions=txns((10, 5), (100, 5)), latest_nps=9)
    assert churn_signals(inputs, AS_OF, S) == []


def test_transactions_under_half_of_the_previous_90_days_signal() -> None:
    assert "transactions_halved" in churn_signals(
        ChurnInputs(transactions=txns((10, 4), (100, 9))), AS_OF, S
    )


def test_transactions_exactly_half_do_not_signal() -> None:
    assert churn_signals(ChurnInputs(transactions=txns((10, 5), (100, 10))), AS_OF, S) == []


def test_the_90_day_windows_meet_without_overlap() -> None:
    # Day 90 ago belongs to the earlier window, day 89 to the recent one.
    recent_edge = ChurnInputs(transactions=txns((89, 1), (150, 2)))  # 1 vs 2: exactly half
    earlier_edge = ChurnInputs(transactions=txns((90, 1), (150, 2)))  # 0 vs 3
    assert "transactions_halved" not in churn_signals(recent_edge, AS_OF, S)
    assert "transactions_halved" in churn_signals(earlier_edge, AS_OF, S)


def test_no_earlier_transactions_means_no_halving_signal() -> None:
    assert churn_signals(ChurnInputs(transactions=txns((10, 1))), AS_OF, S) == []


def test_two_complaints_in_90_days_signal_and_one_does_not() -> None:
    two = ChurnInputs(complaints_received_on=(AS_OF, AS_OF - timedelta(89)))
    old = ChurnInputs(complaints_received_on=(AS_OF, AS_OF - timedelta(90)))
    assert churn_signals(two, AS_OF, S) == ["complaints_90d"]
    assert churn_signals(old, AS_OF, S) == []


def test_open_complaint_past_its_deadline_signals() -> None:
    midnight = datetime(2026, 6, 30, tzinfo=UTC)
    assert churn_signals(ChurnInputs(open_complaint_due_at=(midnight,)), AS_OF, S) == [
        "complaint_overdue"
    ]
    later = midnight + timedelta(microseconds=1)
    assert churn_signals(ChurnInputs(open_complaint_due_at=(later,)), AS_OF, S) == []


@pytest.mark.parametrize(
    ("score", "signals"), [(6, ["nps_detractor"]), (7, []), (0, ["nps_detractor"])]
)
def test_latest_nps_of_6_or_below_signals(score: int, signals: list[str]) -> None:
    assert churn_signals(ChurnInputs(latest_nps=score), AS_OF, S) == signals


def test_nps_out_of_range_is_refused() -> None:
    with pytest.raises(RuleError):
        churn_signals(ChurnInputs(latest_nps=11), AS_OF, S)


def test_inactivity_of_exactly_180_days_signals_and_179_does_not() -> None:
    assert churn_signals(ChurnInputs(last_activity_on=AS_OF - timedelta(180)), AS_OF, S) == [
        "inactive_180d"
    ]
    assert churn_signals(ChurnInputs(last_activity_on=AS_OF - timedelta(179)), AS_OF, S) == []


def test_a_recent_transaction_counts_as_activity() -> None:
    inputs = ChurnInputs(last_activity_on=AS_OF - timedelta(400), transactions=txns((5, 1)))
    assert "inactive_180d" not in churn_signals(inputs, AS_OF, S)


def test_customer_who_never_did_anything_goes_inactive_from_joining() -> None:
    inputs = ChurnInputs(customer_since=AS_OF - timedelta(200))
    assert churn_signals(inputs, AS_OF, S) == ["inactive_180d"]
    assert churn_signals(ChurnInputs(), AS_OF, S) == []


def test_signals_come_in_the_documented_order() -> None:
    inputs = ChurnInputs(
        transactions=txns((100, 4), (400, 1)),
        complaints_received_on=(AS_OF, AS_OF),
        open_complaint_due_at=(datetime(2026, 1, 1, tzinfo=UTC),),
        latest_nps=3,
        last_activity_on=AS_OF - timedelta(300),
    )
    # Inactivity cannot join in: the halving needs a transaction within 180 days.
    assert churn_signals(inputs, AS_OF, S) == [
        c for c in CHURN_SIGNAL_CODES if c != "inactive_180d"
    ]
