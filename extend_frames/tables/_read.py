"""Reading a published table back, and compacting it.

>>> read_table(Delta("/nonexistent/table"))  # doctest: +ELLIPSIS
Traceback (most recent call last):
extend_frames._errors.TableError: there is no table at delta:/nonexistent/table ...
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

import polars as pl

from extend_frames._errors import TableError
from extend_frames.tables._delta import DeltaSink, open_delta
from extend_frames.tables._iceberg import IcebergSink, open_iceberg
from extend_frames.tables._publish import Sink
from extend_frames.tables._targets import Delta, TableTarget

__all__ = ["compact", "open_sink", "read_table"]


def open_sink(target: TableTarget, *, key: Sequence[str], job_time: datetime) -> Sink:
    """The publisher of one job (started at ``job_time``, keyed by ``key``) to ``target``."""
    sink = DeltaSink if isinstance(target, Delta) else IcebergSink
    return sink(target, key=key, job_time=job_time)


def _open(target: TableTarget) -> Any:
    table = open_delta(target) if isinstance(target, Delta) else open_iceberg(target)
    if table is None:
        raise TableError(
            f"there is no table at {target.display} (a job creates it when it publishes its "
            "first batch with table=)",
            path=target.display,
        )
    return table


def read_table(target: TableTarget) -> pl.DataFrame:
    """Every row of the table ``target`` (as the table library reads it)."""
    table = _open(target)
    arrow = table.to_pyarrow_table() if isinstance(target, Delta) else table.scan().to_arrow()
    frame = pl.from_arrow(arrow)
    assert isinstance(frame, pl.DataFrame)
    return frame


def compact(target: TableTarget) -> dict[str, Any]:
    """Merge a table's small files (one per published batch) into larger ones; returns the
    library's metrics. Delta: ``optimize.compact()`` (old files stay for time travel until
    ``vacuum``). Iceberg: pyiceberg cannot rewrite data files yet, so this raises with the
    engines that can."""
    if not isinstance(target, Delta):
        raise TableError(
            f"{target.display}: pyiceberg cannot compact data files yet; run Iceberg's "
            "rewrite_data_files (Spark: CALL <catalog>.system.rewrite_data_files('<table>'); "
            "Snowflake and S3 Tables compact managed tables on their own)",
            path=target.display,
        )
    metrics: dict[str, Any] = _open(target).optimize.compact()
    return metrics
