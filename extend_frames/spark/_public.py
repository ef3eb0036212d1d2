"""``parse``, ``extract``, ``classify`` and ``split`` over a PySpark DataFrame.

Same options as the polars functions (the one definition, ``JobOptions``, passed straight
through, so resume, caching and bounded waits behave the same), plus what Spark needs:
``key=`` to join results back on, ``output=`` (required) where the parts are written and read
from, and ``read_path=`` when Spark names that folder differently.
"""

from __future__ import annotations

import inspect
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Protocol, cast

from typing_extensions import Unpack

from extend_frames._operations import Operation
from extend_frames.frames import JobOptions, result_schema
from extend_frames.spark._job import run_spark_job, spark_type

if TYPE_CHECKING:
    from pyspark.sql import DataFrame
    from pyspark.sql.types import StructType

__all__ = ["classify", "extract", "parse", "spark_schema", "split"]


def spark_schema(operation: str, processor_config: Mapping[str, Any] | None = None) -> StructType:
    """The Spark schema of the result columns (``xf.result_schema(..., spark=True)`` as a
    ``StructType``): for a dbt contract or an empty table created before the first run."""
    return spark_type(result_schema(operation, processor_config, spark=True))


def parse(
    sdf: DataFrame,
    *,
    file_column: str | None = None,
    text_column: str | None = None,
    config: Mapping[str, Any] | None = None,
    read_path: str | None = None,
    **options: Unpack[JobOptions],
) -> DataFrame:
    """Parse every document of ``sdf``; returns ``sdf`` with the typed result columns.

    ``key``: the column(s) results are joined back on, unique and never null; without it the
    reference column is the key (then it must be unique and never null). ``output``
    (required): a folder both this process (fsspec) and Spark can read; ``read_path``
    overrides how Spark names it (e.g. ``s3a://`` for ``s3://``). The other options are those
    of :func:`extend_frames.parse`, with the same meaning.

    >>> out = xfs.parse(sdf, file_column="url", output="/Volumes/m/d/v/parse")  # doctest: +SKIP
    """
    return run_spark_job("parse", sdf, None, file_column, text_column, config, read_path, options)


class SparkProcessorOp(Protocol):
    """Signature of :func:`extract`, :func:`classify` and :func:`split`."""

    def __call__(
        self,
        sdf: DataFrame,
        *,
        processor: str | tuple[str, str | None],
        file_column: str | None = None,
        text_column: str | None = None,
        config: Mapping[str, Any] | None = None,
        read_path: str | None = None,
        **options: Unpack[JobOptions],
    ) -> DataFrame: ...


def _processor_op(operation: Operation) -> SparkProcessorOp:
    def run(sdf: DataFrame, *, processor: Any, **arguments: Any) -> DataFrame:
        file_column, text_column, config, read_path = (arguments.pop(k, None) for k in _SPARK_ARGS)
        return run_spark_job(
            operation, sdf, processor, file_column, text_column, config, read_path, arguments
        )

    run.__name__ = run.__qualname__ = operation
    run.__signature__ = _SIGNATURE  # type: ignore[attr-defined]
    run.__doc__ = (
        f"{operation.capitalize()} every document of ``sdf`` with ``processor``; returns "
        "``sdf`` joined on the key to the typed result columns (every row once).\n\n"
        f"Arguments as :func:`parse`, plus ``processor`` as in :func:`extend_frames.{operation}`."
    )
    return cast(SparkProcessorOp, run)


#: The Spark-specific arguments (the rest are the polars API's options).
_SPARK_ARGS = ("file_column", "text_column", "config", "read_path")
_CALL = inspect.signature(SparkProcessorOp.__call__)
_SIGNATURE = _CALL.replace(parameters=list(_CALL.parameters.values())[1:])  # without self


extract = _processor_op("extract")
classify = _processor_op("classify")
split = _processor_op("split")
