"""The console's pure parts: the SVG charts, the SLA colours, the catalogs."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po

from web.console.charts import Point, bar_chart
from web.console.views import DUE_SOON_SECONDS, parse_note, sla_state

pytestmark = pytest.mark.unit

TRANSLATIONS = Path(__file__).parents[2] / "web" / "console" / "translations"
CONSOLE = TRANSLATIONS.parent


def test_a_chart_labels_each_bar_with_the_api_text_and_describes_every_value() -> None:
    svg = bar_chart("NPS <trend>", [Point("2026-03", "-12.50"), Point("2026-04", None),
                                    Point("2026-05", "40.00")], chart_id="c")  # fmt: skip
    assert re.findall(r'class="value" data-period="([^"]+)">([^<]*)<', svg) == [
        ("2026-03", "-12.50"), ("2026-04", "—"), ("2026-05", "40.00")]  # fmt: skip
    assert '<title id="c-t">NPS &lt;trend&gt;</title>' in svg
    assert "2026-03: -12.50; 2026-04: —; 2026-05: 40.00" in svg
    assert 'role="img"' in svg and "style=" not in svg  # no inline style: CSP 'self'
    heights = [float(h) for h in re.findall(r'<rect [^>]*height="([\d.]+)"', svg)]
    assert len(heights) == 2 and heights[1] > heights[0] > 0  # 40 is taller than |-12.5|


def test_a_chart_labels_its_axes_with_the_unit_and_the_scale() -> None:
    svg = bar_chart("Churn rate", [Point("2026-03", "0.2500"), Point("2026-04", "0.5000")],
                    chart_id="k", unit="share (0-1)", x_label="Month")  # fmt: skip
    assert re.search(
        r'class="y-label" id="k-unit" transform="rotate\(-90[^"]*\)">share \(0-1\)<', svg
    )
    assert re.findall(r'class="tick">([^<]*)<', svg) == ["0.5", "0"]  # top, then zero
    assert 'class="x-label" aria-hidden="true">Month<' in svg
    assert '<desc id="k-d">share (0-1). 2026-03: 0.2500' in svg
    negative = bar_chart("NPS", [Point("2026-03", "-20"), Point("2026-04", "40")], chart_id="n")
    assert re.findall(r'class="tick">([^<]*)<', negative) == ["40", "0", "-20"]


def test_a_chart_of_no_numbers_draws_no_bar() -> None:
    svg = bar_chart("empty", [Point("2026-03", None), Point("2026-04", "NaN")], chart_id="e")
    assert "<rect" not in svg and svg.count('class="value"') == 2


@pytest.mark.parametrize(
    ("case", "state"),
    [
        ({"overdue": True, "seconds_left": -5}, "overdue"),
        ({"overdue": False, "seconds_left": DUE_SOON_SECONDS}, "due-soon"),
        ({"overdue": False, "seconds_left": DUE_SOON_SECONDS + 1}, "on-time"),
        ({"overdue": False, "seconds_left": None}, "no-deadline"),
    ],
)
def test_sla_states(case: dict[str, object], state: str) -> None:
    assert sla_state(case) == state


def test_a_cosigned_note_names_its_signers() -> None:
    note = "origin\n5\nROOT=\n\n\u2014 log.example abc=\n\u2014 witness.example def=\n"
    parsed = parse_note(note)
    assert (parsed["origin"], parsed["size"], parsed["root"]) == ("origin", "5", "ROOT=")
    assert parsed["signers"] == ["log.example", "witness.example"]


def source_messages() -> set[str]:
    """Every literal message of the console's templates and code."""
    found: set[str] = set()
    for path in [*CONSOLE.rglob("*.html"), *CONSOLE.glob("*.py")]:
        text = path.read_text(encoding="utf-8")
        found.update(re.findall(r'\b_l?\(\s*"((?:[^"\\]|\\.)+)"', text))
    return found


def test_every_message_of_the_console_is_translated_to_chinese() -> None:
    with (TRANSLATIONS / "zh_Hans_CN" / "LC_MESSAGES" / "messages.po").open("rb") as po:
        catalog = read_po(po)
    translated = {m.id for m in catalog if m.id and m.string and not m.fuzzy}
    missing = source_messages() - translated
    assert not missing, f"run `python -m web.console.translations.build` and translate {missing}"


def test_the_compiled_catalog_is_that_of_the_po_file() -> None:
    folder = TRANSLATIONS / "zh_Hans_CN" / "LC_MESSAGES"
    with (folder / "messages.po").open("rb") as po, (folder / "messages.mo").open("rb") as mo:
        source, compiled = read_po(po), read_mo(mo)
    assert {m.id: m.string for m in source if m.id and m.string} == {
        m.id: m.string for m in compiled if m.id
    }


def test_a_problem_names_the_fields_the_api_refused() -> None:
    from werkzeug.datastructures import Headers

    from web.console._api import Answer

    body = {"detail": "the request has invalid fields: see errors",
            "errors": {"period": ["the first period must not be after the last"],
                       "json": {"until": ["must be after since"]}}}  # fmt: skip
    said = Answer(422, body, Headers(), "").problem
    assert said == (
        "the request has invalid fields: see errors (period: the first period must not be "
        "after the last; json.until: must be after since)"
    )
    assert Answer(403, {"detail": "no"}, Headers(), "").problem == "no"


def test_disclosure_forms_do_not_offer_break_glass_but_the_access_log_filter_does() -> None:
    from web.console.forms import purpose_choices

    assert "emergency_access" not in {value for value, _ in purpose_choices()}
    assert "emergency_access" in {value for value, _ in purpose_choices(disclose=False)}
