"""Every number of the policy's rules, with its default, and how an operator overrides it.

Defaults come from DOMAIN.md "Rules with numbers". `parse_rule_settings` lays a rules
file's values and then `LEDGER_RULE_<FIELD>` variables over them; the composition root
(`security.settings`) reads the file and the environment, the domain reads neither.
Anything it does not recognise is refused rather than ignored, so a typo cannot
silently leave a default in force. Values that DOMAIN.md leaves open (tier weights,
score caps, holiday calendars) are chosen here and documented beside the field.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, fields
from datetime import date
from decimal import Decimal, InvalidOperation

from domain.errors import DomainError

ENV_PREFIX = "LEDGER_RULE_"


class SettingsError(DomainError, ValueError):
    """A rule setting is unknown or has a value the rules cannot work with."""

    code = "settings_error"


def _days(year: int, spans: tuple[tuple[int, int, int], ...]) -> tuple[date, ...]:
    # (month, first day, last day) spans read like the State Council notice itself.
    return tuple(
        date(year, month, day) for month, first, last in spans for day in range(first, last + 1)
    )


# State Council notice of 2025-11-04 on the 2026 public holidays.
CN_HOLIDAYS_2026: tuple[date, ...] = _days(
    2026,
    (
        (1, 1, 3),  # New Year
        (2, 15, 23),  # Spring Festival
        (4, 4, 6),  # Qingming
        (5, 1, 5),  # Labour Day
        (6, 19, 21),  # Dragon Boat
        (9, 25, 27),  # Mid-Autumn
        (10, 1, 7),  # National Day
    ),
)
# Weekend days the same notice makes working days (调休), so they count as business days.
CN_WORKDAYS_2026: tuple[date, ...] = (
    date(2026, 1, 4),
    date(2026, 2, 14),
    date(2026, 2, 28),
    date(2026, 5, 9),
    date(2026, 9, 20),
    date(2026, 10, 10),
)
# England and Wales bank holidays 2026; the UK complaint rule counts UK business days.
UK_HOLIDAYS_2026: tuple[date, ...] = (
    date(2026, 1, 1),
    date(2026, 4, 3),
    date(2026, 4, 6),
    date(2026, 5, 4),
    date(2026, 5, 25),
    date(2026, 8, 31),
    date(2026, 12, 25),
    date(2026, 12, 28),
)


@dataclass(frozen=True)
class RuleSettings:
    """The configurable numbers of every rule; constructing one validates them all."""

    # KYC
    risk_rating_working_days: int = 10
    reverification_months_high: int = 6
    reverification_months_medium: int = 12
    reverification_months_low: int = 24
    reverification_due_soon_days: int = 30
    id_expiring_days: int = 90
    # Complaints (CN is the default rule set)
    complaint_days_cn_standard: int = 15
    complaint_days_cn_complex: int = 30
    complaint_days_cn_especially_complex: int = 60
    complaint_uk_business_days: int = 3
    complaint_uk_final_weeks: int = 8
    complaint_us_response_days: int = 15
    complaint_us_final_days: int = 60
    escalation_fraction: Decimal = Decimal("0.8")
    # Enquiries and suggestions are answered too, by deadlines of their own.
    enquiry_response_days: int = 5
    suggestion_response_days: int = 30
    # Retention and care
    retention_years: int = 10
    elderly_age: int = 60
    elderly_follow_up_days: int = 90
    dormant_days: int = 180
    # Crisis (7.3): first contact with every affected customer within this many hours.
    crisis_first_contact_hours: int = 24
    # The festivals greeted (7.1), each on its day of the lunar or solar calendar; the
    # birthday greeting is separate. Any of spring_festival, mid_autumn, national_day.
    greeting_festivals: tuple[str, ...] = ("spring_festival", "mid_autumn", "national_day")
    # Value
    rfm_window_months: int = 12
    # Grading: amount weighs double because it is what funds the tiers' perks.
    tier_weight_amount: Decimal = Decimal("0.40")
    tier_weight_frequency: Decimal = Decimal("0.20")
    tier_weight_loyalty: Decimal = Decimal("0.20")
    tier_weight_credit: Decimal = Decimal("0.20")
    tier_vip_threshold: Decimal = Decimal("80")
    tier_premium_threshold: Decimal = Decimal("60")
    tier_downgrade_quarters: int = 2
    # Caps at which a sub-score reaches 100; loyalty is half tenure, half products held.
    grade_cap_yearly_amount: Decimal = Decimal("1000000")
    grade_cap_transaction_count: int = 120
    grade_cap_tenure_years: int = 10
    grade_cap_products_held: int = 5
    # Credit unknown (no assessment recorded): the credit sub-score it is graded with.
    # 0 is the conservative choice: an unassessed customer never out-grades an assessed one.
    grade_credit_unknown_score: int = 0
    # Risk-control measures (policy 3.3) by KYC risk rating (DOMAIN.md) and by tier
    # (firm policy: the tiers with more at stake get a senior review of large moves).
    risk_measures_high: tuple[str, ...] = (
        "enhanced_due_diligence",
        "reverification_6_months",
        "senior_approval_new_products",
    )
    risk_measures_medium: tuple[str, ...] = ("reverification_12_months",)
    risk_measures_low: tuple[str, ...] = ("reverification_24_months",)
    risk_measures_vip: tuple[str, ...] = ("senior_review_large_transactions",)
    risk_measures_premium: tuple[str, ...] = ("large_transaction_monitoring",)
    risk_measures_ordinary: tuple[str, ...] = ()
    # Satisfaction
    csat_dissatisfied_max: int = 2
    nps_promoter_min: int = 9
    nps_detractor_max: int = 6
    # Customer lifetime value (clv) and the value strategies of policy 6.2
    clv_retention: Decimal = Decimal("0.85")
    clv_discount: Decimal = Decimal("0.08")
    clv_acquisition_cost: Decimal = Decimal("0")
    high_potential_ratio: Decimal = Decimal("2")
    # Regular surveys (5.1): not twice within the interval; a share of those due each run
    survey_interval_days: int = 90
    survey_sample_percent: int = 10
    # Service quality: how far past its target a measurement may be before it breaches
    standard_breach_tolerance: Decimal = Decimal("0")
    # Service standards are reviewed at least this often (months since the last review)
    standard_review_months: int = 12
    # Evaluation use (8.3): the target of each KPI (rates as fractions, NPS in points)
    kpi_target_csat: Decimal = Decimal("0.80")
    kpi_target_nps: Decimal = Decimal("30")
    kpi_target_loyalty: Decimal = Decimal("0.30")
    # Loyalty (8.1): tenure of at least this many months and this many products held
    loyalty_tenure_months: int = 24
    loyalty_min_products: int = 2
    kpi_target_churn_rate: Decimal = Decimal("0.05")
    kpi_target_retention_rate: Decimal = Decimal("0.90")
    kpi_target_value_uplift: Decimal = Decimal("0")
    kpi_target_complaint_sla: Decimal = Decimal("0.95")
    kpi_target_first_contact_resolution: Decimal = Decimal("0.70")
    # Churn early warning
    churn_lookback_days: int = 90
    churn_drop_fraction: Decimal = Decimal("0.5")
    churn_complaints_min: int = 2
    churn_inactive_days: int = 180
    # Security
    kek_rotation_days: int = 90
    # Calendars
    holidays: tuple[date, ...] = CN_HOLIDAYS_2026
    workdays: tuple[date, ...] = CN_WORKDAYS_2026
    uk_holidays: tuple[date, ...] = UK_HOLIDAYS_2026

    def __post_init__(self) -> None:
        for f in fields(self):
            _check_value(f.name, getattr(self, f.name), f.default)
        _check_fraction("escalation_fraction", self.escalation_fraction)
        _check_fraction("churn_drop_fraction", self.churn_drop_fraction)
        _check_fraction("standard_breach_tolerance", self.standard_breach_tolerance, closed=True)
        for kpi in _RATE_KPIS:
            _check_fraction(f"kpi_target_{kpi}", getattr(self, f"kpi_target_{kpi}"), closed=True)
        if not -100 <= self.kpi_target_nps <= 100:
            raise SettingsError("rule setting 'kpi_target_nps' must be between -100 and 100")
        weights = [getattr(self, f"tier_weight_{name}") for name in _WEIGHTS]
        for name, weight in zip(_WEIGHTS, weights, strict=True):
            _check_fraction(f"tier_weight_{name}", weight, closed=True)
        if sum(weights) != 1:
            raise SettingsError("rule setting 'tier_weight_*': the four weights must sum to 1")
        if not 0 < self.tier_premium_threshold < self.tier_vip_threshold <= 100:
            raise SettingsError(
                "rule setting 'tier_vip_threshold': need 0 < premium < VIP threshold <= 100"
            )
        if self.standard_review_months <= 0:
            raise SettingsError("rule setting 'standard_review_months' must be positive")
        if self.loyalty_tenure_months < 0 or self.loyalty_min_products < 1:
            raise SettingsError(
                "rule setting 'loyalty_*': tenure months must not be negative, products >= 1"
            )
        if self.grade_cap_yearly_amount <= 0:
            raise SettingsError("rule setting 'grade_cap_yearly_amount' must be positive")
        if self.grade_credit_unknown_score > 100:
            raise SettingsError("rule setting 'grade_credit_unknown_score' must be within 0..100")
        _check_fraction("clv_retention", self.clv_retention, closed=True)
        if self.clv_discount < 0 or self.clv_retention >= 1 + self.clv_discount:
            raise SettingsError(
                "rule setting 'clv_discount': need a discount >= 0 and retention < 1 + discount"
            )
        if self.clv_acquisition_cost < 0:
            raise SettingsError("rule setting 'clv_acquisition_cost' must not be negative")
        if self.high_potential_ratio <= 1:
            raise SettingsError("rule setting 'high_potential_ratio' must be above 1")
        if self.survey_sample_percent > 100:
            raise SettingsError("rule setting 'survey_sample_percent' must be between 1 and 100")
        if self.csat_dissatisfied_max > 4:
            raise SettingsError("rule setting 'csat_dissatisfied_max' must be between 1 and 4")
        if not self.nps_detractor_max < self.nps_promoter_min <= 10:
            raise SettingsError(
                "rule setting 'nps_promoter_min': need detractor max < promoter min <= 10"
            )
        # PBoC: a lower risk tier is never reviewed more often than the tier above it.
        cycles = (
            self.reverification_months_high,
            self.reverification_months_medium,
            self.reverification_months_low,
        )
        if not cycles[0] <= cycles[1] <= cycles[2]:
            raise SettingsError(
                "rule setting 'reverification_months_*': cycles must not shorten as risk falls"
            )


_WEIGHTS = ("amount", "frequency", "loyalty", "credit")
_RATE_KPIS = (
    "csat",
    "loyalty",
    "churn_rate",
    "retention_rate",
    "complaint_sla",
    "first_contact_resolution",
)
# Tuple settings that hold names rather than dates, with the names each may hold.
_NAME_LISTS: dict[str, tuple[str, ...]] = {
    "greeting_festivals": ("spring_festival", "mid_autumn", "national_day"),
}
# Integer settings that may be 0; every other integer setting must be at least 1.
_ZERO_ALLOWED = frozenset(
    {
        "reverification_due_soon_days",
        "id_expiring_days",
        "nps_detractor_max",
        "grade_credit_unknown_score",
    }
)
# Settings that are lists of codes (risk measures) rather than of dates.
_CODE_LISTS = frozenset(
    f"risk_measures_{key}" for key in ("high", "medium", "low", "vip", "premium", "ordinary")
)
_CODE = re.compile(r"^[a-z][a-z0-9_]{0,59}$")


def _check_value(name: str, value: object, default: object) -> None:
    if name in _NAME_LISTS:
        allowed = _NAME_LISTS[name]
        if not isinstance(value, tuple) or not all(v in allowed for v in value):
            raise SettingsError(f"rule setting {name!r} takes only: {', '.join(allowed)}")
        if len(set(value)) != len(value):
            raise SettingsError(f"rule setting {name!r} names an entry twice")
        return
    if name in _CODE_LISTS:
        ok = isinstance(value, tuple) and all(
            isinstance(code, str) and _CODE.match(code) for code in value
        )
    elif isinstance(default, tuple):
        # datetime is a date subclass; a holiday with a time of day is a mistake.
        ok = isinstance(value, tuple) and all(type(d) is date for d in value)
    elif isinstance(default, Decimal):
        ok = isinstance(value, Decimal) and value.is_finite()
    else:
        ok = isinstance(value, int) and not isinstance(value, bool)
        floor = 0 if name in _ZERO_ALLOWED else 1
        if isinstance(value, int) and ok and value < floor:
            raise SettingsError(f"rule setting {name!r} must be at least {floor}")
    if not ok:
        raise SettingsError(f"rule setting {name!r} has a value of the wrong type")


def _check_fraction(name: str, value: Decimal, *, closed: bool = False) -> None:
    if not (0 <= value <= 1 if closed else 0 < value < 1):
        bounds = "between 0 and 1" if closed else "strictly between 0 and 1"
        raise SettingsError(f"rule setting {name!r} must be {bounds}")


def _parse_int(name: str, raw: object) -> int:
    if isinstance(raw, int) and not isinstance(raw, bool):
        return raw
    if isinstance(raw, str):
        try:
            return int(raw.strip())
        except ValueError:
            pass
    raise SettingsError(f"rule setting {name!r} must be an integer, got {raw!r}")


def _parse_decimal(name: str, raw: object) -> Decimal:
    # JSON is read with parse_float=Decimal, so binary floats never reach a rule.
    if isinstance(raw, (Decimal, int, str)) and not isinstance(raw, bool):
        try:
            value = Decimal(raw.strip() if isinstance(raw, str) else raw)
        except InvalidOperation:
            pass
        else:
            if value.is_finite():
                return value
    raise SettingsError(f"rule setting {name!r} must be a decimal number, got {raw!r}")


def _parse_dates(name: str, raw: object) -> tuple[date, ...]:
    if not isinstance(raw, list):
        raise SettingsError(f"rule setting {name!r} must be a list of ISO dates")
    parsed: set[date] = set()
    for item in raw:
        if not isinstance(item, str):
            raise SettingsError(f"rule setting {name!r} has a non-string date {item!r}")
        try:
            parsed.add(date.fromisoformat(item))
        except ValueError:
            raise SettingsError(f"rule setting {name!r} has an invalid date {item!r}") from None
    return tuple(sorted(parsed))


def _parse_codes(name: str, raw: object) -> tuple[str, ...]:
    if not isinstance(raw, list) or not all(isinstance(item, str) for item in raw):
        raise SettingsError(f"rule setting {name!r} must be a list of codes")
    for item in raw:
        if not _CODE.match(item):
            raise SettingsError(
                f"rule setting {name!r}: {item!r} is not a code (lower case, digits, _)"
            )
    return tuple(dict.fromkeys(raw))


def _parser_for(name: str, default: object) -> Callable[[str, object], object]:
    if name in _CODE_LISTS or name in _NAME_LISTS:
        return _parse_codes
    if isinstance(default, tuple):
        return _parse_dates
    if isinstance(default, Decimal):
        return _parse_decimal
    return _parse_int


_DEFAULTS: dict[str, object] = {f.name: f.default for f in fields(RuleSettings)}


def parse_rule_settings(
    file_values: Mapping[str, object] | None = None,
    env: Mapping[str, str] | None = None,
    *,
    file_name: str = "the rules file",
) -> RuleSettings:
    """Return the defaults overridden by `file_values` (a rules file's JSON object, keys
    are field names), then by the `LEDGER_RULE_<FIELD>` entries of `env`.

    Reads no file and no environment: the composition root (security.settings) reads
    them once and passes them in. Guarantees: the result passed every check of
    `RuleSettings`; an unknown key or a bad value raises `SettingsError` whose one-line
    message names the key (and `file_name` for a file key).
    """
    values: dict[str, object] = {}
    for key, raw in (file_values or {}).items():
        if key not in _DEFAULTS:
            raise SettingsError(f"unknown rule setting {key!r} in {file_name}")
        values[key] = _parser_for(key, _DEFAULTS[key])(key, raw)
    for env_key, raw in (env or {}).items():
        if not env_key.startswith(ENV_PREFIX):
            continue
        key = env_key[len(ENV_PREFIX) :].lower()
        if key not in _DEFAULTS or env_key != ENV_PREFIX + key.upper():
            raise SettingsError(f"unknown rule setting environment variable {env_key!r}")
        parsed_raw: object = raw
        if isinstance(_DEFAULTS[key], tuple):
            # A list in one variable: ISO dates (or codes) separated by commas, "" for none.
            parsed_raw = [part.strip() for part in raw.split(",") if part.strip()]
        values[key] = _parser_for(key, _DEFAULTS[key])(env_key, parsed_raw)
    return RuleSettings(**values)  # type: ignore[arg-type]


def settings_as_dict(settings: RuleSettings) -> dict[str, object]:
    """Return every setting as JSON-ready values: decimals and dates as strings, in field order."""
    out: dict[str, object] = {}
    for f in fields(settings):
        value = getattr(settings, f.name)
        if f.name in _CODE_LISTS or f.name in _NAME_LISTS:
            out[f.name] = list(value)
        elif isinstance(value, tuple):
            out[f.name] = [d.isoformat() for d in sorted(value)]
        elif isinstance(value, Decimal):
            # Normalised so that 0.80 and 0.8, equal values, print (and hash) alike.
            out[f.name] = format(value.normalize(), "f")
        else:
            out[f.name] = value
    return out


def settings_fingerprint(settings: RuleSettings) -> str:
    """Return a SHA-256 hex digest that changes exactly when some setting's value changes.

    An event can record it next to a rule version to pin every configurable number used.
    """
    canonical = json.dumps(settings_as_dict(settings), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()
