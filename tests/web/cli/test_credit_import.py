"""`ledger credit import FILE`: a bureau's CSV recorded all or nothing, once."""

from __future__ import annotations

from pathlib import Path
from uuid import UUID

import pytest
from click.testing import CliRunner

from domain.errors import NotFound
from security.bootstrap import Settings, build_ledger
from tests.domain.factories import individual
from tests.support.environment import point_environment_at
from web.cli import main

pytestmark = pytest.mark.e2e

HEADER = "customer_id,source,score,assessed_on\n"


@pytest.fixture
def customers(ledger_config: Settings, monkeypatch: pytest.MonkeyPatch) -> list[UUID]:
    point_environment_at(ledger_config, monkeypatch)
    ledger = build_ledger(ledger_config)
    try:
        return [individual(ledger.app), individual(ledger.app, phone="13700000003")]
    finally:
        ledger.close()


def credit_of(config: Settings, customer_id: UUID) -> tuple[int | None, str | None]:
    ledger = build_ledger(config)
    try:
        view = ledger.app.get_grading(customer_id)
    finally:
        ledger.close()
    return view.credit_score, view.credit_source


def test_a_file_is_recorded_once_and_a_bad_row_records_nothing(
    customers: list[UUID], ledger_config: Settings, tmp_path: Path
) -> None:
    first, second = customers
    good = tmp_path / "bureau.csv"
    good.write_text(
        HEADER
        + f"{first},pboc_credit_reference,81,2026-02-01\n"
        + f"{second},pboc_credit_reference,47,2026-02-01\n"
    )
    bad = tmp_path / "bad.csv"
    bad.write_text(
        HEADER + f"{first},pboc_credit_reference,81,2026-02-01\n{second},x,high,2026-02-01\n"
    )
    runner = CliRunner()
    refused = runner.invoke(main, ["credit", "import", str(bad)])
    assert refused.exit_code == 2
    assert "row 2: score is not valid" in refused.output and "high" not in refused.output
    out_of_range = tmp_path / "range.csv"
    out_of_range.write_text(HEADER + f"{first},pboc_credit_reference,181,2026-02-01\n")
    refused = runner.invoke(main, ["credit", "import", str(out_of_range)])
    assert refused.exit_code == 2 and "row 1: score" in refused.output
    assert "181" not in refused.output
    done = runner.invoke(main, ["credit", "import", str(good)])
    assert done.exit_code == 0, done.output
    assert "2 recorded, 0 already held" in done.output
    again = runner.invoke(main, ["credit", "import", str(good)])
    assert "0 recorded, 2 already held" in again.output
    assert credit_of(ledger_config, second) == (47, "pboc_credit_reference")


def test_a_file_without_the_columns_is_refused(customers: list[UUID], tmp_path: Path) -> None:
    file = tmp_path / "odd.csv"
    file.write_text("id,score\n1,2\n")
    result = CliRunner().invoke(main, ["credit", "import", str(file)])
    assert result.exit_code == 2
    assert "missing column(s) customer_id, source, assessed_on" in result.output


def test_a_spreadsheet_csv_with_a_byte_order_mark_is_read(
    customers: list[UUID], ledger_config: Settings, tmp_path: Path
) -> None:
    first, _ = customers
    file = tmp_path / "excel.csv"
    file.write_bytes(
        b"\xef\xbb\xbf" + (HEADER + f"{first},pboc_credit_reference,66,2026-02-01\n").encode()
    )
    done = CliRunner().invoke(main, ["credit", "import", str(file)])
    assert done.exit_code == 0, done.output
    assert credit_of(ledger_config, first) == (66, "pboc_credit_reference")


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"\x89PNG\r\n\x1a\n\xff\xfe\x00binary", "not a UTF-8 CSV file"),
        (HEADER.encode() + b"{first},pboc_credit_reference,66,1899-12-31\n", "assessed_on"),
        (HEADER.encode() + b"{first},pboc_credit_reference,66,0001-01-01\n", "assessed_on"),
    ],
)
def test_a_binary_file_or_a_date_before_1900_is_a_usage_error_recording_nothing(
    customers: list[UUID], ledger_config: Settings, tmp_path: Path, content: bytes, message: str
) -> None:
    first, _ = customers
    file = tmp_path / "odd.csv"
    file.write_bytes(content.replace(b"{first}", str(first).encode()))
    result = CliRunner().invoke(main, ["credit", "import", str(file)])
    assert result.exit_code == 2, result.output
    assert message in result.output
    with pytest.raises(NotFound):  # nothing recorded: no grading stream was opened
        credit_of(ledger_config, first)
