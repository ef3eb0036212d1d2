"""Property: for any schema in Extend's subset and any conforming (or null) outputs, decoding
yields exactly the mapped dtype and the generated values round-trip."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from extend_frames.frames._decode import decode_runs
from extend_frames.frames._schema import confidence_dtype, output_dtype

# A (schema node, strategy of (json value, expected python value)) pair.
Node = tuple[dict[str, Any], st.SearchStrategy[tuple[Any, Any]]]

_names = st.from_regex(r"[A-Za-z_][A-Za-z0-9_-]{0,8}", fullmatch=True)
_text = st.text(max_size=12)
_floats = st.floats(allow_nan=False, allow_infinity=False)
_ints = st.integers(min_value=-(2**63), max_value=2**63 - 1)
_dates = st.dates(min_value=dt.date(1000, 1, 1), max_value=dt.date(9999, 12, 31))


def _same(strategy: st.SearchStrategy[Any]) -> st.SearchStrategy[tuple[Any, Any]]:
    return strategy.map(lambda v: (v, v))


def _nullable(strategy: st.SearchStrategy[tuple[Any, Any]]) -> st.SearchStrategy[Any]:
    return st.one_of(st.just((None, None)), strategy)


def _number() -> st.SearchStrategy[tuple[Any, Any]]:
    # JSON numbers for a "number" field may be written without a fraction.
    return st.one_of(_floats.map(lambda f: (f, f)), _ints.map(lambda i: (i, float(i))))


def _date() -> st.SearchStrategy[tuple[Any, Any]]:
    return _dates.map(lambda d: (d.isoformat(), d))


def _primitive(nullable: bool) -> st.SearchStrategy[Node]:
    kinds: dict[str, st.SearchStrategy[tuple[Any, Any]]] = {
        "string": _same(_text),
        "number": _number(),
        "integer": _same(_ints),
        "boolean": _same(st.booleans()),
    }

    def build(kind: str) -> Node:
        values = kinds[kind]
        if not nullable:
            return {"type": kind}, values
        return {"type": [kind, "null"]}, _nullable(values)

    return st.sampled_from(sorted(kinds)).map(build)


def _date_node(nullable: bool) -> st.SearchStrategy[Node]:
    schema = {"type": ["string", "null"], "extend:type": "date"}
    return st.just((schema, _nullable(_date()) if nullable else _date()))


def _enum_node(nullable: bool) -> st.SearchStrategy[Node]:
    def build(categories: list[str]) -> Node:
        values = _same(st.sampled_from(categories))
        return {"enum": [*categories, None]}, (_nullable(values) if nullable else values)

    return st.lists(_text, min_size=1, max_size=4, unique=True).map(build)


def _currency() -> st.SearchStrategy[Node]:
    schema = {
        "type": "object",
        "extend:type": "currency",
        "properties": {
            "amount": {"type": ["number", "null"]},
            "iso_4217_currency_code": {"type": ["string", "null"]},
        },
    }
    value = st.fixed_dictionaries(
        {"amount": _nullable(_number()), "iso_4217_currency_code": _nullable(_same(_text))}
    ).map(lambda d: ({k: v[0] for k, v in d.items()}, {k: v[1] for k, v in d.items()}))
    return st.just((schema, value))


def _signature() -> st.SearchStrategy[Node]:
    schema = {"type": "object", "extend:type": "signature"}
    value = st.fixed_dictionaries(
        {
            "printed_name": _nullable(_same(_text)),
            "signature_date": _nullable(_date()),
            "is_signed": _nullable(_same(st.booleans())),
            "title_or_role": _nullable(_same(_text)),
        }
    ).map(lambda d: ({k: v[0] for k, v in d.items()}, {k: v[1] for k, v in d.items()}))
    return st.just((schema, value))


def _object(children: st.SearchStrategy[Node]) -> st.SearchStrategy[Node]:
    def build(fields: dict[str, Node]) -> Node:
        schema = {"type": "object", "properties": {k: n[0] for k, n in fields.items()}}
        value = st.fixed_dictionaries({k: n[1] for k, n in fields.items()}).map(
            lambda d: ({k: v[0] for k, v in d.items()}, {k: v[1] for k, v in d.items()})
        )
        return schema, value

    return st.dictionaries(_names, children, min_size=1, max_size=4).map(build)


def _array(items: st.SearchStrategy[Node]) -> st.SearchStrategy[Node]:
    def build(item: Node) -> Node:
        value = st.lists(item[1], max_size=3).map(
            lambda pairs: ([p[0] for p in pairs], [p[1] for p in pairs])
        )
        return {"type": "array", "items": item[0]}, value

    return items.map(build)


def _leaf(nullable: bool) -> st.SearchStrategy[Node]:
    return st.one_of(
        _primitive(nullable), _date_node(nullable), _enum_node(nullable), _currency(), _signature()
    )


_fields: st.SearchStrategy[Node] = st.recursive(
    _leaf(nullable=True),
    lambda inner: st.one_of(
        _object(inner),
        # Array items are objects or non-nullable primitives (SPEC 10.2).
        _array(st.one_of(_object(inner), _leaf(nullable=False))),
    ),
    max_leaves=8,
)
_schemas = _object(_fields)


@st.composite
def _runs(draw: st.DrawFn) -> tuple[dict[str, Any], list[bytes], list[Any]]:
    schema, values = draw(_schemas)
    bodies: list[bytes] = []
    expected: list[Any] = []
    for index in range(draw(st.integers(min_value=0, max_value=4))):
        processed = draw(st.booleans()) or index == 0
        value, python = draw(values) if processed else (None, None)
        run: dict[str, Any] = {
            "object": "extract_run",
            "id": f"exr_{index}",
            "status": "PROCESSED" if processed else "FAILED",
            "output": {"value": value, "metadata": {}} if processed else None,
            "metadata": {"extend_frames": {"job": "j", "row": f"k{index}"}},
        }
        text = json.dumps(run, indent=draw(st.sampled_from([None, 2])))
        bodies.append(text.encode())
        expected.append(python)
    return {"schema": schema}, bodies, expected


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_runs())
def test_decoding_round_trips_values_with_the_mapped_dtype(
    case: tuple[dict[str, Any], list[bytes], list[Any]],
) -> None:
    config, bodies, expected = case
    dtype = output_dtype("extract", config)
    df = decode_runs("extract", bodies, output_dtype=dtype)
    assert df.schema["output"] == dtype
    assert df.schema["output_confidence"] == confidence_dtype(config)
    assert df.get_column("output").to_list() == expected
    assert df.get_column("metadata_row").to_list() == [f"k{i}" for i in range(len(bodies))]
    assert df.schema == decode_runs("extract", [], output_dtype=dtype).schema


def test_the_strategy_reaches_every_construct() -> None:
    """Guard against a strategy that silently stopped generating some construct."""
    seen: set[str] = set()

    def walk(node: dict[str, Any]) -> None:
        seen.add(str(node.get("extend:type") or ("enum" if "enum" in node else node["type"])))
        for child in node.get("properties", {}).values():
            walk(child)
        if "items" in node:
            walk(node["items"])

    @settings(max_examples=300, deadline=None)
    @given(_schemas)
    def collect(node: Node) -> None:
        walk(node[0])

    collect()
    assert {"object", "date", "enum", "currency", "signature"} <= seen
    assert "array" in seen
    assert seen & {"['string', 'null']", "['number', 'null']", "['integer', 'null']"}
