"""docs/cli.md is generated from the commands; it must be current."""

from __future__ import annotations

from pathlib import Path

import pytest

from web.cli.reference import render

pytestmark = pytest.mark.unit

PAGE = Path(__file__).resolve().parents[3] / "docs" / "cli.md"


def test_docs_cli_md_is_generated_from_the_commands() -> None:
    assert PAGE.read_text("utf-8") == render(), (
        "docs/cli.md is out of date with the commands: run `make docs` and commit it"
    )


def test_the_reference_names_every_command_and_the_exit_codes() -> None:
    page = render()
    for heading in ("## ledger init", "## ledger verify", "## ledger token issue", "## Exit codes"):
        assert heading in page
    assert "LEDGER_DATA_DIR" in page and "LEDGER_DATABASE_URL" in page
