"""The layers of docs/ARCHITECTURE.md: imports point down only; the emulator stands alone."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "extend_frames"

# A layer may import from layers of strictly lower rank (and from itself).
RANK = {
    "_errors": 0,
    "_version": -1,  # a string: everyone may import it, even the rank-0 modules
    "_telemetry": 0,
    "_operations": 0,
    "_columns": 0,
    "api": 1,
    "store": 1,
    "webhooks": 1,
    "jobs": 2,
    "frames": 3,
    "spark": 4,  # a top layer beside cli: the frames API over PySpark DataFrames
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


CLIENT_SIDE = ("api", "cli", "frames", "jobs", "spark", "store", "webhooks")
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
