"""A strict validator for Extend wire JSON, built from the ``extend-ai`` SDK's own model classes.

The SDK parses responses with ``construct_type``: no validation, ``extra="allow"`` and enums whose
``_missing_`` turns any string into a catch-all member. So "the SDK parsed it" proves little.
``findings(model, data)`` checks a JSON value for real, in two layers:

1. ``Model.model_validate(data)``: pydantic's own validation of the SDK class (required fields,
   nested models, unions). It catches a BatchRun holding only an ``id``.
2. A walk over the class's type annotations (``model_fields``) that pydantic's lax mode and the
   SDK's catch-alls let through: JSON types exactly (no ``"1"`` for an int, no ``1`` for a
   string), enum values outside the declared members, unknown keys, RFC 3339 timestamps, and
   presence/nullability from the TypeScript SDK's declarations (``ts_schema.json``), which tell
   an optional key (``x?:``) from a nullable one (``x: T | null``) where Python has only
   ``Optional``.

A finding is a ``Finding(path, problem)``; an empty list means the value conforms.
"""

from __future__ import annotations

import datetime as dt
import enum
import functools
import json
import re
import sys
import types
import typing
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pydantic

_TS_SCHEMA_PATH = Path(__file__).with_name("ts_schema.json")
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")

# Deliberate, documented exceptions to the TypeScript declarations (docs/emulator-fidelity.md).
# The SDK types ParseRun.file as non-null, but its own docstring says it "may be null for batch
# parse runs where file ingestion failed"; the emulator follows the docstring.
ALLOWED_NULL: frozenset[tuple[str, str]] = frozenset(
    {("ParseRun", "file"), ("ParseRunSummary", "file")}
)


@dataclass(frozen=True, slots=True)
class Finding:
    path: str
    problem: str

    def __str__(self) -> str:
        return f"{self.path}: {self.problem}"


@functools.cache
def ts_schema() -> dict[str, dict[str, str]]:
    """``{interface: {wireKey: "req" | "req|null" | "opt" | "opt|null"}}`` (TypeScript SDK)."""
    raw = json.loads(_TS_SCHEMA_PATH.read_text())
    return {name: spec["fields"] for name, spec in raw["interfaces"].items()}


def findings(model: Any, data: Any, *, path: str = "$") -> list[Finding]:
    """Every way ``data`` (decoded JSON) departs from the SDK type ``model``."""
    out: list[Finding] = []
    if isinstance(model, type) and issubclass(model, pydantic.BaseModel):
        try:
            model.model_validate(data)
        except pydantic.ValidationError as exc:
            for err in exc.errors():
                if err.get("input", ...) is None:
                    continue  # nullability is the walk's call: it knows the TypeScript types
                loc = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in err["loc"])
                out.append(Finding(path + loc, f"pydantic: {err['msg']}"))
    walked = _check(model, data, path, None)
    seen = {(f.path, f.problem) for f in out}
    out.extend(f for f in walked if (f.path, f.problem) not in seen)
    return out


def check(model: Any, data: Any) -> None:
    """Raise AssertionError listing the findings, if any (for tests)."""
    found = findings(model, data)
    if found:
        name = getattr(model, "__name__", str(model))
        lines = "\n  ".join(str(f) for f in found[:20])
        raise AssertionError(f"{len(found)} finding(s) against {name}:\n  {lines}")


# -- the walk -------------------------------------------------------------------------------------


def _resolve(tp: Any, host: type | None) -> Any:
    if isinstance(tp, str | typing.ForwardRef):
        return _resolve_ref(tp, host)
    return tp


@functools.lru_cache(maxsize=4096)
def _resolve_ref(tp: Any, host: type | None) -> Any:
    if isinstance(tp, str):
        tp = typing.ForwardRef(tp)
    if isinstance(tp, typing.ForwardRef) and host is not None:
        module = sys.modules.get(host.__module__)
        if module is not None:
            try:
                return eval(tp.__forward_arg__, vars(module))  # noqa: S307 - SDK annotations
            except NameError:
                return typing.Any
    return tp


def _check(tp: Any, value: Any, path: str, host: type | None) -> list[Finding]:
    tp = _resolve(tp, host)
    origin = typing.get_origin(tp)
    if origin is typing.Annotated:
        return _check(typing.get_args(tp)[0], value, path, host)
    if tp is typing.Any or tp is object:
        return []
    if origin in (typing.Union, types.UnionType):
        return _union(typing.get_args(tp), value, path, host)
    if origin is typing.Literal:
        allowed = typing.get_args(tp)
        return [] if value in allowed else [Finding(path, f"{value!r} is not one of {allowed}")]
    if origin in (list, typing.List, typing.Sequence, set):  # noqa: UP006
        if not isinstance(value, list):
            return [Finding(path, f"expected an array, got {_kind(value)}")]
        (item,) = typing.get_args(tp) or (typing.Any,)
        return [f for i, v in enumerate(value) for f in _check(item, v, f"{path}[{i}]", host)]
    if origin in (dict, typing.Dict, typing.Mapping):  # noqa: UP006
        if not isinstance(value, dict):
            return [Finding(path, f"expected an object, got {_kind(value)}")]
        args = typing.get_args(tp)
        vt = args[1] if len(args) == 2 else typing.Any
        return [f for k, v in value.items() for f in _check(vt, v, f"{path}.{k}", host)]
    if isinstance(tp, type):
        return _leaf(tp, value, path)
    return []


def _union(args: tuple[Any, ...], value: Any, path: str, host: type | None) -> list[Finding]:
    if value is None:
        if type(None) in args:
            return []
        return [Finding(path, "null is not allowed here")]
    best: list[Finding] | None = None
    for arg in args:
        if arg is type(None):
            continue
        got = _check(arg, value, path, host)
        if not got:
            return []
        if best is None or len(got) < len(best):
            best = got
    return best or []


def _leaf(tp: type, value: Any, path: str) -> list[Finding]:
    if issubclass(tp, pydantic.BaseModel):
        return _model(tp, value, path)
    if issubclass(tp, enum.Enum):
        members = _members(tp)
        if value in members:
            return []
        return [Finding(path, f"{value!r} is not a member of {tp.__name__} {members}")]
    if tp is bool:
        ok = isinstance(value, bool)
    elif tp is int:
        ok = isinstance(value, int) and not isinstance(value, bool)
    elif tp is float:
        ok = isinstance(value, int | float) and not isinstance(value, bool)
    elif tp is str:
        ok = isinstance(value, str)
    elif tp is dt.datetime:
        return _timestamp(value, path)
    elif tp is dt.date:
        ok = isinstance(value, str) and bool(_DATE.match(value))
    elif tp in (dict, list):
        ok = isinstance(value, tp)
    else:
        return []
    return [] if ok else [Finding(path, f"expected {tp.__name__}, got {_kind(value)}")]


@functools.cache
def _members(tp: type[enum.Enum]) -> list[Any]:
    """The declared values, without the SDK's forward-compatibility catch-all member."""
    return [m.value for m in tp if not m.name.startswith("_")]


def _timestamp(value: Any, path: str) -> list[Finding]:
    if isinstance(value, str):
        try:
            parsed = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            parsed = None
        if parsed is not None and parsed.tzinfo is not None and "T" in value:
            return []
    return [Finding(path, f"expected an RFC 3339 timestamp with a zone, got {value!r}")]


@dataclass(frozen=True, slots=True)
class _Field:
    key: str
    annotation: Any
    required: bool
    nullable: bool


@functools.cache
def _fields(model: type[pydantic.BaseModel]) -> tuple[tuple[_Field, ...], frozenset[str]]:
    """The model's wire keys with presence and nullability (TypeScript's where it has them)."""
    ts = ts_schema().get(model.__name__, {})
    fields = []
    for name, field in model.model_fields.items():
        key = field.alias or name
        presence = ts.get(key)
        required = field.is_required() or (presence is not None and presence.startswith("req"))
        nullable = _is_optional(field.annotation) if presence is None else "null" in presence
        nullable = nullable or (model.__name__, key) in ALLOWED_NULL
        fields.append(_Field(key, field.annotation, required, nullable))
    return tuple(fields), frozenset(ts) | {f.key for f in fields}


def _model(model: type[pydantic.BaseModel], value: Any, path: str) -> list[Finding]:
    if not isinstance(value, dict):
        return [Finding(path, f"expected a {model.__name__} object, got {_kind(value)}")]
    fields, known = _fields(model)
    out: list[Finding] = []
    for field in fields:
        key = field.key
        if key not in value:
            if field.required:
                out.append(Finding(f"{path}.{key}", f"required key missing ({model.__name__})"))
            continue
        item = value[key]
        if item is None:
            if not field.nullable:
                out.append(
                    Finding(f"{path}.{key}", f"null is not allowed ({model.__name__}.{key})")
                )
            continue
        out.extend(_check(field.annotation, item, f"{path}.{key}", model))
    extra = [k for k in value if k not in known]
    out.extend(Finding(f"{path}.{k}", f"unknown key for {model.__name__}") for k in extra)
    return out


def _is_optional(tp: Any) -> bool:
    if typing.get_origin(tp) is typing.Annotated:
        tp = typing.get_args(tp)[0]
    if typing.get_origin(tp) in (typing.Union, types.UnionType):
        return type(None) in typing.get_args(tp)
    return tp is typing.Any or tp is type(None)


def _kind(value: Any) -> str:
    if value is None:
        return "null"
    return {dict: "object", list: "array", str: "string", bool: "boolean"}.get(
        type(value), type(value).__name__
    )
