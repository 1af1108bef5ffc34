"""Record retention and erasure: AML data kept 10 years after the relationship ends."""

from __future__ import annotations

from datetime import date

from domain.rules.months import add_years
from domain.settings import RuleSettings

RETENTION_VERSION = "retention_ends/1"
ERASURE_DECISION_VERSION = "erasure_decision/2"

ERASURE_DECISIONS = ("erase", "restrict", "blocked_by_hold", "not_requested")


def retention_ends(relationship_ended_on: date, settings: RuleSettings) -> date:
    """Return the first day the data no longer has to be kept: end + 10 years (default).

    An end on Feb 29 maps to Feb 28 of the target year when that is a common year.
    """
    return add_years(relationship_ended_on, settings.retention_years)


def erasure_decision(
    erasure_requested: bool,
    relationship_ended_on: date | None,
    legal_hold: bool,
    today: date,
    settings: RuleSettings,
    *,
    nothing_to_retain: bool = False,
) -> str:
    """Decide what an erasure request leads to today.

    In order: "not_requested" without a request; "blocked_by_hold" under a legal hold;
    "erase" for a prospect never onboarded (`nothing_to_retain`: no KYC file, no
    account, no transactions: the law asks to keep nothing of it); "erase" when the
    relationship ended and `today` is on or after `retention_ends`; otherwise
    "restrict" (the relationship is live or still inside retention, so processing is
    restricted and the data kept).
    """
    if not erasure_requested:
        return "not_requested"
    if legal_hold:
        return "blocked_by_hold"
    if nothing_to_retain:
        return "erase"
    if relationship_ended_on is not None and today >= retention_ends(
        relationship_ended_on, settings
    ):
        return "erase"
    return "restrict"
