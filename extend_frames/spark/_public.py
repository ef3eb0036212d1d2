"""``parse``, ``extract``, ``classify`` and ``split`` over a PySpark DataFrame.

Same options as the polars functions (passed straight through, so resume, ``cache=`` and
``max_wait=`` behave the same), plus what Spark needs: ``key=`` to join results back on and
``output=`` (required) where the parts are written and read from.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from extend_frames.frames import classify as _classify
from extend_frames.frames import extract as _extract
from extend_frames.frames import parse as _parse
from extend_frames.frames import result_schema
from extend_frames.frames import split as _split
from extend_frames.jobs import Operation
from extend_frames.spark._job import _spark_type, run_spark_job

if TYPE_CHECKING:
    from pyspark.sql import DataFrame
    from pyspark.sql.types import StructType

__all__ = ["classify", "extract", "parse", "spark_schema", "split"]


def spark_schema(operation: str, processor_config: Mapping[str, Any] | None = None) -> StructType:
    """The Spark schema of the result columns (``xf.result_schema(..., spark=True)`` as a
    ``StructType``): for a dbt contract or an empty table created before the first run."""
    return _spark_type(result_schema(operation, processor_config, spark=True))


def parse(
    sdf: DataFrame,
    *,
    file_column: str = "file",
    text_column: str | None = None,
    key: str | Sequence[str] | None = None,
    output: str,
    read_path: str | None = None,
    **options: Any,
) -> DataFrame:
    """Parse every document of ``sdf``; returns ``sdf`` with the typed result columns.

    ``key``: the column(s) results are joined back on, unique and never null; without it the
    reference column is the key (then it must be unique and never null). ``output``: a folder
    both this process (fsspec) and Spark can read; ``read_path`` overrides how Spark names it
    (e.g. ``s3a://`` for ``s3://``). Other options are those of :func:`extend_frames.parse`.

    >>> out = xfs.parse(sdf, file_column="url", output="/Volumes/m/d/v/parse")  # doctest: +SKIP
    """
    return run_spark_job(
        "parse",
        sdf,
        runner=_parse,
        processor=None,
        file_column=file_column,
        text_column=text_column,
        key=key,
        output=output,
        read_path=read_path,
        options=options,
    )


def _processor_op(operation: Operation, runner: Any) -> Any:
    def fn(
        sdf: DataFrame,
        *,
        processor: Any,
        file_column: str = "file",
        text_column: str | None = None,
        key: str | Sequence[str] | None = None,
        output: str,
        read_path: str | None = None,
        **options: Any,
    ) -> DataFrame:
        return run_spark_job(
            operation,
            sdf,
            runner=runner,
            processor=processor,
            file_column=file_column,
            text_column=text_column,
            key=key,
            output=output,
            read_path=read_path,
            options=options,
        )

    fn.__name__ = fn.__qualname__ = operation
    fn.__doc__ = (
        f"{operation.capitalize()} every document of ``sdf`` with ``processor``; returns "
        "``sdf`` joined on the key to the typed result columns (every row once).\n\n"
        f"Arguments as :func:`parse`, plus ``processor`` as in :func:`extend_frames.{operation}`."
    )
    return fn


extract = _processor_op("extract", _extract)
classify = _processor_op("classify", _classify)
split = _processor_op("split", _split)
