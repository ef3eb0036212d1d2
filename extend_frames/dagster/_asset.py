"""``extend_asset``: one Extend job per partition, its summary as the materialization's
metadata, and an asset check on its FAILED rows.

Daily partitions and ``cache=`` go together: each day's job stores its results under its own
``output`` (so a rerun of a day resumes instead of paying again), and the cache answers the
documents an earlier day already processed (same processor version and config), so each day
pays only for its new documents.
"""

import inspect
from collections.abc import Callable
from typing import Any

from dagster import (
    AssetCheckResult,
    AssetCheckSeverity,
    AssetCheckSpec,
    AssetExecutionContext,
    AssetsDefinition,
    MaterializeResult,
    MetadataValue,
    PartitionsDefinition,
    asset,
)

from extend_frames._errors import InputError
from extend_frames._operations import Operation
from extend_frames._orchestrators import check_job, job_summary, run_operation, take_job_options
from extend_frames.frames import read_table

__all__ = ["FAILED_ROWS_CHECK", "extend_asset"]

#: The name of the asset check every ``extend_asset`` emits.
FAILED_ROWS_CHECK = "failed_rows"
_OWN = frozenset({"client", "output", "detach"})


def extend_asset(
    *,
    name: str,
    input: str | Callable[..., Any],
    output: str,
    operation: Operation = "extract",
    processor: str | None = None,
    partitions_def: PartitionsDefinition | None = None,
    max_failed_share: float = 0.0,
    resource_key: str = "extend",
    group_name: str | None = None,
    **job_options: Any,
) -> AssetsDefinition:
    """An asset that runs ``xf.<operation>`` on ``input`` into ``output`` (per partition).

    ``input``: a table path or a callable returning a frame; ``output``: a path. Both may hold
    ``{partition_key}``, and a callable receives the partition key when it takes an argument.
    Every keyword of ``xf.extract`` (``file_column``, ``key``, ``cache``, ``table``...) passes
    through. The check ``failed_rows`` fails (severity ERROR) when the share of FAILED rows is
    above ``max_failed_share`` (0 by default: any FAILED row).

    >>> invoices = extend_asset(name="invoices", processor="ex_abc123",
    ...     input="s3://lake/docs/{partition_key}.parquet", file_column="url",
    ...     output="s3://lake/jobs/invoices/{partition_key}", cache="s3://lake/extend-cache",
    ...     partitions_def=DailyPartitionsDefinition(start_date="2026-12-01"))  # doctest: +SKIP
    """
    options = take_job_options(dict(job_options))
    unknown = sorted(set(job_options) - set(options))
    if unknown:
        raise InputError(f"extend_asset got unknown options: {', '.join(unknown)}")
    check_job(operation, processor, options, _OWN, "extend_asset")
    options.setdefault("progress", False)
    check = AssetCheckSpec(
        FAILED_ROWS_CHECK, asset=name, description=f"FAILED rows at most {max_failed_share:.0%}"
    )

    @asset(  # type: ignore[untyped-decorator]  # Dagster is not installed where mypy runs
        name=name,
        partitions_def=partitions_def,
        check_specs=[check],
        required_resource_keys={resource_key},
        group_name=group_name,
        kinds={"extend"},
    )
    def _job(context: AssetExecutionContext) -> MaterializeResult:
        key = context.partition_key if context.has_partition_key else ""
        where = output.format(partition_key=key)
        frame = _read(input, key, options.get("storage_options"))
        with getattr(context.resources, resource_key).get_client() as client:
            result = run_operation(
                operation, frame, processor=processor, output=where, client=client, **options
            )
        summary = job_summary(result, where, options.get("table"))
        context.log.info(f"Extend job at {summary['output']}: {summary['text']}")
        return MaterializeResult(
            metadata=_metadata(summary), check_results=[_check(summary, max_failed_share)]
        )

    return _job


def _read(source: str | Callable[..., Any], key: str, storage_options: Any) -> Any:
    if isinstance(source, str):
        return read_table(source.format(partition_key=key), storage_options=storage_options)
    return source(key) if inspect.signature(source).parameters else source()


def _metadata(summary: dict[str, Any]) -> dict[str, Any]:
    metadata: dict[str, Any] = {
        "rows": summary["rows"],
        "credits": summary["credits"],
        "cached": summary["cached"],
        "failed": summary["by_status"].get("FAILED", 0),
        "by_status": MetadataValue.json(summary["by_status"]),
        "output": MetadataValue.path(summary["output"]),
    }
    if summary["table"]:
        metadata["table"] = MetadataValue.path(summary["table"])
    return metadata


def _check(summary: dict[str, Any], max_failed_share: float) -> AssetCheckResult:
    failed = summary["by_status"].get("FAILED", 0)
    share = failed / summary["rows"] if summary["rows"] else 0.0
    return AssetCheckResult(
        check_name=FAILED_ROWS_CHECK,
        passed=share <= max_failed_share,
        severity=AssetCheckSeverity.ERROR,
        metadata={"failed": failed, "rows": summary["rows"], "failed_share": share},
    )
