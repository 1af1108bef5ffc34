"""Chapter 3: classification of customers into segments.

Individuals by age band, income band and risk preference; corporates by size,
industry and stage. Unknown values classify as "unknown" rather than failing: a
segment is a description, not a gate.
"""

from __future__ import annotations

from datetime import date

from domain.rules.care import age_on

CLASSIFICATION_VERSION = "classify_customer/1"
INCOME_BANDS = ("low", "middle", "high", "very_high")
RISK_PREFERENCES = ("conservative", "balanced", "growth", "aggressive")
COMPANY_SIZES = ("micro", "small", "medium", "large")
STAGES = ("startup", "growth", "mature", "restructuring")
_AGE_BANDS = ((30, "under_30"), (45, "30_44"), (60, "45_59"))


def age_band(date_of_birth: date | None, today: date) -> str:
    """The age band on `today`: under_30, 30_44, 45_59 or 60_plus (unknown without a date)."""
    if date_of_birth is None or date_of_birth > today:
        return "unknown"
    age = age_on(date_of_birth, today)
    for limit, band in _AGE_BANDS:
        if age < limit:
            return band
    return "60_plus"


def classify_customer(
    kind: str,
    *,
    today: date,
    date_of_birth: date | None = None,
    income_band: str | None = None,
    risk_preference: str | None = None,
    company_size: str | None = None,
    industry: str | None = None,
    stage: str | None = None,
) -> tuple[str, dict[str, str]]:
    """Return (segment label, dimensions) for a customer; deterministic in its inputs."""
    if kind == "corporate":
        dimensions = {
            "company_size": company_size or "unknown",
            "industry": industry or "unknown",
            "stage": stage or "unknown",
        }
    else:
        dimensions = {
            "age_band": age_band(date_of_birth, today),
            "income_band": income_band or "unknown",
            "risk_preference": risk_preference or "unknown",
        }
    return "/".join([kind, *dimensions.values()]), dimensions
