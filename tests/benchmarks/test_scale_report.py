"""The scale benchmark's table and plot are written from its figures, nothing else."""

from __future__ import annotations

import xml.etree.ElementTree as ElementTree
from pathlib import Path
from typing import Any

import pytest

from benchmarks.scale_report import BEGIN, END, svg, table, write

pytestmark = pytest.mark.unit


def figures(events: int, kind: str = "full pass (incremental verify not built)") -> dict[str, Any]:
    return {
        "events": events,
        "append_rate": 1500.0,
        "seal_new_seconds": 2.5,
        "incremental_verify_seconds": events / 4000,
        "incremental_verify_kind": kind,
        "full_verify_seconds": events / 4000,
        "views_rate": None,
        "export_one_seconds": events / 7000,
        "proof_cold_seconds": events / 20000,
        "proof_warm_seconds": 0.0001,
        "as_of_seconds": 0.15,
        "step_seconds": 120.0,
    }


def test_the_table_has_a_row_per_size_and_marks_a_full_pass_posing_as_incremental() -> None:
    text = table([figures(100_000), figures(300_000)])
    rows = [line for line in text.splitlines() if line.startswith("| 1") or line.startswith("| 3")]
    assert [row.split("|")[1].strip() for row in rows] == ["100,000", "300,000"]
    assert "25.00 ‡" in rows[0] and "n/a" in rows[0]
    assert "fell back to a full pass" in text
    assert "‡" not in table([figures(100_000, "incremental")])


def test_the_seal_cell_shows_with_and_without_the_map_and_their_ratio_when_measured() -> None:
    old = figures(100_000, "incremental")  # a run from before the comparison
    new = {
        **figures(300_000, "incremental"),
        "subjects": 30_001,
        "seal_plain_seconds": 1.25,
        "seal_map_ratio": 2.0,
        "seal_map_ratio_range": [1.5, 2.5],
    }
    rows = [line for line in table([old, new]).splitlines() if line.startswith("| ")][1:]
    assert rows[0].split("|")[2:5] == [" n/a ", " 1,500 ", " 2.50 "]
    assert rows[1].split("|")[2:5] == [
        " 30,001 ",
        " 1,500 ",
        " 2.50 / 1.25 (ratio 2.00, 1.50-2.50) ",
    ]


def test_the_plot_is_an_svg_with_a_line_per_operation() -> None:
    root = ElementTree.fromstring(svg([figures(100_000), figures(1_000_000)]))  # noqa: S314 (our own output)
    lines = root.findall("{http://www.w3.org/2000/svg}polyline")
    assert len(lines) == 7  # no "without the map" figures: no line for them
    with_plain = {**figures(1_000_000), "seal_plain_seconds": 1.0}
    root = ElementTree.fromstring(svg([figures(100_000), with_plain]))  # noqa: S314
    assert len(root.findall("{http://www.w3.org/2000/svg}polyline")) == 8


def test_write_replaces_only_the_marked_block(tmp_path: Path) -> None:
    doc = tmp_path / "performance.md"
    doc.write_text(f"# Performance\n\nintro\n\n{BEGIN}\nold\n{END}\n\nafter\n")
    write([figures(100_000)], doc, tmp_path / "img" / "scale.svg")
    text = doc.read_text()
    assert text.startswith("# Performance\n\nintro\n\n" + BEGIN)
    assert text.endswith(END + "\n\nafter\n")
    assert "\nold\n" not in text and "| 100,000 |" in text
    assert (tmp_path / "img" / "scale.svg").read_text().startswith("<svg")
