"""Settings read once by the composition root: rule settings from their defaults, a JSON
file and the environment, with refusals; the rest of `Settings.from_env`."""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from domain.settings import (
    CN_HOLIDAYS_2026,
    RuleSettings,
    SettingsError,
    settings_as_dict,
    settings_fingerprint,
)
from security.errors import ConfigurationError
from security.settings import Settings, load_rule_settings

pytestmark = pytest.mark.unit


def load_settings(path: str | None = None, env: dict[str, str] | None = None) -> RuleSettings:
    """The rule settings `Settings.from_env` would read from this file and environment."""
    source = dict(env or {})
    if path is not None:
        source["LEDGER_RULES_FILE"] = path
    return load_rule_settings(source)


def write(tmp_path: Path, data: object) -> str:
    path = tmp_path / "rules.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    return str(path)


def test_defaults_match_the_policy_numbers() -> None:
    s = load_settings(env={})
    assert s == RuleSettings()
    assert (s.reverification_months_high, s.reverification_months_medium) == (6, 12)
    assert s.reverification_months_low == 24
    assert s.risk_rating_working_days == 10
    assert (s.reverification_due_soon_days, s.id_expiring_days) == (30, 90)
    assert (s.complaint_days_cn_standard, s.complaint_days_cn_complex) == (15, 30)
    assert s.complaint_days_cn_especially_complex == 60
    assert (s.complaint_uk_business_days, s.complaint_uk_final_weeks) == (3, 8)
    assert (s.complaint_us_response_days, s.complaint_us_final_days) == (15, 60)
    assert s.escalation_fraction == Decimal("0.8")
    assert (s.retention_years, s.elderly_age, s.elderly_follow_up_days) == (10, 60, 90)
    assert (s.dormant_days, s.rfm_window_months, s.tier_downgrade_quarters) == (180, 12, 2)
    assert (s.tier_vip_threshold, s.tier_premium_threshold) == (Decimal(80), Decimal(60))
    assert (s.csat_dissatisfied_max, s.nps_promoter_min, s.nps_detractor_max) == (2, 9, 6)
    assert (s.churn_lookback_days, s.churn_complaints_min, s.churn_inactive_days) == (90, 2, 180)
    assert s.churn_drop_fraction == Decimal("0.5")
    assert s.kek_rotation_days == 90


def test_default_tier_weights_sum_to_one() -> None:
    s = RuleSettings()
    total = (
        s.tier_weight_amount
        + s.tier_weight_frequency
        + s.tier_weight_loyalty
        + s.tier_weight_credit
    )
    assert total == 1


def test_default_holidays_are_the_2026_mainland_china_public_holidays() -> None:
    s = RuleSettings()
    assert s.holidays == CN_HOLIDAYS_2026
    assert len(s.holidays) == 3 + 9 + 3 + 5 + 3 + 3 + 7
    assert date(2026, 2, 15) in s.holidays and date(2026, 2, 23) in s.holidays
    assert date(2026, 10, 7) in s.holidays
    assert date(2026, 2, 28) in s.workdays  # a Saturday made a working day


def test_file_overrides_defaults(tmp_path: Path) -> None:
    path = write(tmp_path, {"elderly_age": 65, "escalation_fraction": 0.75})
    s = load_settings(path, env={})
    assert s.elderly_age == 65
    assert s.escalation_fraction == Decimal("0.75")  # read as Decimal, never via float
    assert s.retention_years == 10


def test_file_named_by_env_is_used_when_no_path_given(tmp_path: Path) -> None:
    path = write(tmp_path, {"dormant_days": 200})
    assert load_settings(env={"LEDGER_RULES_FILE": path}).dormant_days == 200


def test_env_var_overrides_file(tmp_path: Path) -> None:
    path = write(tmp_path, {"elderly_age": 65})
    s = load_settings(path, env={"LEDGER_RULE_ELDERLY_AGE": "70"})
    assert s.elderly_age == 70


def test_env_vars_parse_decimals_and_date_lists() -> None:
    env = {
        "LEDGER_RULE_TIER_VIP_THRESHOLD": "85.5",
        "LEDGER_RULE_HOLIDAYS": "2026-12-25, 2026-12-24",
        "LEDGER_RULE_WORKDAYS": "",
    }
    s = load_settings(env=env)
    assert s.tier_vip_threshold == Decimal("85.5")
    assert s.holidays == (date(2026, 12, 24), date(2026, 12, 25))
    assert s.workdays == ()


def test_file_holidays_are_iso_date_strings(tmp_path: Path) -> None:
    s = load_settings(write(tmp_path, {"uk_holidays": ["2027-01-01"]}), env={})
    assert s.uk_holidays == (date(2027, 1, 1),)


def test_unrelated_env_vars_are_ignored() -> None:
    assert load_settings(env={"PATH": "/bin", "LEDGER_DATA_DIR": "./var"}) == RuleSettings()


def test_unknown_file_key_is_refused_naming_the_key(tmp_path: Path) -> None:
    with pytest.raises(SettingsError, match="'elderly_agee'") as info:
        load_settings(write(tmp_path, {"elderly_agee": 65}), env={})
    assert "\n" not in str(info.value)
    assert info.value.code == "settings_error"
    assert isinstance(info.value, ValueError)


def test_unknown_env_key_is_refused_naming_the_variable() -> None:
    with pytest.raises(SettingsError, match="LEDGER_RULE_ELDERLY_AGEE"):
        load_settings(env={"LEDGER_RULE_ELDERLY_AGEE": "65"})


def test_lowercase_env_key_is_refused() -> None:
    with pytest.raises(SettingsError, match="LEDGER_RULE_elderly_age"):
        load_settings(env={"LEDGER_RULE_elderly_age": "65"})


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("elderly_age", "sixty"),
        ("elderly_age", True),
        ("elderly_age", 0),
        ("elderly_age", 60.5),
        ("escalation_fraction", "1.2"),
        ("escalation_fraction", "NaN"),
        ("holidays", ["2026-13-01"]),
        ("holidays", "2026-01-01"),
        ("holidays", [20260101]),
    ],
)
def test_bad_file_value_is_refused_naming_the_key(tmp_path: Path, key: str, value: object) -> None:
    with pytest.raises(SettingsError, match=repr(key)):
        load_settings(write(tmp_path, {key: value}), env={})


def test_bad_env_value_is_refused_naming_the_variable() -> None:
    with pytest.raises(SettingsError, match="LEDGER_RULE_DORMANT_DAYS"):
        load_settings(env={"LEDGER_RULE_DORMANT_DAYS": "soon"})


def test_weights_not_summing_to_one_are_refused() -> None:
    with pytest.raises(SettingsError, match="tier_weight"):
        load_settings(env={"LEDGER_RULE_TIER_WEIGHT_AMOUNT": "0.5"})


def test_vip_threshold_at_or_below_premium_is_refused() -> None:
    with pytest.raises(SettingsError, match="tier_vip_threshold"):
        load_settings(env={"LEDGER_RULE_TIER_VIP_THRESHOLD": "60"})


def test_lower_risk_reviewed_more_often_than_higher_risk_is_refused() -> None:
    with pytest.raises(SettingsError, match="reverification_months"):
        RuleSettings(reverification_months_medium=3)


def test_nps_bands_that_overlap_are_refused() -> None:
    with pytest.raises(SettingsError, match="nps_promoter_min"):
        RuleSettings(nps_detractor_max=9)


def test_holiday_with_a_time_of_day_is_refused() -> None:
    from datetime import datetime

    with pytest.raises(SettingsError, match="'holidays'"):
        RuleSettings(holidays=(datetime(2026, 1, 1),))


def test_missing_file_is_refused_naming_the_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match=r"nope\.json"):
        load_settings(str(tmp_path / "nope.json"), env={})


def test_invalid_json_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "rules.json"
    path.write_text("{not json", encoding="utf-8")
    with pytest.raises(ConfigurationError, match="not valid JSON"):
        load_settings(str(path), env={})


def test_file_holding_a_list_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match="JSON object"):
        load_settings(write(tmp_path, [1, 2]), env={})


def test_settings_as_dict_round_trips_through_a_file(tmp_path: Path) -> None:
    original = RuleSettings(elderly_age=65, escalation_fraction=Decimal("0.75"))
    assert load_settings(write(tmp_path, settings_as_dict(original)), env={}) == original


def test_fingerprint_changes_with_a_value_and_ignores_decimal_spelling() -> None:
    base = settings_fingerprint(RuleSettings())
    assert settings_fingerprint(RuleSettings(escalation_fraction=Decimal("0.80"))) == base
    assert settings_fingerprint(RuleSettings(elderly_age=65)) != base


def test_settings_are_read_once_from_the_environment_and_handed_out(tmp_path: Path) -> None:
    path = write(tmp_path, {"dormant_days": 200})
    settings = Settings.from_env(
        {
            "LEDGER_DATA_DIR": str(tmp_path),
            "LEDGER_RULES_FILE": path,
            "LEDGER_RULE_ELDERLY_AGE": "70",
            "LEDGER_KEYRING_FILE": str(tmp_path / "k.json"),
            "LEDGER_EXPORT_KEEP_DAYS": "2.5",
            "LEDGER_VIEWS_FOLLOW": "off",
            "LEDGER_JOB_GRADING_ENABLED": "false",
            "LEDGER_SCHEDULER_TIMEZONE": "Asia/Shanghai",
            "UNRELATED": "x",
        }
    )
    assert (settings.rules.dormant_days, settings.rules.elderly_age) == (200, 70)
    assert settings.keyring_env == {"LEDGER_KEYRING_FILE": str(tmp_path / "k.json")}
    assert (settings.export_keep_days, settings.views_follow) == (2.5, False)
    assert settings.scheduler_env == {
        "LEDGER_JOB_GRADING_ENABLED": "false",
        "LEDGER_SCHEDULER_TIMEZONE": "Asia/Shanghai",
    }
    assert "UNRELATED" not in settings.library_env()


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("LEDGER_JWT_SECRET", "too-short"),
        ("LEDGER_EXPORT_KEEP_DAYS", "soon"),
        ("LEDGER_EXPORT_KEEP_DAYS", "-1"),
        ("LEDGER_VIEWS_FOLLOW", "maybe"),
        ("LEDGER_TOKEN_MAX_LIFETIME", "0"),
        ("LEDGER_TOKEN_MAX_LIFETIME", "twelve hours"),
        ("LEDGER_TOKEN_MAX_LIFETIME", str(31 * 86400)),
    ],
)
def test_a_bad_setting_is_refused_naming_its_variable(variable: str, value: str) -> None:
    with pytest.raises(ConfigurationError, match=variable):
        Settings.from_env({variable: value})


def test_the_location_of_a_postgres_ledger_never_shows_its_password() -> None:
    settings = Settings(database_url="postgresql://app:s3cret@db.example:5433/ledger?schema=x")
    target = settings.postgres_target()
    assert (target.password, target.schema) == ("s3cret", "x")
    assert "s3cret" not in target.location
    assert target.location == "postgresql://app@db.example:5433/ledger?schema=x"
    assert settings.postgres_env()["POSTGRES_PASSWORD"] == "s3cret"


def test_the_anchor_file_defaults_to_the_data_dir_and_can_be_set(tmp_path: Path) -> None:
    default = Settings.from_env({"LEDGER_DATA_DIR": str(tmp_path)})
    assert default.anchor_file == tmp_path / "anchors" / "checkpoints.log"
    worm = tmp_path / "worm" / "ledger.anchors"
    chosen = Settings.from_env({"LEDGER_DATA_DIR": str(tmp_path), "LEDGER_ANCHOR_FILE": str(worm)})
    assert chosen.anchor_file == worm


def test_the_token_secret_file_is_read_and_must_be_its_owners_only(tmp_path: Path) -> None:
    secret = tmp_path / "jwt.secret"
    secret.write_text("s" * 40 + "\n")
    secret.chmod(0o600)
    settings = Settings.from_env({"LEDGER_JWT_SECRET_FILE": str(secret)})
    assert settings.jwt_secret == b"s" * 40
    assert settings.token_max_lifetime == 12 * 3600
    assert Settings.from_env({"LEDGER_TOKEN_MAX_LIFETIME": "600"}).token_max_lifetime == 600
    secret.chmod(0o640)
    with pytest.raises(ConfigurationError, match=r"readable by group or others.*chmod 600"):
        Settings.from_env({"LEDGER_JWT_SECRET_FILE": str(secret)})
    secret.chmod(0o600)
    with pytest.raises(ConfigurationError, match="not both"):
        Settings.from_env({"LEDGER_JWT_SECRET_FILE": str(secret), "LEDGER_JWT_SECRET": "x" * 40})
    secret.write_text("short")
    with pytest.raises(ConfigurationError, match="LEDGER_JWT_SECRET_FILE must be at least 32"):
        Settings.from_env({"LEDGER_JWT_SECRET_FILE": str(secret)})
    with pytest.raises(ConfigurationError, match="cannot be read"):
        Settings.from_env({"LEDGER_JWT_SECRET_FILE": str(tmp_path / "missing")})


def test_the_search_limit_and_the_views_wait_cap_default_and_can_be_set() -> None:
    default = Settings.from_env({})
    assert (default.search_limit, default.views_max_wait) == (30, 2.0)
    chosen = Settings.from_env({"LEDGER_SEARCH_LIMIT": "5", "LEDGER_VIEWS_MAX_WAIT": "0.5"})
    assert (chosen.search_limit, chosen.views_max_wait) == (5, 0.5)
    for variable, value in (
        ("LEDGER_SEARCH_LIMIT", "0"),
        ("LEDGER_SEARCH_LIMIT", "many"),
        ("LEDGER_VIEWS_MAX_WAIT", "31"),
        ("LEDGER_VIEWS_MAX_WAIT", "-1"),
    ):
        with pytest.raises(ConfigurationError, match=variable):
            Settings.from_env({variable: value})
