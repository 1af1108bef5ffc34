"""Business calendars from maintained data (chinese-calendar, holidays) and the firm's
override file: working days across the new year, adjusted working weekend days, and an
uncovered year as an error at start-up, in /readyz and in a job — never a fallback."""

from __future__ import annotations

import json
import logging
from dataclasses import replace
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from domain.calendars import CalendarNotCovered, TableCalendar
from domain.rules.complaints import complaint_deadline
from domain.rules.kyc import risk_rating_deadline
from domain.settings import RuleSettings
from security.calendars import (
    DataCalendar,
    check_at_startup,
    load_calendars,
    read_overrides,
    refuse_table_settings,
)
from security.errors import ConfigurationError
from tests.conftest import CALENDAR_OVERRIDES

pytestmark = pytest.mark.unit

S = RuleSettings()


@pytest.fixture(scope="module")
def packages() -> Any:
    """The packages' data alone (no override file)."""
    return load_calendars(None)


@pytest.fixture(scope="module")
def with_2027() -> Any:
    """The packages plus the test override file's CN 2027 (New Year's Day only)."""
    return load_calendars(CALENDAR_OVERRIDES)


def write(tmp_path: Path, data: object) -> Path:
    path = tmp_path / "calendar.json"
    path.write_text(data if isinstance(data, str) else json.dumps(data), encoding="utf-8")
    return path


def test_a_cn_adjusted_working_saturday_counts_as_a_working_day(packages: Any) -> None:
    # 2026-02-14 is a Saturday made a working day before the Spring Festival (15-23 Feb)
    assert packages.cn.is_business_day(date(2026, 2, 14))
    assert not packages.cn.is_business_day(date(2026, 2, 16))
    # from Fri 6 Feb: 9-13 Feb (5), Sat 14 Feb (6), holidays, then 24-27 Feb (10)
    assert risk_rating_deadline(date(2026, 2, 6), S, packages.cn) == date(2026, 2, 27)


def test_the_risk_rating_deadline_across_the_new_year_needs_next_years_calendar(
    packages: Any, with_2027: Any
) -> None:
    # chinese-calendar 1.11.0 ends at 2026: a walk into 2027 is an error, not a guess
    with pytest.raises(CalendarNotCovered, match="CN business calendar does not cover 2027"):
        risk_rating_deadline(date(2026, 12, 18), S, packages.cn)
    # with 2027 from the override file: 21-25 Dec (5), 28-31 Dec (9), 1 Jan off, 4 Jan
    assert risk_rating_deadline(date(2026, 12, 18), S, with_2027.cn) == date(2027, 1, 4)
    # inside 2026 the package alone: 1-7 Oct off, 8-9 Oct, Sat 10 Oct worked, 12-20 Oct
    assert risk_rating_deadline(date(2026, 9, 30), S, packages.cn) == date(2026, 10, 20)


def test_uk_summary_windows_across_the_new_year_use_the_bank_holidays(
    packages: Any,
) -> None:
    # received Wed 30 Dec 2026: 31 Dec (1), New Year's Day off, weekend, 4 Jan (2), 5 Jan (3)
    received = datetime(2026, 12, 30, 15, 0, tzinfo=UTC)
    result = complaint_deadline(received, "UK", "standard", S, packages.uk)
    assert result.summary_resolution_by == datetime(2027, 1, 6, tzinfo=UTC)
    # received Thu 24 Dec: Christmas, Boxing Day (substitute Mon 28 Dec) off: 29, 30, 31 Dec
    christmas = complaint_deadline(
        datetime(2026, 12, 24, 9, 0, tzinfo=UTC), "UK", "standard", S, packages.uk
    )
    assert christmas.summary_resolution_by == datetime(2027, 1, 1, tzinfo=UTC)


def test_hk_and_us_have_their_public_holidays(packages: Any) -> None:
    assert not packages.hk.is_business_day(date(2027, 1, 1))
    assert not packages.us.is_business_day(date(2027, 7, 5))  # Independence Day observed
    assert packages.us.is_business_day(date(2027, 7, 6))


def test_the_override_file_adds_a_year_and_replaces_what_it_names(
    tmp_path: Path, packages: Any
) -> None:
    path = write(
        tmp_path,
        {
            "CN": {"2027": {"holidays": ["2027-01-01", "2027-02-08"], "workdays": ["2027-02-06"]}},
            "UK": {"2026": {"holidays": ["2026-12-29"]}},
        },
    )
    calendars = load_calendars(path)
    assert not packages.cn.covers(2027) and calendars.cn.covers(2027)
    assert calendars.cn.is_business_day(date(2027, 2, 6))  # a listed working Saturday
    assert not calendars.cn.is_business_day(date(2027, 2, 8))
    # a year in the file replaces the package's year: 25 Dec is worked, 29 Dec is not
    assert calendars.uk.is_business_day(date(2026, 12, 25))
    assert not calendars.uk.is_business_day(date(2026, 12, 29))


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("{not json", "is not valid JSON"),
        ({"FR": {}}, "unknown jurisdiction 'FR'"),
        ({"CN": {"27": {"holidays": []}}}, "CN 27: the year must be four digits"),
        ({"CN": {"2027": {"holidays": ["2027-13-01"]}}}, "'2027-13-01' is not a 'YYYY-MM-DD'"),
        ({"CN": {"2027": {"holidays": ["2028-01-01"]}}}, "lists a day of another year"),
        ({"CN": {"2027": {"holiday": []}}}, "needs only 'holidays' and 'workdays'"),
        ([], "must hold a JSON object"),
    ],
)
def test_a_malformed_override_file_is_a_one_line_error(
    tmp_path: Path, content: object, message: str
) -> None:
    path = write(tmp_path, content)
    with pytest.raises(ConfigurationError) as raised:
        read_overrides(path)
    assert message in str(raised.value) and "\n" not in str(raised.value)
    assert str(path) in str(raised.value)


def test_start_up_refuses_an_uncovered_current_year_and_warns_for_the_next(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    with pytest.raises(ConfigurationError, match="no business calendar for CN 2027") as raised:
        check_at_startup(None, date(2027, 3, 1))  # the current year itself
    assert "LEDGER_CALENDAR_OVERRIDES" in str(raised.value) and "\n" not in str(raised.value)
    with caplog.at_level(logging.WARNING, logger="security.calendars"):
        calendars = check_at_startup(None, date(2026, 12, 1))  # the next year: a warning
    assert not calendars.cn.covers(2027)
    assert any("no business calendar for CN 2027" in r.getMessage() for r in caplog.records)
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="security.calendars"):
        assert check_at_startup(CALENDAR_OVERRIDES, date(2026, 12, 1)).cn.covers(2027)
    assert not caplog.records


def test_a_command_with_a_malformed_override_file_exits_with_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from web.cli import main

    monkeypatch.setenv("LEDGER_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("LEDGER_CALENDAR_OVERRIDES", str(write(tmp_path, {"CN": []})))
    result = CliRunner().invoke(main, ["init"])
    assert result.exit_code != 0
    lines = [line for line in (result.stderr or result.output).splitlines() if line]
    assert len(lines) == 1 and "CN must map years" in lines[0]


def test_the_rule_settings_tables_alone_cover_only_their_year() -> None:
    settings = replace(S)
    with pytest.raises(CalendarNotCovered, match="2027"):
        risk_rating_deadline(date(2026, 12, 18), settings)


def test_the_rule_settings_tables_are_refused_for_the_ledger() -> None:
    with pytest.raises(ConfigurationError, match=r"'uk_holidays' is not used.*CALENDAR_OVERRIDES"):
        refuse_table_settings(RuleSettings(uk_holidays=(date(2027, 1, 1),)))
    refuse_table_settings(RuleSettings())


def test_a_package_answer_is_asked_once_per_day_and_process() -> None:
    """The package's data is fixed for the life of the process: a day's answer is
    remembered (a registration walks ten or more days, each a package lookup), the
    override years still answer from the override table, an uncovered year still fails."""
    asked: list[date] = []

    def package(day: date) -> bool:
        asked.append(day)
        return day.weekday() < 5

    override = TableCalendar("CN", frozenset({2027}), frozenset({date(2027, 1, 4)}))
    calendar = DataCalendar("CN", frozenset({2026}), package, {2027: override})
    for _ in range(3):
        assert calendar.is_business_day(date(2026, 3, 2)) is True
        assert calendar.is_business_day(date(2026, 3, 7)) is False
        assert calendar.is_business_day(date(2027, 1, 4)) is False  # the override's holiday
    assert asked == [date(2026, 3, 2), date(2026, 3, 7)]
    with pytest.raises(CalendarNotCovered):
        calendar.is_business_day(date(2028, 1, 3))
