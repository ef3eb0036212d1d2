"""Decode raw run JSON (as the API returns it) into one typed polars frame, in bulk.

All bodies of a batch are joined into NDJSON and read in one call (pyarrow's JSON reader; polars'
as the fallback) against a fixed *wire schema* derived from the output dtype: unknown fields are
skipped by the reader, missing ones become null. The columns are then post-processed with
expressions: dates parsed with ``str.to_date(strict=False)`` (an invalid date becomes null),
enums cast leniently (a value outside the enum becomes null), camelCase wire keys renamed to
snake_case. Nothing is decoded row by row on the happy path.

If a value does not match the schema (a string where a number was promised, say), the batch is
read again with every leaf as a string and cast leniently (numeric text still becomes a number);
the halves that still fail are bisected down to the offending bodies, whose output becomes null
(the rest of their row still decodes). A body that is not JSON at all raises
:class:`ExtendError`.

``output_confidence`` (extract only) holds, per top-level field, the lowest confidence Extend
reported at or below that field: over every ``output.metadata`` entry whose path is the field,
``field.sub...`` or ``field[i]...``, the minimum of ``ocrConfidence`` and
``logprobsConfidence`` (whichever are present); null when none is reported. The metadata
object is keyed by value paths, so its keys depend on array lengths: the paths are enumerated
from the schema, with the array indices found by one regex scan of the raw bytes, and read as
a fixed struct (never inferred). Past ``_MAX_PATHS`` enumerated paths, only the index-free
entries (the field and the array as a whole) are used.

Measured (benchmarks/decode_example.py, one core): 10,000 runs shaped like Extend's example
extract run (4.6 KB each) decode in ~0.16 s, ~60k runs/s; reading only ``id`` from the same
bytes takes ~0.1 s, so the JSON tokenising of these bodies is the bound.
"""

from __future__ import annotations

import io
import itertools
import re
from collections.abc import Sequence
from typing import Literal, TypeAlias

import polars as pl
import pyarrow as pa
import pyarrow.json as pa_json
from polars._typing import PolarsDataType

from extend_frames._errors import ExtendError, InputError
from extend_frames._operations import OPERATIONS
from extend_frames.frames._schema import (
    CLASSIFY_DTYPE,
    PARSE_DTYPE,
    SPLIT_DTYPE,
)

__all__ = ["decode_runs", "decoded_schema"]

_TIMESTAMP = pl.Datetime("us", "UTC")
_Mode: TypeAlias = Literal["exact", "lenient", "drop"]

_SPLIT_WIRE = pl.Struct(
    {
        "splits": pl.List(
            pl.Struct(
                {
                    "id": pl.String,
                    "classificationId": pl.String,
                    "type": pl.String,
                    "startPage": pl.Int64,
                    "endPage": pl.Int64,
                    "identifier": pl.String,
                    "observation": pl.String,
                    "fileId": pl.String,
                    "name": pl.String,
                }
            )
        )
    }
)
_SPLIT_NAMES = [
    "id",
    "classification_id",
    "type",
    "start_page",
    "end_page",
    "identifier",
    "observation",
    "file_id",
    "name",
]  # SPLIT_DTYPE's field names, in the wire order of _SPLIT_WIRE
_PARSE_WIRE = pl.Struct(
    {
        "chunks": pl.List(
            pl.Struct(
                {
                    "type": pl.String,
                    "content": pl.String,
                    "metadata": pl.Struct(
                        {"pageRange": pl.Struct({"start": pl.Int64, "end": pl.Int64})}
                    ),
                }
            )
        )
    }
)
_CONFIDENCE_KEYS = ("ocrConfidence", "logprobsConfidence")
_CONFIDENCE_ENTRY = pl.Struct(dict.fromkeys(_CONFIDENCE_KEYS, pl.Float64))
_MAX_PATHS = 4096
_BLOCK = 64 << 20
_INDEX = re.compile(r"\[\d+\]")
# Chunk contents are joined with a blank line so page boundaries stay paragraph breaks.
_MARKDOWN_SEPARATOR = "\n\n"


def decoded_schema(
    operation: str, *, output_dtype: pl.DataType, confidence_dtype: pl.DataType | None = None
) -> pl.Schema:
    """The exact polars schema :func:`decode_runs` returns for these arguments (no data
    needed): the ``DECODED_COLUMNS``. Not to be confused with
    :func:`~extend_frames.frames._result_schema.result_schema`, the Arrow schema of the
    columns a job adds to its input rows."""
    return decode_runs(
        operation, [], output_dtype=output_dtype, confidence_dtype=confidence_dtype
    ).schema


def decode_runs(
    operation: str,
    bodies: Sequence[bytes],
    *,
    output_dtype: pl.DataType,
    confidence_dtype: pl.DataType | None = None,
) -> pl.DataFrame:
    """Decode run JSON documents (full runs or list summaries) into one row each, in order.

    ``output_dtype`` comes from :func:`~extend_frames.frames._schema.output_dtype`; for
    extract, ``confidence_dtype`` defaults to one Float64 per top-level output field.

    >>> from extend_frames.frames._schema import CLASSIFY_DTYPE
    >>> body = b'{"id": "clr_1", "status": "FAILED", "failureReason": "ABORTED"}'
    >>> decode_runs("classify", [body], output_dtype=CLASSIFY_DTYPE)["failure_reason"][0]
    'ABORTED'
    """
    conf_dtype = _check_dtypes(operation, output_dtype, confidence_dtype)
    lines = list(bodies)
    ndjson = b"\n".join(lines)
    if ndjson.count(b"\n") != max(len(lines) - 1, 0) or b"\r" in ndjson:
        lines = [_one_line(body, index) for index, body in enumerate(bodies)]
        ndjson = b"\n".join(lines)
    else:
        for index, body in enumerate(lines):
            if not body or body.isspace():
                _one_line(body, index)  # raises, naming the body
    plan = _Plan(operation, output_dtype, conf_dtype, ndjson)
    if not lines:
        return plan.finish(pl.DataFrame(schema=plan.read_schema("exact")), "exact")
    longest = max(map(len, lines))
    fast = _read_arrow(ndjson, plan.read_schema("exact"), longest=longest)
    if fast is not None and fast.height == len(lines):
        return plan.finish(fast, "exact")
    exact = plan.read_span(lines, "exact")
    if exact is not None:
        return exact
    return pl.concat(plan.bisect(lines, 0), how="vertical")


def _read_arrow(
    ndjson: bytes, schema: dict[str, pl.DataType], *, longest: int
) -> pl.DataFrame | None:
    """Read with pyarrow's JSON reader (measured ~1.7x faster than polars' here); None on
    any mismatch, which the polars readers then handle more leniently."""
    arrow_schema = pa.schema(
        [pa.field(f.name, _plain(f.type)) for f in pl.DataFrame(schema=schema).to_arrow().schema]
    )
    options = pa_json.ParseOptions(explicit_schema=arrow_schema, unexpected_field_behavior="ignore")
    # Blocks must hold the longest body; one block up to 64 MiB (fastest measured). One thread:
    # the engine decodes beside other work.
    block = min(len(ndjson) + 1, max(_BLOCK, longest + 1))
    read = pa_json.ReadOptions(use_threads=False, block_size=block)
    try:
        table = pa_json.read_json(io.BytesIO(ndjson), read_options=read, parse_options=options)
    except pa.ArrowException:
        return None
    frame = pl.from_arrow(table)
    if not isinstance(frame, pl.DataFrame) or frame.schema != pl.Schema(schema):
        return None
    return frame


def _plain(dtype: pa.DataType) -> pa.DataType:
    """Arrow types pyarrow's JSON reader accepts (no views, no large offsets)."""
    if pa.types.is_struct(dtype):
        return pa.struct([pa.field(f.name, _plain(f.type)) for f in dtype])
    if pa.types.is_list(dtype) or pa.types.is_large_list(dtype) or pa.types.is_list_view(dtype):
        return pa.list_(_plain(dtype.value_type))
    if (
        pa.types.is_string(dtype)
        or pa.types.is_large_string(dtype)
        or pa.types.is_string_view(dtype)
    ):
        return pa.string()
    return dtype


def _check_dtypes(
    operation: str, output_dtype: pl.DataType, confidence_dtype: pl.DataType | None
) -> pl.DataType | None:
    expected = {"classify": CLASSIFY_DTYPE, "split": SPLIT_DTYPE, "parse": PARSE_DTYPE}
    if operation not in OPERATIONS:
        raise InputError(f"unknown operation {operation!r}; use one of {', '.join(OPERATIONS)}")
    if operation != "extract":
        if output_dtype != expected[operation]:
            raise InputError(
                f"output_dtype for {operation} must be output_dtype({operation!r}, None), "
                f"got {output_dtype}"
            )
        return None
    if not isinstance(output_dtype, pl.Struct):
        raise InputError(f"output_dtype for extract must be a pl.Struct, got {output_dtype}")
    if confidence_dtype is None:
        return pl.Struct({f.name: pl.Float64 for f in output_dtype.fields})
    return confidence_dtype


def _one_line(body: bytes, index: int) -> bytes:
    # JSON strings cannot hold raw newlines, so newlines in a body are whitespace: flatten.
    if b"\n" in body or b"\r" in body:
        body = body.replace(b"\r", b" ").replace(b"\n", b" ")
    if not body or body.isspace():
        raise ExtendError(f"run body #{index} is empty; expected one JSON object per run")
    return body


class _Plan:
    """What to ask the JSON reader for, and how to turn its answer into result columns."""

    def __init__(
        self,
        operation: str,
        output_dtype: pl.DataType,
        conf_dtype: pl.DataType | None,
        ndjson: bytes,
    ) -> None:
        self.operation = operation
        self.output_dtype = output_dtype
        self.conf_dtype = conf_dtype
        self.confidence_paths: dict[str, list[str]] = {}
        self.typed = self._typed_wire_schema(ndjson)

    def _typed_wire_schema(self, ndjson: bytes) -> dict[str, pl.DataType]:
        """Wire shape (camelCase keys) with the final leaf dtypes; only the fields we keep."""
        schema: dict[str, pl.DataType] = {
            "id": pl.String(),
            "status": pl.String(),
            "failureReason": pl.String(),
            "failureMessage": pl.String(),
            "metadata": pl.Struct(
                {"extend_frames": pl.Struct({"job": pl.String, "row": pl.String})}
            ),
            "usage": pl.Struct({"credits": pl.Float64}),
            "file": pl.Struct({"id": pl.String}),
            "createdAt": pl.String(),
            "updatedAt": pl.String(),
        }
        if self.operation == "extract" and isinstance(self.output_dtype, pl.Struct):
            self.confidence_paths = _confidence_paths(self.output_dtype, ndjson)
            paths = sorted({p for group in self.confidence_paths.values() for p in group})
            schema["output"] = pl.Struct(
                {
                    "value": self.output_dtype,
                    "metadata": pl.Struct(dict.fromkeys(paths, _CONFIDENCE_ENTRY)),
                }
            )
        elif self.operation == "classify":
            schema["output"] = CLASSIFY_DTYPE
        elif self.operation == "split":
            schema["output"] = _SPLIT_WIRE
        else:
            schema["output"] = _PARSE_WIRE
            schema["metrics"] = pl.Struct({"pageCount": pl.Int64})
        return schema

    def read_schema(self, mode: _Mode) -> dict[str, pl.DataType]:
        """The reader's schema: exact, every leaf a string (lenient), or output skipped (drop)."""
        lenient = mode != "exact"
        read = {name: _read_dtype(dtype, lenient=lenient) for name, dtype in self.typed.items()}
        if mode == "drop":
            read["output"] = pl.String()  # any JSON value fits a String column; it is discarded
        return read

    def read_span(self, lines: Sequence[bytes], mode: _Mode) -> pl.DataFrame | None:
        """Decode ``lines`` in one polars read, or None if that read fails."""
        try:
            raw = pl.read_ndjson(io.BytesIO(b"\n".join(lines)), schema=self.read_schema(mode))
        except pl.exceptions.PolarsError:
            return None
        return self.finish(raw, mode) if raw.height == len(lines) else None

    def bisect(self, lines: Sequence[bytes], start: int) -> list[pl.DataFrame]:
        """Lenient decode, halving around the bodies that still fail: a few bad runs cost
        O(bad x log n) reads instead of one read per body."""
        if len(lines) == 1:
            return [self.decode_one(lines[0], start)]
        whole = self.read_span(lines, "lenient")
        if whole is not None:
            return [whole]
        half = len(lines) // 2
        return self.bisect(lines[:half], start) + self.bisect(lines[half:], start + half)

    def decode_one(self, line: bytes, index: int) -> pl.DataFrame:
        """Decode one body, degrading to lenient casts, then to a null output."""
        modes: tuple[_Mode, ...] = ("exact", "lenient", "drop")
        for mode in modes:
            try:
                raw = pl.read_ndjson(io.BytesIO(line), schema=self.read_schema(mode))
            except pl.exceptions.PolarsError:
                continue
            if raw.height == 1:
                return self.finish(raw, mode)
        raise ExtendError(f"run body #{index} is not a JSON object; the API answer is corrupt")

    def finish(self, raw: pl.DataFrame, mode: _Mode) -> pl.DataFrame:
        """Turn the reader's frame into the result columns (see DECODED_COLUMNS)."""
        read = self.read_schema("exact")
        if mode != "exact":
            # Bring the all-strings read to the exact read dtypes; the exact path follows.
            lenient = self.read_schema(mode)
            raw = raw.select(
                _convert(pl.col(name), lenient[name], read[name]).alias(name)
                for name in self.typed
                if name != "output" or mode != "drop"
            )
        frames = pl.col("metadata").struct.field("extend_frames")
        columns: list[pl.Expr] = [
            pl.col("id").alias("run_id"),
            pl.col("status"),
            pl.col("failureReason").alias("failure_reason"),
            pl.col("failureMessage").alias("failure_message"),
            frames.struct.field("job").alias("metadata_job"),
            frames.struct.field("row").alias("metadata_row"),
        ]
        if mode == "drop":
            columns.append(pl.lit(None, dtype=self.output_dtype).alias("output"))
        else:
            columns.append(self._output(read["output"]).alias("output"))
        if self.conf_dtype is not None:
            columns.append(self._confidence(mode).alias("output_confidence"))
        columns += [
            pl.col("usage").struct.field("credits").alias("credits"),
            pl.col("file").struct.field("id").alias("file_id"),
            _timestamp(pl.col("createdAt")).alias("created_at"),
            _timestamp(pl.col("updatedAt")).alias("updated_at"),
        ]
        return raw.select(columns)

    def _output(self, read: pl.DataType) -> pl.Expr:
        out = pl.col("output")
        if self.operation == "extract" and isinstance(read, pl.Struct):
            value_read = {f.name: f.dtype for f in read.fields}["value"]
            return _convert(out.struct.field("value"), value_read, self.output_dtype)
        if self.operation == "classify":
            return out
        if self.operation == "split":
            return out.struct.field("splits").list.eval(
                pl.element().struct.rename_fields(_SPLIT_NAMES)
            )
        chunks = out.struct.field("chunks")
        page_range = pl.element().struct.field("metadata").struct.field("pageRange")
        parsed = pl.struct(
            chunks.list.eval(pl.element().struct.field("content"))
            .list.join(_MARKDOWN_SEPARATOR)
            .alias("markdown"),
            pl.col("metrics").struct.field("pageCount").alias("page_count"),
            chunks.list.eval(
                pl.struct(
                    pl.element().struct.field("type").alias("type"),
                    pl.element().struct.field("content").alias("content"),
                    page_range.struct.field("start").alias("start_page"),
                    page_range.struct.field("end").alias("end_page"),
                )
            ).alias("chunks"),
        )
        return (
            pl.when(out.is_not_null()).then(parsed).otherwise(pl.lit(None, dtype=self.output_dtype))
        )

    def _confidence(self, mode: _Mode) -> pl.Expr:
        """Per top-level field, the minimum confidence in the metadata entries under it."""
        null = pl.lit(None, dtype=self.conf_dtype)
        if mode == "drop" or not isinstance(self.conf_dtype, pl.Struct):
            return null
        metadata = pl.col("output").struct.field("metadata")
        fields: list[pl.Expr] = []
        for field in self.conf_dtype.fields:
            values = [
                metadata.struct.field(path).struct.field(key)
                for path in self.confidence_paths.get(field.name, [])
                for key in _CONFIDENCE_KEYS
            ]
            best = pl.min_horizontal(values) if values else pl.lit(None, dtype=pl.Float64)
            fields.append(best.cast(field.dtype).alias(field.name))
        return pl.when(metadata.is_not_null()).then(pl.struct(fields)).otherwise(null)


def _confidence_paths(dtype: pl.Struct, ndjson: bytes) -> dict[str, list[str]]:
    """Metadata paths under each top-level field, array indices taken from the raw bytes."""
    templates = {f.name: [f.name, *_templates(f.dtype, f.name)] for f in dtype.fields}
    arrays = {t[: -len("[*]")] for group in templates.values() for t in group if t.endswith("[*]")}
    counts = _array_lengths(arrays, ndjson)
    expanded = {
        name: [p for t in group for p in _expand(t, counts)] for name, group in templates.items()
    }
    if sum(len(group) for group in expanded.values()) <= _MAX_PATHS:
        return expanded
    return {name: [t for t in group if "[*]" not in t] for name, group in templates.items()}


def _templates(dtype: PolarsDataType, prefix: str) -> list[str]:
    dtype = _instance(dtype)
    if isinstance(dtype, pl.Struct):
        out: list[str] = []
        for field in dtype.fields:
            path = f"{prefix}.{field.name}"
            out += [path, *_templates(field.dtype, path)]
        return out
    if isinstance(dtype, pl.List):
        item = f"{prefix}[*]"
        return [item, *_templates(dtype.inner, item)]
    return []


def _array_lengths(arrays: set[str], ndjson: bytes) -> dict[str, int]:
    """Per array path template: 1 + the largest index in a key ``"<array>[i]..."`` (or 0).

    One regex scan for all arrays; distinct matches are deduplicated in C before Python
    looks at them. (Metadata may be sparse, so no index is assumed from its neighbours.)
    """
    counts = dict.fromkeys(arrays, 0)
    if not arrays or not ndjson:
        return counts
    # Longest first, so "a[1].b[2]" is matched as the nested array, not stopped at "a[1]".
    ordered = sorted(arrays, key=len, reverse=True)
    alternatives = b"|".join(
        re.escape(a.encode()).replace(rb"\[\*\]", rb"\[\d+\]") for a in ordered
    )
    pattern = re.compile(rb'"((?:' + alternatives + rb")\[\d+\])")
    for concrete in set(pattern.findall(ndjson)):
        # Every index in the key counts for its own array: "a[1].b[2]" -> a >= 2, a[*].b >= 3.
        text = concrete.decode()
        for match in _INDEX.finditer(text):
            template = _INDEX.sub("[*]", text[: match.start()])
            if template in counts:
                counts[template] = max(counts[template], int(match.group()[1:-1]) + 1)
    return counts


def _expand(template: str, counts: dict[str, int]) -> list[str]:
    parts = template.split("[*]")
    if len(parts) == 1:
        return [template]
    ranges = [range(counts["[*]".join(parts[: i + 1])]) for i in range(len(parts) - 1)]
    return [
        "".join(part + (f"[{idx[i]}]" if i < len(idx) else "") for i, part in enumerate(parts))
        for idx in itertools.product(*ranges)
    ]


def _instance(dtype: PolarsDataType) -> pl.DataType:
    return dtype() if isinstance(dtype, type) else dtype


def _read_dtype(dtype: PolarsDataType, *, lenient: bool) -> pl.DataType:
    """What the JSON reader is asked for: dates/enums (or, lenient, every leaf) as strings."""
    dtype = _instance(dtype)
    if isinstance(dtype, pl.Struct):
        return pl.Struct({f.name: _read_dtype(f.dtype, lenient=lenient) for f in dtype.fields})
    if isinstance(dtype, pl.List):
        return pl.List(_read_dtype(dtype.inner, lenient=lenient))
    if lenient or isinstance(dtype, pl.Date | pl.Enum):
        return pl.String()
    return dtype


def _convert(expr: pl.Expr, read: PolarsDataType, target: PolarsDataType) -> pl.Expr:
    """Turn a column read as ``read`` into ``target`` with vectorised, non-raising casts."""
    read, target = _instance(read), _instance(target)
    if read == target:
        return expr
    if isinstance(target, pl.Struct) and isinstance(read, pl.Struct):
        read_fields = {f.name: f.dtype for f in read.fields}
        changed = [
            _convert(pl.field(f.name), read_fields[f.name], f.dtype).alias(f.name)
            for f in target.fields
            if read_fields[f.name] != f.dtype
        ]
        return expr.struct.with_fields(changed)
    if isinstance(target, pl.List) and isinstance(read, pl.List):
        return expr.list.eval(_convert(pl.element(), read.inner, target.inner))
    if isinstance(target, pl.Date):
        return expr.str.to_date("%Y-%m-%d", strict=False)
    if isinstance(target, pl.Boolean):
        return pl.when(expr == "true").then(True).when(expr == "false").then(False)
    return expr.cast(target, strict=False)


def _timestamp(expr: pl.Expr) -> pl.Expr:
    return expr.str.to_datetime(time_unit="us", time_zone="UTC", strict=False).cast(_TIMESTAMP)
