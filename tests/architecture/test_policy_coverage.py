"""docs/policy-coverage.md names only what exists: events, rules, jobs, endpoints, views."""

from __future__ import annotations

import importlib
import re
from functools import cache
from pathlib import Path
from typing import Any

import pytest

from domain.events import LedgerEvent
from projections.runtime import VIEW_CLASSES
from scheduler.registry import BY_NAME
from web.app import create_app

pytestmark = pytest.mark.unit

DOC = Path(__file__).parents[2] / "docs" / "policy-coverage.md"
COLUMNS = ("Article", "Requirement", "Events", "Rules", "Jobs", "Endpoints", "Views", "Status")
STATUSES = ("built", "partial", "missing")
METHODS = ("get", "post", "put", "patch", "delete")


def rows() -> list[dict[str, str]]:
    """The coverage table's rows as {column: cell}."""
    text = DOC.read_text(encoding="utf-8")
    table = text.split("<!-- coverage:start -->")[1].split("<!-- coverage:end -->")[0]
    lines = [line for line in table.strip().splitlines() if line.startswith("|")]
    header = [cell.strip() for cell in lines[0].strip("|").split("|")]
    assert tuple(header) == COLUMNS
    return [
        dict(zip(COLUMNS, (cell.strip() for cell in line.strip("|").split("|")), strict=True))
        for line in lines[2:]
    ]


def names(cell: str) -> list[str]:
    return re.findall(r"`([^`]+)`", cell)


def resolve(dotted: str) -> Any:
    """The object a dotted path names: the longest importable module, then attributes."""
    parts = dotted.split(".")
    for cut in range(len(parts) - 1, 0, -1):
        try:
            found: Any = importlib.import_module(".".join(parts[:cut]))
        except ModuleNotFoundError:
            continue
        for attribute in parts[cut:]:
            found = getattr(found, attribute)
        return found
    raise ModuleNotFoundError(dotted)


@cache
def operations() -> frozenset[str]:
    spec = create_app().extensions["ledger_api"].spec.to_dict()
    return frozenset(
        f"{method.upper()} {path}"
        for path, operations in spec["paths"].items()
        for method in operations
        if method in METHODS
    )


def test_every_chapter_of_the_policy_has_rows_with_a_status() -> None:
    found = rows()
    chapters = {row["Article"][0] for row in found}
    assert chapters == set("12345678")
    for row in found:
        assert re.split(r"[\s:]", row["Status"])[0] in STATUSES, row["Article"]
        built = row["Status"] == "built"
        assert not built or names(row["Events"]), f"{row['Article']}: built without events"


def test_every_event_named_is_an_event_class() -> None:
    for row in rows():
        for name in names(row["Events"]):
            event = resolve(name)
            assert isinstance(event, type) and issubclass(event, LedgerEvent), name


def test_every_rule_named_is_a_domain_function() -> None:
    for row in rows():
        for name in names(row["Rules"]):
            assert name.startswith("domain."), name
            assert callable(resolve(name)), name


def test_every_job_named_is_scheduled() -> None:
    for row in rows():
        for name in names(row["Jobs"]):
            assert name in BY_NAME, name


def test_every_endpoint_named_is_in_the_openapi_document() -> None:
    for row in rows():
        for name in names(row["Endpoints"]):
            assert name in operations(), name


def test_every_view_named_is_a_projection() -> None:
    views = {cls.name for cls in VIEW_CLASSES}
    for row in rows():
        for name in names(row["Views"]):
            assert name in views, name


def test_a_wrong_name_would_be_caught() -> None:
    with pytest.raises((ModuleNotFoundError, AttributeError)):
        resolve("domain.quality.NoSuchEvent")
    assert "GET /api/v1/no-such-thing" not in operations()
