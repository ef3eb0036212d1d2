"""The Arrow schema of a job's result columns, known before any run.

Built by the code that types real results (the dtype mapping of :mod:`._schema` and the run
decoder, over zero runs), so it cannot drift from what a job returns. The Spark flavour
rewrites the types Spark cannot take from Arrow the way lakehouse tables need it too
(``extend_frames.tables.table_type``): dictionaries (polars Enums, e.g. ``status``) become
their value type, large and view strings/lists become plain ones, and polars' field metadata
is dropped.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import polars as pl
import pyarrow as pa

from extend_frames._columns import BATCH_ID, UNIT
from extend_frames._errors import InputError
from extend_frames._operations import OPERATIONS
from extend_frames.frames._collect import join_batch
from extend_frames.frames._decode import decode_runs
from extend_frames.frames._schema import output_dtypes
from extend_frames.tables import table_type

__all__ = ["result_schema", "spark_compatible"]


def result_schema(
    operation: str,
    processor_config: Mapping[str, Any] | None = None,
    *,
    spark: bool = False,
) -> pa.Schema:
    """Return the Arrow schema of the columns a job adds to its input rows.

    ``processor_config`` is the processor version's ``config`` (a processor version object
    holding one under ``"config"`` works too); extract needs it for the ``output`` struct, the
    other operations have a fixed output shape. ``spark=True`` returns the Spark-compatible
    flavour (see :func:`spark_compatible`).

    >>> import extend_frames as xf
    >>> xf.result_schema("classify").field("status").type
    DictionaryType(dictionary<values=large_string, indices=uint8, ordered=1>)
    >>> xf.result_schema("classify", spark=True).field("status").type
    DataType(string)
    """
    if operation not in OPERATIONS:
        raise InputError(f"unknown operation {operation!r}; use one of {', '.join(OPERATIONS)}")
    output, confidence = output_dtypes(operation, _config(processor_config))
    decoded = decode_runs(
        operation, [], output_dtype=output, confidence_dtype=confidence
    ).with_columns(pl.Series(BATCH_ID, [], dtype=pl.String))
    joined = join_batch(pl.DataFrame(schema={UNIT: pl.String}), decoded, operation)  # type: ignore[arg-type]
    schema = joined.to_arrow().schema
    return spark_compatible(schema) if spark else schema


def spark_compatible(schema: pa.Schema) -> pa.Schema:
    """``schema`` with every type Spark reads from Arrow: no dictionaries, large or view types.

    >>> spark_compatible(pa.schema([("s", pa.large_list(pa.large_string()))])).field("s").type
    ListType(list<item: string>)
    """
    return pa.schema([pa.field(f.name, table_type(f.type), nullable=f.nullable) for f in schema])


def _config(processor_config: Mapping[str, Any] | None) -> Mapping[str, Any] | None:
    if processor_config is None:
        return None
    if not isinstance(processor_config, Mapping):
        raise InputError(
            "processor_config must be the processor version's config (a dict), got "
            f"{type(processor_config).__name__}"
        )
    inner = processor_config.get("config")
    if "schema" not in processor_config and isinstance(inner, Mapping):
        return inner  # a whole processor version object, as client.get_processor returns
    return processor_config
