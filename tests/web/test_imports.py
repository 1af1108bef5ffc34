"""Imports in web/ point one way: the app factory imports the blueprints, the
blueprints import their services from `web.context`, and nothing imports back."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import web

pytestmark = pytest.mark.unit

WEB = Path(web.__file__).parent


def module_name(path: Path) -> str:
    parts = path.relative_to(WEB.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports_of(path: Path, modules: set[str]) -> set[str]:
    """The web modules `path` imports anywhere in its body (lazy imports included)."""
    found: set[str] = set()
    package = module_name(path)
    if path.name != "__init__.py":
        package = package.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
                base = f"{anchor}.{base}" if base else anchor
            found.add(base)
            found.update(f"{base}.{alias.name}" for alias in node.names)
    return {name for name in found if name in modules}


def web_import_graph() -> dict[str, set[str]]:
    paths = {module_name(path): path for path in WEB.rglob("*.py")}
    modules = set(paths)
    return {name: imports_of(path, modules) - {name} for name, path in paths.items()}


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Every cycle found by a depth-first walk (each reported once, from where it closes)."""
    found: list[list[str]] = []
    state: dict[str, str] = {}

    def visit(node: str, trail: list[str]) -> None:
        state[node] = "open"
        for target in sorted(graph[node]):
            if state.get(target) == "open":
                found.append([*trail[trail.index(target) :], target])
            elif target not in state:
                visit(target, [*trail, target])
        state[node] = "done"

    for node in sorted(graph):
        if node not in state:
            visit(node, [node])
    return found


def test_no_api_or_schema_module_imports_the_app_factory() -> None:
    graph = web_import_graph()
    offenders = sorted(
        name
        for name, targets in graph.items()
        if name.startswith(("web.api", "web.schemas")) and "web.app" in targets
    )
    assert offenders == []


def test_web_modules_import_each_other_without_a_cycle() -> None:
    assert cycles(web_import_graph()) == []


def test_the_import_walk_sees_a_cycle_when_there_is_one() -> None:
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c", "a"]]
