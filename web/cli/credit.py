"""`ledger credit import FILE`: a credit bureau's file of assessments, recorded in bulk.

The file is CSV with a header row naming `customer_id`, `source`, `score` and
`assessed_on` (ISO date). Every row is checked before any is recorded (at most 1,000
rows a file), and a row equal to the customer's newest assessment is skipped, so
importing the same file twice records nothing twice. Messages name the row and the
column, never a value: a credit score is personal financial data. A bad file exits 2.
"""

from __future__ import annotations

import csv
from datetime import date
from pathlib import Path
from uuid import UUID

import click

from domain.actor import Actor
from domain.services.grading import CreditAssessment
from web.cli.exits import UsageProblem
from web.cli.group import LedgerGroup
from web.cli.store import open_ledger

COLUMNS = ("customer_id", "source", "score", "assessed_on")
IMPORTER = Actor("credit-import", "system", "batch", "credit bureau file")


def read_assessments(path: Path) -> list[CreditAssessment]:
    """The rows of a credit file (UTF-8, with or without the byte-order mark a
    spreadsheet writes); UsageProblem naming the first bad row and column."""
    try:
        return _read(path)
    except UnicodeDecodeError:
        raise UsageProblem(f"{path.name}: not a UTF-8 CSV file") from None


def _read(path: Path) -> list[CreditAssessment]:
    with path.open(newline="", encoding="utf-8-sig") as handle:
        reader = csv.DictReader(handle)
        missing = [name for name in COLUMNS if name not in (reader.fieldnames or ())]
        if missing:
            raise UsageProblem(f"{path.name}: missing column(s) {', '.join(missing)}")
        rows = []
        for number, row in enumerate(reader, start=1):
            column = "customer_id"
            try:
                customer_id = UUID(row["customer_id"])
                column = "score"
                score = int(row["score"])
                column = "assessed_on"
                assessed_on = date.fromisoformat(row["assessed_on"])
            except (TypeError, ValueError):
                raise UsageProblem(f"{path.name}: row {number}: {column} is not valid") from None
            rows.append(CreditAssessment(customer_id, row["source"] or "", score, assessed_on))
    return rows


@click.group("credit", cls=LedgerGroup)
def credit() -> None:
    """Credit assessments: grading uses each customer's newest."""


@credit.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, readable=True, path_type=Path))
def import_file(file: Path) -> None:
    """Record the credit assessments of FILE (CSV: customer_id, source, score,
    assessed_on); all or nothing; rows already held are skipped.

    Example: `ledger credit import bureau-2026-06.csv`
    """
    rows = read_assessments(file)
    ledger = open_ledger()
    try:
        recorded, skipped = ledger.app.import_credit_assessments(rows, IMPORTER)
    finally:
        ledger.close()
    click.echo(f"credit assessments: {recorded} recorded, {skipped} already held")


COMMANDS: tuple[click.Command, ...] = (credit,)
