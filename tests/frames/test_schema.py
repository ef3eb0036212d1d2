"""JSON Schema -> polars dtype mapping: exact dtypes, and clear errors for what is unsupported."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import polars as pl
import pytest

from extend_frames import InputError
from extend_frames.frames._schema import (
    CLASSIFY_DTYPE,
    CURRENCY_DTYPE,
    PARSE_DTYPE,
    SIGNATURE_DTYPE,
    SPLIT_DTYPE,
    confidence_dtype,
    output_dtype,
)

EXAMPLES = Path(__file__).parent / "examples"  # copies of shared/extend-api/examples


def _nullable(kind: str, **extra: Any) -> dict[str, Any]:
    return {"type": [kind, "null"], **extra}


def _config(properties: dict[str, Any]) -> dict[str, Any]:
    return {"schema": {"type": "object", "properties": properties}}


def test_example_extractor_maps_exactly() -> None:
    extractor = json.loads((EXAMPLES / "extractor.json").read_text())
    dtype = output_dtype("extract", extractor["draftVersion"]["config"])
    assert dtype == pl.Struct(
        {
            "invoice_number": pl.String,
            "invoice_date": pl.Date,
            "total": pl.Struct({"amount": pl.Float64, "iso_4217_currency_code": pl.String}),
            "status": pl.Enum(["paid", "unpaid"]),
            "line_items": pl.List(pl.Struct({"description": pl.String, "amount": pl.Float64})),
        }
    )
    # Field order follows the schema's property order, which users see as column order.
    assert list(dtype.to_schema()) == [  # type: ignore[attr-defined]
        "invoice_number",
        "invoice_date",
        "total",
        "status",
        "line_items",
    ]


def test_example_confidence_dtype_has_one_float_per_top_level_field() -> None:
    extractor = json.loads((EXAMPLES / "extractor.json").read_text())
    assert confidence_dtype(extractor["draftVersion"]["config"]) == pl.Struct(
        dict.fromkeys(
            ["invoice_number", "invoice_date", "total", "status", "line_items"], pl.Float64
        )
    )


@pytest.mark.parametrize(
    ("node", "expected"),
    [
        (_nullable("string"), pl.String),
        (_nullable("number"), pl.Float64),
        (_nullable("integer"), pl.Int64),
        (_nullable("boolean"), pl.Boolean),
        ({"type": "string"}, pl.String),  # non-nullable primitives still map
        (_nullable("string", **{"extend:type": "date"}), pl.Date),
        ({"enum": ["a", "b", None]}, pl.Enum(["a", "b"])),
        ({"enum": ["b", "a", "b", None]}, pl.Enum(["b", "a"])),
        ({"type": "object", "extend:type": "currency", "properties": {}}, CURRENCY_DTYPE),
        ({"type": "object", "extend:type": "signature"}, SIGNATURE_DTYPE),
        ({"type": "array", "items": _nullable("string")}, pl.List(pl.String)),
        (
            {"type": "array", "items": {"type": "array", "items": {"type": "integer"}}},
            pl.List(pl.List(pl.Int64)),
        ),
        (
            {
                "type": "object",
                "properties": {"z": _nullable("string"), "a": {"enum": ["x", None]}},
            },
            pl.Struct({"z": pl.String, "a": pl.Enum(["x"])}),
        ),
    ],
)
def test_each_supported_construct(node: dict[str, Any], expected: pl.DataType) -> None:
    dtype = output_dtype("extract", _config({"f": node}))
    assert dtype == pl.Struct({"f": expected})


def test_signature_dtype_types_its_date_and_flag() -> None:
    assert (
        pl.Struct(
            {
                "printed_name": pl.String,
                "signature_date": pl.Date,
                "is_signed": pl.Boolean,
                "title_or_role": pl.String,
            }
        )
        == SIGNATURE_DTYPE
    )


@pytest.mark.parametrize(
    ("node", "pointer", "fragment"),
    [
        ({"anyOf": [{"type": "string"}]}, "/properties/f", "anyOf"),
        ({"$ref": "#/x"}, "/properties/f", "$ref"),
        ({"type": ["string", "number"]}, "/properties/f", "union"),
        ({"type": ["null"]}, "/properties/f", "no 'type'"),
        ({"description": "no type"}, "/properties/f", "no 'type'"),
        ({"enum": [1, 2, None]}, "/properties/f", "enum value 1"),
        ({"enum": [None]}, "/properties/f", "enum without string values"),
        ({"type": "array"}, "/properties/f", "array without 'items'"),
        ({"type": "object"}, "/properties/f", "object without 'properties'"),
        ({"type": "string", "extend:type": "money"}, "/properties/f", "money"),
        (
            {"type": "array", "items": {"type": "object", "properties": {"x": {"oneOf": []}}}},
            "/properties/f/items/properties/x",
            "oneOf",
        ),
        ({"type": "fancy"}, "/properties/f", "fancy"),
    ],
)
def test_unsupported_constructs_name_the_json_pointer(
    node: dict[str, Any], pointer: str, fragment: str
) -> None:
    with pytest.raises(InputError) as info:
        output_dtype("extract", _config({"f": node}))
    message = str(info.value)
    assert f"JSON pointer {pointer}:" in message
    assert fragment in message


def test_pointer_escapes_slashes_in_property_names() -> None:
    with pytest.raises(InputError, match=r"/properties/a~1b"):
        output_dtype("extract", _config({"a/b": {"allOf": []}}))


@pytest.mark.parametrize(
    "config",
    [None, {}, {"schema": None}, {"fields": []}, {"schema": {"type": "array", "items": {}}}],
)
def test_extract_without_an_object_schema_is_an_input_error(config: Any) -> None:
    with pytest.raises(InputError):
        output_dtype("extract", config)


def test_fixed_dtypes_for_the_other_operations() -> None:
    assert output_dtype("classify", None) == CLASSIFY_DTYPE
    assert output_dtype("split", {"ignored": True}) == SPLIT_DTYPE
    assert output_dtype("parse", None) == PARSE_DTYPE
    assert (
        pl.Struct(
            {
                "id": pl.String,
                "type": pl.String,
                "confidence": pl.Float64,
                "insights": pl.List(pl.Struct({"type": pl.String, "content": pl.String})),
            }
        )
        == CLASSIFY_DTYPE
    )
    assert isinstance(SPLIT_DTYPE, pl.List)
    split_item = SPLIT_DTYPE.inner
    assert isinstance(split_item, pl.Struct)
    assert list(split_item.to_schema()) == [
        "id",
        "classification_id",
        "type",
        "start_page",
        "end_page",
        "identifier",
        "observation",
        "file_id",
        "name",
    ]
    assert split_item.to_schema()["start_page"] == pl.Int64


def test_unknown_operation_is_an_input_error() -> None:
    with pytest.raises(InputError, match="unknown operation 'summarize'"):
        output_dtype("summarize", None)
