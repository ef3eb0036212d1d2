"""Map a processor's configuration to the polars dtype of the ``output`` column.

The dtype comes from the processor's JSON Schema (extract) or from the fixed shape of the
operation's output (parse, classify, split), never from the data: an all-null or all-failed
batch has the same dtype as a full one, so every Parquet part of a job shares one schema.

Extract follows Extend's JSON Schema subset (docs/extend-api.md#extraction-schema): nullable
primitives, string
enums plus ``null``, objects, arrays and the custom ``extend:type`` values ``date``,
``currency`` and ``signature``. Anything outside it raises :class:`InputError` naming the JSON
pointer of the offending node.

Parse (a choice, documented here): ``Struct{markdown, page_count, chunks}`` where ``markdown``
is the chunk contents joined by a blank line, ``page_count`` comes from ``metrics.pageCount``
and ``chunks`` keeps each chunk's ``type``, ``content`` and 1-based inclusive page range. Blocks
(geometry, OCR words) are left out: they are large and rarely wanted in a table.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import polars as pl

from extend_frames._errors import InputError
from extend_frames._operations import OPERATIONS

__all__ = [
    "CLASSIFY_DTYPE",
    "CURRENCY_DTYPE",
    "PARSE_DTYPE",
    "SIGNATURE_DTYPE",
    "SPLIT_DTYPE",
    "confidence_dtype",
    "output_dtype",
    "output_dtypes",
    "schema_dtype",
]

CURRENCY_DTYPE = pl.Struct({"amount": pl.Float64, "iso_4217_currency_code": pl.String})
SIGNATURE_DTYPE = pl.Struct(
    {
        "printed_name": pl.String,
        "signature_date": pl.Date,
        "is_signed": pl.Boolean,
        "title_or_role": pl.String,
    }
)
CLASSIFY_DTYPE = pl.Struct(
    {
        "id": pl.String,
        "type": pl.String,
        "confidence": pl.Float64,
        "insights": pl.List(pl.Struct({"type": pl.String, "content": pl.String})),
    }
)
SPLIT_DTYPE = pl.List(
    pl.Struct(
        {
            "id": pl.String,
            "classification_id": pl.String,
            "type": pl.String,
            "start_page": pl.Int64,
            "end_page": pl.Int64,
            "identifier": pl.String,
            "observation": pl.String,
            "file_id": pl.String,
            "name": pl.String,
        }
    )
)
PARSE_DTYPE = pl.Struct(
    {
        "markdown": pl.String,
        "page_count": pl.Int64,
        "chunks": pl.List(
            pl.Struct(
                {
                    "type": pl.String,
                    "content": pl.String,
                    "start_page": pl.Int64,
                    "end_page": pl.Int64,
                }
            )
        ),
    }
)

_PRIMITIVES: dict[str, pl.DataType] = {
    "string": pl.String(),
    "number": pl.Float64(),
    "integer": pl.Int64(),
    "boolean": pl.Boolean(),
}
# Keywords Extend rejects (docs/extend-api.md#extraction-schema); we refuse them too instead of
# guessing a dtype.
_UNSUPPORTED = ("anyOf", "oneOf", "allOf", "not", "$ref", "$defs", "definitions", "if", "const")


def output_dtype(operation: str, processor_config: Mapping[str, Any] | None) -> pl.DataType:
    """Return the dtype of the ``output`` column for ``operation``.

    ``processor_config`` is the processor version's ``config`` (extract needs its ``schema``;
    the other operations ignore it).

    >>> output_dtype("classify", None).to_schema()["confidence"]
    Float64
    """
    if operation == "extract":
        return schema_dtype(_extract_schema(processor_config))
    if operation == "classify":
        return CLASSIFY_DTYPE
    if operation == "split":
        return SPLIT_DTYPE
    if operation == "parse":
        return PARSE_DTYPE
    raise InputError(
        f"unknown operation {operation!r}; use one of {', '.join(OPERATIONS)}",
    )


def output_dtypes(
    operation: str, processor_config: Mapping[str, Any] | None
) -> tuple[pl.DataType, pl.Struct | None]:
    """The dtypes of ``output`` and ``output_confidence`` (extract only, else None): the one
    mapping from a processor's config to the columns its runs decode into.

    >>> output_dtypes("split", None)[1] is None
    True
    """
    output = output_dtype(operation, processor_config)
    return output, confidence_dtype(processor_config) if operation == "extract" else None


def confidence_dtype(processor_config: Mapping[str, Any] | None) -> pl.Struct:
    """Return the dtype of ``output_confidence`` for an extractor: one Float64 per top-level field.

    Each value is the lowest confidence Extend reported at or below that field (see
    :mod:`extend_frames.frames._decode`), so one column answers "can I trust this field?".
    """
    dtype = schema_dtype(_extract_schema(processor_config))
    if not isinstance(dtype, pl.Struct):  # schema_dtype guarantees an object root
        raise InputError("the extractor schema root must be an object")
    return pl.Struct({field.name: pl.Float64 for field in dtype.fields})


def schema_dtype(schema: Mapping[str, Any]) -> pl.DataType:
    """Map an Extend JSON Schema (root ``type: object``) to a polars dtype."""
    if not isinstance(schema, Mapping):
        raise InputError("the extractor schema must be a JSON object; fix the extractor config")
    if _types(schema, "")[0] != "object":
        raise InputError(
            "the extractor schema root must have type 'object' (JSON pointer: '' (root)); "
            "fix the extractor config"
        )
    return _node_dtype(schema, "")


def _extract_schema(config: Mapping[str, Any] | None) -> Mapping[str, Any]:
    if config is None or not isinstance(config, Mapping):
        raise InputError(
            "extract needs the extractor's config to type the output; fetch it with "
            "client.get_processor('extractor', id) and pass its 'config'"
        )
    schema = config.get("schema")
    if not isinstance(schema, Mapping):
        raise InputError(
            "the extractor config has no JSON 'schema' (legacy fields-array extractors are not "
            "supported); migrate the extractor to a JSON Schema config"
        )
    return schema


def _fail(pointer: str, what: str) -> InputError:
    where = pointer or "'' (root)"
    return InputError(
        f"unsupported extractor schema at JSON pointer {where}: {what}; "
        "extend_frames supports Extend's schema subset (nullable primitives, string enums, "
        "objects, arrays, extend:type date/currency/signature); simplify that field"
    )


def _types(node: Mapping[str, Any], pointer: str) -> tuple[str | None, bool]:
    """Return (the one non-null JSON type, whether null is allowed)."""
    raw = node.get("type")
    if raw is None:
        return None, True
    listed = [raw] if isinstance(raw, str) else raw
    if not isinstance(listed, list) or not all(isinstance(t, str) for t in listed):
        raise _fail(pointer, f"'type' must be a string or a list of strings, got {raw!r}")
    non_null = [t for t in listed if t != "null"]
    if len(non_null) > 1:
        raise _fail(pointer, f"union type {listed!r} (only one type plus 'null' is allowed)")
    return (non_null[0] if non_null else None), len(non_null) < len(listed)


def _escape(name: str) -> str:
    return name.replace("~", "~0").replace("/", "~1")


def _node_dtype(node: Any, pointer: str) -> pl.DataType:
    if not isinstance(node, Mapping):
        raise _fail(pointer, f"expected a schema object, got {type(node).__name__}")
    for keyword in _UNSUPPORTED:
        if keyword in node:
            raise _fail(pointer, f"keyword {keyword!r}")
    custom = node.get("extend:type")
    if custom is not None:
        if custom == "date":
            return pl.Date()
        if custom == "currency":
            return CURRENCY_DTYPE
        if custom == "signature":
            return SIGNATURE_DTYPE
        raise _fail(pointer, f"unknown extend:type {custom!r}")
    if "enum" in node:
        return _enum_dtype(node["enum"], pointer)
    json_type, _ = _types(node, pointer)
    if json_type is None:
        raise _fail(pointer, "no 'type' (or only 'null')")
    if json_type in _PRIMITIVES:
        return _PRIMITIVES[json_type]
    if json_type == "object":
        properties = node.get("properties")
        if not isinstance(properties, Mapping) or not properties:
            raise _fail(pointer, "object without 'properties'")
        return pl.Struct(
            {
                str(name): _node_dtype(child, f"{pointer}/properties/{_escape(str(name))}")
                for name, child in properties.items()
            }
        )
    if json_type == "array":
        if "items" not in node:
            raise _fail(pointer, "array without 'items'")
        return pl.List(_node_dtype(node["items"], f"{pointer}/items"))
    raise _fail(pointer, f"type {json_type!r}")


def _enum_dtype(values: Any, pointer: str) -> pl.DataType:
    if not isinstance(values, list):
        raise _fail(pointer, "'enum' must be a list")
    categories: list[str] = []
    for value in values:
        if value is None:
            continue
        if not isinstance(value, str):
            raise _fail(pointer, f"enum value {value!r} is not a string")
        if value not in categories:
            categories.append(value)
    if not categories:
        raise _fail(pointer, "enum without string values")
    return pl.Enum(categories)
