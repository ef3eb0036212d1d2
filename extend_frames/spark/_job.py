"""One job over a PySpark DataFrame, orchestrated from the driver.

Only the key and reference columns come to the driver (``select(...).toArrow()``); the
existing engine runs the job with ``output=`` (one rate budget, one ledger, resume and caching
exactly as in the polars API), writing a Parquet part per batch as it finishes; Spark then
reads the parts with the schema typed from the processor and joins them back to the input on
the key, so wide input columns never leave the executors.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import polars as pl
import pyarrow as pa

from extend_frames._columns import RESULT_COLUMNS
from extend_frames._errors import InputError
from extend_frames._operations import Operation
from extend_frames.frames import document_column, result_schema, run_stored

if TYPE_CHECKING:
    from pyspark.sql import DataFrame
    from pyspark.sql.types import StructType

__all__ = ["run_spark_job", "spark_path", "spark_type"]

_PARTS = "part-*.parquet"


def run_spark_job(
    operation: Operation,
    sdf: DataFrame,
    processor: Any,
    file_column: str | None,
    text_column: str | None,
    config: Mapping[str, Any] | None,
    read_path: str | None,
    options: Mapping[str, Any],
) -> DataFrame:
    """Run ``operation`` over ``sdf`` on the driver; see the module docstring. The arguments
    are those of the public functions in ``spark/_public.py``, in their order."""
    key, output = options.get("key"), options.get("output")
    reference = _reference_column(sdf, file_column, text_column)
    keys = _key_columns(sdf, key, reference)
    if not isinstance(output, str) or not output:
        raise InputError(
            "output= is required for a Spark job: a folder Spark can read, e.g. "
            "'/Volumes/catalog/schema/volume/job', 's3://bucket/job' or a local folder"
        )
    clashes = [c for c in sdf.columns if c in RESULT_COLUMNS]
    if clashes:
        raise InputError(
            f"input column(s) {', '.join(map(repr, clashes))} clash with result columns; "
            f"rename them, e.g. sdf.withColumnRenamed({clashes[0]!r}, 'input_{clashes[0]}')"
        )
    columns = list(dict.fromkeys([*keys, reference]))
    frame = _driver_frame(sdf.select(*columns).toArrow(), keys, reference, key is None)
    stored = run_stored(
        operation,
        frame,
        processor=processor,
        file_column=file_column,
        text_column=text_column,
        config=config,
        options=options,
    )
    schema = result_schema(operation, stored.processor_config, spark=True)
    return _join(sdf, keys, schema, spark_path(read_path or output))


def _reference_column(sdf: DataFrame, file_column: str | None, text_column: str | None) -> str:
    column, what = document_column(file_column, text_column)
    _require(sdf, column, what)
    return column


def _key_columns(sdf: DataFrame, key: str | Sequence[str] | None, reference: str) -> list[str]:
    if key is None:
        return [reference]
    columns = [key] if isinstance(key, str) else list(key)
    if not columns or not all(isinstance(c, str) for c in columns):
        raise InputError(f"key must be a column name or a list of column names, got {key!r}")
    for column in columns:
        _require(sdf, column, "key column")
    return columns


def _require(sdf: DataFrame, column: str, what: str) -> None:
    if column not in sdf.columns:
        available = ", ".join(map(repr, sdf.columns[:20]))
        raise InputError(f"{what} {column!r} is not a column of the Spark DataFrame: {available}")


def _driver_frame(table: pa.Table, keys: list[str], reference: str, derived: bool) -> pl.DataFrame:
    """The key and reference columns as polars, sorted by key (a rerun plans the same batches
    whatever order Spark returns rows in); null or duplicate keys are refused here."""
    frame = pl.from_arrow(table)
    assert isinstance(frame, pl.DataFrame)
    what = (
        f"key= was not given, so the reference column {reference!r} is the key, and it"
        if derived
        else f"key {keys[0]!r}" + ("" if len(keys) == 1 else f" ({', '.join(keys)})")
    )
    fix = (
        "pass key= a column (or columns) that is unique and never null"
        if derived
        else "make the key unique and non-null (add a column to it)"
    )
    nulls = frame.filter(pl.any_horizontal(pl.col(keys).is_null())).height
    if nulls:
        raise InputError(f"{what} is null in {nulls} row(s); {fix}")
    dupes = frame.filter(pl.struct(keys).is_duplicated())
    if dupes.height:
        sample = ", ".join(repr(v) for v in dupes.get_column(keys[0]).unique().head(3).to_list())
        raise InputError(
            f"{what} is not unique ({dupes.height} rows share values: {sample}); {fix}"
        )
    return frame.sort(keys)


def spark_path(output: str) -> str:
    """The path Spark reads ``output`` at: URLs as given, ``/dbfs/x`` as ``dbfs:/x``,
    ``/Volumes/...`` as given, other local paths as absolute ``file:`` URIs."""
    if "://" in output or output.startswith("dbfs:"):
        return output
    if output.startswith("/dbfs/"):
        return "dbfs:" + output[len("/dbfs") :]
    if output.startswith("/Volumes/"):
        return output
    return Path(output).expanduser().resolve().as_uri()


def spark_type(schema: pa.Schema) -> StructType:
    """``schema`` (Spark-compatible Arrow) as a Spark ``StructType``."""
    from pyspark.sql.pandas.types import from_arrow_schema

    return from_arrow_schema(schema, prefer_timestamp_ntz=False)


def _join(sdf: DataFrame, keys: list[str], schema: pa.Schema, path: str) -> DataFrame:
    from pyspark.sql import functions as sf
    from pyspark.sql.types import StructType

    key_fields = [sdf.schema[k] for k in keys]
    results = spark_type(schema)
    read_schema = StructType([*key_fields, *results.fields])
    parts = (
        sdf.sparkSession.read.schema(read_schema)
        .option("pathGlobFilter", _PARTS)
        .option("recursiveFileLookup", "false")
        .parquet(path)
    )
    joined = sdf.join(parts, on=keys, how="left")
    names = [f.name for f in results.fields]
    # A row whose batch is still out (detach=, max_wait=) has no part yet: PENDING, not null.
    # (when/otherwise, not coalesce: the column stays nullable, as result_schema says.)
    status = (
        sf.when(sf.col("status").isNull(), sf.lit("PENDING"))
        .otherwise(sf.col("status"))
        .alias("status")
    )
    return joined.select(
        *[sf.col(c) for c in sdf.columns],
        *[status if n == "status" else sf.col(n) for n in names],
    )
