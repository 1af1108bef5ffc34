"""The direction of imports (ARCHITECTURE.md §1), and a domain that reads no environment
and no files: checked on the source, so a new module cannot quietly break them."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

pytestmark = pytest.mark.unit

ROOT = Path(__file__).resolve().parents[2]
OURS = {"domain", "security", "projections", "scheduler", "web", "demo", "ledger_verify"}
# what each package may import of ours (itself always)
ALLOWED = {
    "ledger_verify": set(),
    "domain": set(),
    "demo": {"domain"},
    "security": {"domain", "ledger_verify"},
    "projections": {"domain", "security", "ledger_verify"},
    "scheduler": {"domain", "security", "projections", "ledger_verify"},
    "web": {"domain", "security", "projections", "scheduler", "demo", "ledger_verify"},
}
FOLDERS = {name: ROOT / name for name in ALLOWED}
FOLDERS["ledger_verify"] = ROOT / "verifier" / "ledger_verify"
SERVER_LIBRARIES = {"eventsourcing", "flask", "flask_smorest", "apscheduler", "psycopg", "click"}


def modules(package: str) -> Iterator[tuple[Path, ast.Module]]:
    for path in sorted(FOLDERS[package].rglob("*.py")):
        yield path, ast.parse(path.read_text("utf-8"), str(path))


def imported(tree: ast.Module) -> Iterator[tuple[int, str]]:
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            yield node.lineno, node.module


@pytest.mark.parametrize("package", sorted(ALLOWED))
def test_a_package_imports_only_the_layers_below_it(package: str) -> None:
    wrong = [
        f"{path.relative_to(ROOT)}:{line} imports {name}"
        for path, tree in modules(package)
        for line, name in imported(tree)
        if (top := name.split(".")[0]) in OURS and top != package and top not in ALLOWED[package]
    ]
    assert wrong == []


def test_the_verifier_needs_none_of_the_server_libraries() -> None:
    wrong = [
        f"{path.relative_to(ROOT)}:{line} imports {name}"
        for path, tree in modules("ledger_verify")
        for line, name in imported(tree)
        if name.split(".")[0] in SERVER_LIBRARIES
    ]
    assert wrong == []


def test_the_domain_reads_no_environment_and_no_files() -> None:
    wrong = []
    for path, tree in modules("domain"):
        for line, name in imported(tree):
            if name.split(".")[0] in {"os", "pathlib", "io", "shutil", "tempfile"}:
                wrong.append(f"{path.relative_to(ROOT)}:{line} imports {name}")
        for node in ast.walk(tree):
            called = isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
            if called and node.func.id == "open":  # type: ignore[attr-defined]
                wrong.append(f"{path.relative_to(ROOT)}:{node.lineno} calls open()")
    assert wrong == []
