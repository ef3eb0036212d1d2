"""Which SDK type each Extend endpoint answers with, read from the installed ``extend-ai`` SDK.

Each resource's ``raw_client.py`` calls ``httpx_client.request(<path>, method=...)`` and parses a
2xx body with ``construct_type(type_=<Model>, ...)``; reading those two facts from the source
(``ast``) gives the route table without writing it by hand, so it follows the SDK's version.
Error bodies (4xx/5xx) are the flat ``ApiError`` everywhere.
"""

from __future__ import annotations

import ast
import functools
import importlib
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import extend_ai
from extend_ai.types import ApiError


@dataclass(frozen=True, slots=True)
class Route:
    method: str
    template: str  # "parse_runs/{id}"
    pattern: re.Pattern[str]
    model: Any
    resource: str  # "parse_runs"
    operation: str  # "retrieve"


def _path_of(node: ast.expr) -> str | None:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.JoinedStr):
        parts = []
        for piece in node.values:
            if isinstance(piece, ast.Constant):
                parts.append(str(piece.value))
            else:
                parts.append("{param}")
        return "".join(parts)
    return None


def _routes_in(module_name: str, path: Path) -> list[Route]:
    tree = ast.parse(path.read_text())
    module = importlib.import_module(module_name)
    classes = [n for n in tree.body if isinstance(n, ast.ClassDef)]
    if not classes:
        return []
    routes = []
    for fn in classes[0].body:  # the sync Raw...Client; the async twin repeats it
        if not isinstance(fn, ast.FunctionDef) or fn.name.startswith("_"):
            continue
        template = method = model = None
        for node in ast.walk(fn):
            if isinstance(node, ast.Call) and getattr(node.func, "attr", "") == "request":
                if node.args and template is None:
                    template = _path_of(node.args[0])
                for kw in node.keywords:
                    if kw.arg == "method" and isinstance(kw.value, ast.Constant):
                        method = str(kw.value.value)
            if (
                model is None
                and isinstance(node, ast.Call)
                and getattr(node.func, "id", "") == "construct_type"
            ):
                for kw in node.keywords:
                    if kw.arg == "type_":
                        model = eval(ast.unparse(kw.value), vars(module))  # noqa: S307 - SDK
        if template is None or method is None or model is None:
            continue
        regex = "^/" + re.sub(r"\\\{param\\\}", "[^/]+", re.escape(template)) + "$"
        resource = module_name.split(".")[1]
        routes.append(Route(method, template, re.compile(regex), model, resource, fn.name))
    return routes


@functools.cache
def sdk_routes() -> tuple[Route, ...]:
    root = Path(extend_ai.__file__).parent
    found: list[Route] = []
    for raw in sorted(root.glob("*/raw_client.py")):
        found.extend(_routes_in(f"extend_ai.{raw.parent.name}.raw_client", raw))
    top = root / "raw_client.py"
    if top.exists():
        found.extend(_routes_in("extend_ai.raw_client", top))
    # literal paths before templated ones, so "parse_runs/batch" never matches "parse_runs/{id}"
    found.sort(key=lambda r: (r.template.count("{"), r.template))
    return tuple(found)


def model_for(method: str, path: str, status: int) -> Any | None:
    """The SDK type of this response, or None for a route the SDK does not know."""
    if status >= 400:
        return ApiError
    for route in sdk_routes():
        if route.method == method and route.pattern.match(path):
            return route.model
    return None
