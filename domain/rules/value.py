"""Customer value: RFM quintile scores, customer lifetime value, churn early-warning signals."""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import ROUND_HALF_UP, Decimal

from domain.rules._checks import aware_utc, count_input, decimal_input
from domain.rules.errors import RuleError
from domain.rules.months import add_months
from domain.settings import RuleSettings

RFM_SCORES_VERSION = "rfm_scores/1"
CLV_VERSION = "clv/1"
CHURN_SIGNALS_VERSION = "churn_signals/1"
VALUE_STRATEGY_VERSION = "value_strategy/1"

# Policy 6.2: one strategy a customer, and the actions it plans.
STRATEGY_ACTIONS: dict[str, tuple[str, ...]] = {
    "premium_service_plan": ("premium_service_plan",),
    "high_potential": ("needs_discovery", "targeted_offer"),
    "standard": (),
}

CHURN_SIGNAL_CODES = (
    "transactions_halved",
    "complaints_90d",
    "complaint_overdue",
    "nps_detractor",
    "inactive_180d",
)
_CENT = Decimal("0.01")


@dataclass(frozen=True)
class Transaction:
    """One trade, or a period summary dated on the period's last day."""

    on: date
    amount: Decimal
    count: int = 1


@dataclass(frozen=True)
class RfmInput:
    """A customer's transactions; only those inside the RFM window are scored."""

    transactions: tuple[Transaction, ...] = ()


@dataclass(frozen=True)
class RfmScore:
    """R, F and M scores (1-5) with the window figures they were ranked on."""

    as_of: date
    window_start: date
    last_transaction_on: date | None
    frequency: int
    monetary: Decimal
    r: int
    f: int
    m: int
    rule_version: str = RFM_SCORES_VERSION

    @property
    def code(self) -> str:
        """The conventional three-digit RFM cell, e.g. "545"."""
        return f"{self.r}{self.f}{self.m}"


def _quintile(better_than: int, population: int) -> int:
    # 1 + floor(5 * share of the population strictly worse); equal values share a score.
    return 1 + (5 * better_than) // population


def rfm_scores(
    customers: Mapping[str, RfmInput], as_of: date, settings: RuleSettings
) -> dict[str, RfmScore]:
    """Score every customer's recency, frequency and monetary value 1-5 by quintile.

    The window is the 12 months (`rfm_window_months`) ending on `as_of`: after
    `window_start`, up to and including `as_of`. R ranks the latest transaction date
    (more recent = higher; none in the window ranks lowest), F the transaction count,
    M the amount. Each score is 1 + floor(5 * share of customers strictly below), so
    equal values always get equal scores and ties take the lowest quintile they span.
    Guarantees: every score is in 1..5; the result has exactly the customers given.
    """
    window_start = add_months(as_of, -settings.rfm_window_months)
    figures: dict[str, tuple[date | None, int, Decimal]] = {}
    for customer_id, rfm_input in customers.items():
        inside = [t for t in rfm_input.transactions if window_start < t.on <= as_of]
        figures[customer_id] = (
            max((t.on for t in inside), default=None),
            sum(count_input("transaction count", t.count) for t in inside),
            sum((decimal_input("transaction amount", t.amount) for t in inside), Decimal(0)),
        )
    population = len(figures)
    recency_keys = sorted(last.toordinal() if last else 0 for last, _, _ in figures.values())
    frequencies = sorted(f for _, f, _ in figures.values())
    amounts = sorted(m for _, _, m in figures.values())
    scores: dict[str, RfmScore] = {}
    for customer_id, (last, frequency, monetary) in figures.items():
        recency_key = last.toordinal() if last else 0
        scores[customer_id] = RfmScore(
            as_of=as_of,
            window_start=window_start,
            last_transaction_on=last,
            frequency=frequency,
            monetary=monetary,
            r=_quintile(bisect_left(recency_keys, recency_key), population),
            f=_quintile(bisect_left(frequencies, frequency), population),
            m=_quintile(bisect_left(amounts, monetary), population),
        )
    return scores


def clv(
    margin: Decimal, retention: Decimal, discount: Decimal, acquisition_cost: Decimal
) -> Decimal:
    """Return customer lifetime value m*r/(1+d-r) - acquisition cost, rounded half-up to cents.

    `margin` is the yearly margin, `retention` the yearly retention rate r and
    `discount` the discount rate d. Requires 0 <= r <= 1, d >= 0 and r < 1 + d (else the
    series diverges); anything else, or a float, raises RuleError.
    """
    m = decimal_input("margin", margin)
    r = decimal_input("retention", retention)
    d = decimal_input("discount", discount)
    cost = decimal_input("acquisition_cost", acquisition_cost)
    if not 0 <= r <= 1:
        raise RuleError(f"retention must be within 0..1, got {r}")
    if d < 0:
        raise RuleError(f"discount must not be negative, got {d}")
    if r >= 1 + d:
        raise RuleError("retention must be below 1 + discount for the value to be finite")
    return (m * r / (1 + d - r) - cost).quantize(_CENT, rounding=ROUND_HALF_UP)


@dataclass(frozen=True)
class ChurnInputs:
    """What the churn early warning looks at for one customer.

    `open_complaint_due_at` holds the deadlines of complaints still open. Activity is
    the latest of `last_activity_on` and any transaction; `customer_since` stands in when
    there is neither, so a customer who never did anything still goes inactive.
    """

    transactions: tuple[Transaction, ...] = ()
    complaints_received_on: tuple[date, ...] = ()
    open_complaint_due_at: tuple[datetime, ...] = ()
    latest_nps: int | None = None
    last_activity_on: date | None = None
    customer_since: date | None = None


def _in_window(d: date, end: date, days: int) -> bool:
    # The `days` days ending on `end`, inclusive of `end`.
    return end - timedelta(days=days) < d <= end


def churn_signals(inputs: ChurnInputs, as_of: date, settings: RuleSettings) -> list[str]:
    """Return the churn warning signals present on `as_of`, in `CHURN_SIGNAL_CODES` order.

    - transactions_halved: transaction count in the 90 days ending `as_of` is under half
      (`churn_drop_fraction`) of the 90 days before; needs a non-zero earlier count.
    - complaints_90d: at least 2 complaints received in the 90 days ending `as_of`.
    - complaint_overdue: an open complaint was in breach when `as_of` began (due_at at or
      before 00:00 UTC that day).
    - nps_detractor: the latest NPS answer is 0..6 (`nps_detractor_max`).
    - inactive_180d: the latest activity is 180 days or more before `as_of`.
    An empty list means no warning.
    """
    window = settings.churn_lookback_days
    signals: list[str] = []
    recent = sum(t.count for t in inputs.transactions if _in_window(t.on, as_of, window))
    earlier_end = as_of - timedelta(days=window)
    earlier = sum(t.count for t in inputs.transactions if _in_window(t.on, earlier_end, window))
    numerator, denominator = settings.churn_drop_fraction.as_integer_ratio()
    if earlier > 0 and recent * denominator < earlier * numerator:
        signals.append("transactions_halved")
    complaints = sum(1 for d in inputs.complaints_received_on if _in_window(d, as_of, window))
    if complaints >= settings.churn_complaints_min:
        signals.append("complaints_90d")
    day_start = datetime.combine(as_of, time.min, tzinfo=UTC)
    if any(aware_utc("due_at", due) <= day_start for due in inputs.open_complaint_due_at):
        signals.append("complaint_overdue")
    if inputs.latest_nps is not None:
        if not 0 <= inputs.latest_nps <= 10:
            raise RuleError(f"NPS answer must be within 0..10, got {inputs.latest_nps}")
        if inputs.latest_nps <= settings.nps_detractor_max:
            signals.append("nps_detractor")
    activity = [t.on for t in inputs.transactions]
    activity += [d for d in (inputs.last_activity_on, inputs.customer_since) if d is not None]
    activity = [d for d in activity if d <= as_of]
    last_seen = max(activity, default=None)
    if last_seen is not None and (as_of - last_seen).days >= settings.churn_inactive_days:
        signals.append("inactive_180d")
    return signals


@dataclass(frozen=True)
class ValueStrategy:
    """The value strategy of policy 6.2 for one customer and the actions it plans."""

    strategy: str
    actions: tuple[str, ...]
    rule_version: str = VALUE_STRATEGY_VERSION


def value_strategy(
    current_value: Decimal, potential_value: Decimal, rfm_m: int, settings: RuleSettings
) -> ValueStrategy:
    """Return the customer's strategy: "premium_service_plan" for high value (the top
    monetary quintile, M = 5), else "high_potential" when the potential value (CLV) is at
    least `high_potential_ratio` (2) times a positive current value, else "standard".

    Guarantees: exactly one strategy; its actions are `STRATEGY_ACTIONS[strategy]`.
    An M score outside 1..5 raises RuleError.
    """
    current = decimal_input("current_value", current_value)
    potential = decimal_input("potential_value", potential_value)
    if not 1 <= rfm_m <= 5:
        raise RuleError(f"the M score must be within 1..5, got {rfm_m}")
    if rfm_m == 5:
        strategy = "premium_service_plan"
    elif current > 0 and potential >= settings.high_potential_ratio * current:
        strategy = "high_potential"
    else:
        strategy = "standard"
    return ValueStrategy(strategy, STRATEGY_ACTIONS[strategy])
