"""Satisfaction measures: NPS, CSAT, and when an answer counts as dissatisfied."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from datetime import date, timedelta
from decimal import ROUND_HALF_EVEN, Decimal
from uuid import UUID

from domain.rules.errors import RuleError
from domain.settings import RuleSettings

NPS_VERSION = "nps/1"
CSAT_VERSION = "csat/1"
DISSATISFACTION_VERSION = "is_dissatisfied/1"
SURVEY_DUE_VERSION = "survey_due/1"

INSTRUMENTS = ("CSAT", "NPS")
NPS_RANGE = (0, 10)
CSAT_RANGE = (1, 5)
_PLACES = Decimal("0.01")
_RATE_PLACES = Decimal("0.0001")


def _checked(scores: Sequence[int], bounds: tuple[int, int], instrument: str) -> Sequence[int]:
    low, high = bounds
    for score in scores:
        if isinstance(score, bool) or not isinstance(score, int) or not low <= score <= high:
            raise RuleError(f"{instrument} answer must be an integer {low}..{high}, got {score!r}")
    return scores


def nps(scores: Sequence[int], *, settings: RuleSettings | None = None) -> Decimal | None:
    """Return the Net Promoter Score: % of 9-10 answers minus % of 0-6 answers.

    Rounded half-even to 2 places; the promoter and detractor bands follow `settings`
    when given. Guarantees: None for no answers, else a value in -100..100. An answer
    outside 0..10 raises RuleError.
    """
    _checked(scores, NPS_RANGE, "NPS")
    if not scores:
        return None
    promoter_min = settings.nps_promoter_min if settings else 9
    detractor_max = settings.nps_detractor_max if settings else 6
    promoters = sum(1 for s in scores if s >= promoter_min)
    detractors = sum(1 for s in scores if s <= detractor_max)
    value = Decimal(100 * (promoters - detractors)) / Decimal(len(scores))
    return value.quantize(_PLACES, rounding=ROUND_HALF_EVEN)


def csat(scores: Sequence[int]) -> Decimal | None:
    """Return the CSAT share: answers of 4 or 5 divided by all answers on the 1-5 scale.

    A fraction in 0..1 rounded half-even to 4 places (0.8333 = 83.33 %); None for no
    answers. An answer outside 1..5 raises RuleError.
    """
    _checked(scores, CSAT_RANGE, "CSAT")
    if not scores:
        return None
    satisfied = sum(1 for s in scores if s >= 4)
    return (Decimal(satisfied) / Decimal(len(scores))).quantize(
        _RATE_PLACES, rounding=ROUND_HALF_EVEN
    )


def is_dissatisfied(instrument: str, score: int, settings: RuleSettings) -> bool:
    """True when an answer opens service recovery: CSAT 2 or below, NPS 6 or below.

    `instrument` is "CSAT" or "NPS" (case-insensitive). An unknown instrument or a score
    outside the instrument's scale raises RuleError.
    """
    name = instrument.upper() if isinstance(instrument, str) else instrument
    if name == "CSAT":
        _checked([score], CSAT_RANGE, "CSAT")
        return score <= settings.csat_dissatisfied_max
    if name == "NPS":
        _checked([score], NPS_RANGE, "NPS")
        return score <= settings.nps_detractor_max
    raise RuleError(f"unknown survey instrument {instrument!r}; expected CSAT or NPS")


def survey_due(
    customer_id: UUID,
    period: str,
    last_surveyed: date | None,
    today: date,
    settings: RuleSettings,
) -> bool:
    """True when a regular survey (policy 5.1) goes to this customer in `period`.

    A customer surveyed less than `settings.survey_interval_days` ago is not due. Of the
    others, `settings.survey_sample_percent` % are drawn by a hash of customer and
    period. Guarantees: deterministic (a re-run draws the same customers), and over
    many customers the share drawn tends to the configured percentage.
    """
    if last_surveyed is not None and today - last_surveyed < timedelta(
        days=settings.survey_interval_days
    ):
        return False
    digest = hashlib.sha256(f"{customer_id}:{period}".encode()).digest()
    return int.from_bytes(digest[:8], "big") % 100 < settings.survey_sample_percent
