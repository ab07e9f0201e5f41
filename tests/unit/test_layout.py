"""The house rules of the package layout: every module reachable by its dotted name (no public name shadows a
subpackage), every import down the documented package order (DEVELOPERS.md; in functions and under TYPE_CHECKING
too), no import cycles, no module over 400 lines and no function over 60."""

from __future__ import annotations

import ast
import importlib
from pathlib import Path

import pytest

import cdc_migrate

PACKAGE = Path(cdc_migrate.__file__).parent
PATHS = {
    ".".join(p.relative_to(PACKAGE.parent).with_suffix("").parts).removesuffix(".__init__"): p
    for p in PACKAGE.rglob("*.py")
}
MODULES = sorted(PATHS)


@pytest.mark.parametrize("name", MODULES)
def test_every_module_is_reached_by_its_dotted_name(name: str) -> None:
    module = importlib.import_module(name)
    reached: object = cdc_migrate
    for part in name.split(".")[1:]:
        reached = getattr(reached, part)
    assert reached is module, f"{name} is shadowed by {reached!r}"


def _imports(path: Path) -> set[str]:
    """The cdc_migrate modules a module imports when it is imported (not under TYPE_CHECKING, not in functions)."""
    found = set()
    for node in ast.parse(path.read_text()).body:
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("cdc_migrate"):
            for alias in node.names:
                found.add(f"{node.module}.{alias.name}" if f"{node.module}.{alias.name}" in MODULES else node.module)
        elif isinstance(node, ast.Import):
            found |= {a.name for a in node.names if a.name.startswith("cdc_migrate")}
    return found


# DEVELOPERS.md's order, lowest first: a package imports only those before it, and the leaves.
ORDER = ("config", "source", "contract", "planning", "target", "spark", "aws", "handoff", "validation", "load")
ORDER += ("testing", "demo", "cli", "api")
LEAVES = ("_version", "errors", "records", "clock", "sqltext", "naming", "views", "threads")


def _package(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else ""


def _every_import(path: Path) -> list[tuple[str, int]]:
    """Every cdc_migrate module a module names in an import, wherever the import is."""
    found = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("cdc_migrate"):
            found.append((node.module, node.lineno))
        elif isinstance(node, ast.Import):
            found += [(a.name, node.lineno) for a in node.names if a.name.startswith("cdc_migrate")]
    return found


def test_the_documented_order_is_the_order_of_every_import() -> None:
    placed = set(ORDER) | set(LEAVES)
    assert {_package(name) for name in PATHS if name != "cdc_migrate"} <= placed, "a package or leaf not in ORDER"
    against = []
    for name, path in PATHS.items():
        mine = _package(name)
        if name == "cdc_migrate" or mine in LEAVES:
            continue
        for imported, line in _every_import(path):
            theirs = _package(imported)
            if theirs in LEAVES or theirs == mine or theirs == "":
                continue
            if mine not in ORDER or theirs not in ORDER or ORDER.index(theirs) > ORDER.index(mine):
                against.append(f"{name}:{line} imports {imported}")
    assert against == []


def test_the_leaves_import_only_leaves() -> None:
    for leaf in LEAVES:
        for imported, line in _every_import(PACKAGE / f"{leaf}.py"):
            assert _package(imported) in LEAVES, f"cdc_migrate.{leaf}:{line} imports {imported}"


def test_no_module_imports_itself_through_others() -> None:
    # (the package's own re-exports sit above everything)
    graph = {name: _imports(path) for name, path in PATHS.items() if name != "cdc_migrate"}

    def reaches(start: str, goal: str, seen: set[str]) -> bool:
        for nxt in graph.get(start, ()):
            if nxt == goal or (nxt not in seen and (seen.add(nxt) or reaches(nxt, goal, seen))):
                return True
        return False

    assert [m for m in graph if reaches(m, m, set())] == []


def test_modules_and_functions_stay_small() -> None:
    too_big = []
    for path in PACKAGE.rglob("*.py"):
        lines = path.read_text().splitlines()
        if len(lines) > 400:
            too_big.append(f"{path.name}: {len(lines)} lines")
        for node in ast.walk(ast.parse("\n".join(lines))):
            length = (node.end_lineno or 0) - node.lineno + 1 if isinstance(node, ast.FunctionDef) else 0
            if length > 60:
                too_big.append(f"{path.name}: {node.name} is {length} lines")  # type: ignore[attr-defined]
    assert too_big == []
