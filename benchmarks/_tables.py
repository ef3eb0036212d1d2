"""Scenario 10, tables: what publishing a batch to a lakehouse table costs, per batch.

A job writes one Parquet part per batch (``JobStore.write_part``); with ``table=`` it then
commits the batch to the table in one transaction (``extend_frames/tables``). This measures,
on local disk, the time per batch of: the part alone; Delta append and merge (delta-rs); and
Iceberg append and merge (pyiceberg, SQL catalog on SQLite). Each contender publishes the
same ``batches`` parts of ``rows`` extract-like rows (a typed output struct with a date, a
currency struct and a list of line items) to a fresh table, as one job would, and reports the
median and the slowest batch, and the median of the last quarter against the first (a table
whose log grows with every commit slows down; compaction or checkpoints bring it back).
"""

from __future__ import annotations

import datetime as dt
import functools
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import polars as pl
import pyarrow as pa

from extend_frames.store import JobStore
from extend_frames.tables import Delta, Iceberg, Publisher, TableMode, open_sink

JOB_TIME = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
STATUS = pl.Enum(["PROCESSED", "FAILED", "CANCELLED", "PENDING", "PROCESSING"])


def make_part(chunk: int, rows: int) -> pa.Table:
    """One stored part: input columns, typed results and the internal columns."""
    start = chunk * rows
    n = pl.int_range(start, start + rows, eager=True)
    frame = pl.DataFrame({"doc": n.cast(pl.String).str.pad_start(8, "0"), "__row": n})
    output = pl.struct(
        pl.format("INV-{}", pl.col("__row")).alias("invoice_number"),
        (pl.date(2026, 1, 1) + pl.duration(days=pl.col("__row") % 365)).alias("invoice_date"),
        pl.struct(
            (pl.col("__row") * 1.25).alias("amount"), pl.lit("EUR").alias("iso_4217_currency_code")
        ).alias("total"),
        pl.concat_list(
            pl.struct(pl.lit("item").alias("description"), pl.lit(2.0).alias("quantity"))
        ).alias("line_items"),
    )
    return frame.with_columns(
        pl.format("s3://docs/{}.pdf", pl.col("doc")).alias("file"),
        pl.format("exr_{}", pl.col("doc")).alias("run_id"),
        pl.lit("PROCESSED").cast(STATUS).alias("status"),
        output.alias("output"),
        pl.lit(1.0).alias("credits"),
        pl.lit(JOB_TIME).dt.replace_time_zone("UTC").alias("created_at"),
        pl.col("doc").alias("__unit"),
    ).to_arrow()


def _timed(step: Callable[[int, pa.Table], None], parts: list[pa.Table]) -> list[float]:
    seconds = []
    for chunk, part in enumerate(parts):
        t0 = time.perf_counter()
        step(chunk, part)
        seconds.append(time.perf_counter() - t0)
    return seconds


def _publisher(kind: str, mode: TableMode, tmp: Path) -> Publisher:
    if kind == "delta":
        target: Delta | Iceberg = Delta(str(tmp / "delta"), mode=mode)
    else:
        from pyiceberg.catalog.sql import SqlCatalog

        catalog = SqlCatalog(
            "bench", uri=f"sqlite:///{tmp / 'catalog.db'}", warehouse=(tmp / "wh").as_uri()
        )
        target = Iceberg("bench.results", catalog=catalog, mode=mode)
    return open_sink(target, key=["doc"], job_time=JOB_TIME)


def _summary(seconds: list[float]) -> dict[str, Any]:
    quarter = max(1, len(seconds) // 4)
    return {
        "median_ms": round(statistics.median(seconds) * 1000, 1),
        "max_ms": round(max(seconds) * 1000, 1),
        "first_quarter_median_ms": round(statistics.median(seconds[:quarter]) * 1000, 1),
        "last_quarter_median_ms": round(statistics.median(seconds[-quarter:]) * 1000, 1),
        "total_s": round(sum(seconds), 2),
    }


def run(setup: tuple[int, int]) -> dict[str, Any]:
    batches, rows = setup
    parts = [make_part(c, rows) for c in range(batches)]
    results: dict[str, Any] = {"setup": {"batches": batches, "rows_per_batch": rows}}
    with tempfile.TemporaryDirectory(prefix="xf-bench-tables-") as tmp:
        store = JobStore.open(str(Path(tmp) / "parts"))
        results["parquet_part"] = _summary(_timed(store.write_part, parts))
        modes: tuple[TableMode, ...] = ("append", "merge")
        for kind in ("delta", "iceberg"):
            for mode in modes:
                where = Path(tmp) / f"{kind}-{mode}"
                where.mkdir()
                sink = _publisher(kind, mode, where)
                seconds = _timed(functools.partial(sink.publish, "job"), parts)
                if not all(sink.published("job", c) for c in range(batches)):
                    raise RuntimeError(f"{kind} {mode}: a batch was not published")
                results[f"{kind}_{mode}"] = _summary(seconds)
    return results
