"""The layers of docs/ARCHITECTURE.md: imports point down only, no import goes round (inside a
layer either), the emulator stands alone on the standard library and its own extra, and no
client-side function is too long to read in one sitting."""

from __future__ import annotations

import ast
import importlib.metadata
import re
import sys
import tomllib
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "extend_frames"
PYPROJECT = PACKAGE.parent / "pyproject.toml"

# A layer may import from layers of strictly lower rank (and from itself).
RANK = {
    "_errors": 0,
    "_version": -1,  # a string: everyone may import it, even the rank-0 modules
    "_telemetry": 0,  # the telemetry seam: any layer may report through it
    "_operations": 0,
    "_columns": 0,
    "api": 1,
    "store": 1,
    "tables": 1,  # beside store: publishes a job's parts to Delta / Iceberg tables
    "webhooks": 1,
    "jobs": 2,
    "frames": 3,
    "spark": 4,  # a top layer beside cli: the frames API over PySpark DataFrames
    "_orchestrators": 4,  # what the scheduler integrations share (over the frames API)
    "airflow": 5,  # extra "airflow": operator, trigger, hook
    "dagster": 5,  # extra "dagster": resource, asset factory
}
TOP = {"cli": 9, "__init__": 9, "__main__": 9}


def _layer(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "__init__"


def _imports(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found: list[str] = []
    pkg_parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.extend(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = pkg_parts[: len(pkg_parts) - node.level]
                if path.name == "__init__.py":
                    base = pkg_parts[: len(pkg_parts) - node.level + 1]
                found.append(".".join([*base, *([node.module] if node.module else [])]))
            elif node.module:
                found.append(node.module)
    return [m for m in found if m == "extend_frames" or m.startswith("extend_frames.")]


def _modules() -> list[Path]:
    return sorted(PACKAGE.rglob("*.py"))


@pytest.mark.parametrize("path", _modules(), ids=lambda p: str(p.relative_to(PACKAGE)))
def test_imports_point_down(path: Path) -> None:
    here = _layer(".".join(path.relative_to(PACKAGE.parent).with_suffix("").parts))
    for target in _imports(path):
        there = _layer(target)
        if here == "emulator":
            assert there == "emulator", f"{path.name}: the emulator must not import {target}"
            continue
        if here in TOP or there == here:
            continue
        assert there != "emulator" or here in TOP, f"{path.name} imports the emulator ({target})"
        assert RANK.get(there, 99) < RANK.get(here, 99), (
            f"{path.relative_to(PACKAGE)} ({here}) imports {target} ({there}): imports point down"
        )


@pytest.mark.parametrize(
    "path", sorted((PACKAGE / "cli").rglob("*.py")), ids=lambda p: str(p.relative_to(PACKAGE))
)
def test_the_cli_imports_nothing_from_the_store(path: Path) -> None:
    """The CLI reads tables, globs, results and job status through the frames layer."""
    store = [t for t in _imports(path) if _layer(t) == "store"]
    assert store == [], f"{path.relative_to(PACKAGE)} imports {store}: go through frames"


# -- no import cycle anywhere in the package, inside a layer included ----------------------


def _module(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _edges(path: Path, modules: set[str]) -> set[str]:
    """The package's modules ``path`` imports: at module level, inside functions (lazy) and
    under ``TYPE_CHECKING`` alike (each is a dependency between the two modules).
    ``from pkg import name`` is an edge to ``pkg.name`` when that is a module, else to ``pkg``.
    """
    here = _module(path).split(".")
    package = here if path.name == "__init__.py" else here[:-1]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names if a.name in modules)
        elif isinstance(node, ast.ImportFrom):
            base = package[: len(package) - node.level + 1] if node.level else []
            source = ".".join([*base, *([node.module] if node.module else [])])
            for alias in node.names:
                target = f"{source}.{alias.name}"
                found.add(target if target in modules else source)
    return {m for m in found if m in modules} - {_module(path)}


def import_cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan), each sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    cycles: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for nxt in sorted(graph[node]):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                top = stack.pop()
                component.append(top)
                if top == node:
                    break
            if len(component) > 1:
                cycles.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return sorted(cycles)


# Cycles accepted for now (none: the engine's rewrite removed frames/_run <-> frames/_retry).
KNOWN_CYCLES: list[list[str]] = []


def test_no_import_cycle_anywhere_in_the_package() -> None:
    """Imports inside a layer must not go round either: ``a -> b -> a``, lazily or for types
    only, is still two modules that cannot be read or changed one without the other."""
    paths = _modules()
    modules = {_module(p) for p in paths}
    graph = {_module(p): _edges(p, modules) for p in paths}
    cycles = import_cycles(graph)
    assert [c for c in cycles if c not in KNOWN_CYCLES] == [], "import cycles"
    assert [c for c in KNOWN_CYCLES if c not in cycles] == [], "gone: delete from KNOWN_CYCLES"


def test_cycle_finder_sees_a_cycle_inside_one_layer() -> None:
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}, "e": set()}
    assert import_cycles(graph) == [["a", "b", "c"]]
    assert import_cycles({"a": {"b"}, "b": set()}) == []


# -- the emulator's third-party imports: the standard library and its own extra only ---------


def _distribution(requirement: str) -> str:
    name = re.match(r"[A-Za-z0-9._-]+", requirement)
    assert name is not None, requirement
    return re.sub(r"[-_.]+", "-", name.group(0)).lower()


def test_the_emulator_imports_only_the_stdlib_and_its_extra() -> None:
    extras = tomllib.loads(PYPROJECT.read_text(encoding="utf-8"))["project"]
    allowed = {_distribution(r) for r in extras["optional-dependencies"]["emulator"]}
    providers = importlib.metadata.packages_distributions()
    outside: dict[str, list[str]] = {}
    for path in sorted((PACKAGE / "emulator").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and not node.level and node.module:
                names = [node.module]
            else:
                continue
            for top in {n.split(".")[0] for n in names} - {"extend_frames"}:
                if top in sys.stdlib_module_names:
                    continue
                dists = {_distribution(d) for d in providers.get(top, [f"<unknown {top}>"])}
                if not dists & allowed:
                    outside.setdefault(top, []).append(str(path.relative_to(PACKAGE)))
    assert outside == {}, f"the emulator imports outside its extra (pyproject.toml): {outside}"


CLIENT_SIDE = (
    "api",
    "cli",
    "frames",
    "jobs",
    "spark",
    "store",
    "tables",
    "webhooks",
    "airflow",
    "dagster",
)
MAX_FUNCTION_LINES = 80  # readable in one sitting (docs/ARCHITECTURE.md, CONTRIBUTING.md)


def test_client_side_functions_stay_readable_in_one_sitting() -> None:
    """No function on the client side is longer than MAX_FUNCTION_LINES (decorators and
    docstring included); split a longer one into named steps."""
    long = []
    for layer in CLIENT_SIDE:
        for path in sorted((PACKAGE / layer).rglob("*.py")):
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                    start = min([node.lineno, *(d.lineno for d in node.decorator_list)])
                    lines = (node.end_lineno or node.lineno) - start + 1
                    if lines > MAX_FUNCTION_LINES:
                        long.append(f"{path.relative_to(PACKAGE)}:{start} {node.name} ({lines})")
    assert long == [], "functions over 80 lines: " + ", ".join(long)
