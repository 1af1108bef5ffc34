"""`ledger credit import FILE`: a bureau's CSV recorded all or nothing, once."""

from __future__ import annotations

from pathlib import Path
from uuid import UUID

import pytest
from click.testing import CliRunner

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
