"""Stage 3, collect: put every input row back with its typed result, in input order.

The engine hands each batch's decoded runs (one row per unit) to :func:`join_batch`, which
joins them to the batch's input rows (several rows may share a unit); :func:`assemble` puts
the batches together and checks that no row was lost.
"""

from __future__ import annotations

import polars as pl
import pyarrow as pa

from extend_frames._columns import (
    BATCH_ID,
    CACHED,
    CREDITS,
    POSSIBLE_DUPLICATE,
    ROW,
    RUN_ID,
    STATUS,
    STATUS_VALUES,
    UNIT,
)
from extend_frames._operations import Operation

__all__ = ["STATUS_DTYPE", "assemble", "join_batch", "join_hits", "to_frame"]

#: The dtype of the ``status`` column. Unknown statuses from a newer API become FAILED with the
#: original kept in failure_reason, so the column's dtype never changes.
STATUS_DTYPE = pl.Enum(list(STATUS_VALUES))


def known_status(status: pl.Expr) -> tuple[pl.Expr, pl.Expr]:
    """The ``status`` and ``failure_reason`` columns of a decoded status: the one rule for an
    unknown status (one Extend adds later): the row is FAILED with
    ``UNKNOWN_STATUS:<status>``, never silently kept."""
    known = status.is_in(list(STATUS_VALUES))
    return (
        pl.when(known).then(status).otherwise(pl.lit("FAILED")).cast(STATUS_DTYPE).alias(STATUS),
        pl.when(known)
        .then(pl.col("failure_reason"))
        .otherwise(pl.concat_str(pl.lit("UNKNOWN_STATUS:"), status))
        .alias("failure_reason"),
    )


def join_batch(rows: pl.DataFrame, decoded: pl.DataFrame, operation: Operation) -> pl.DataFrame:
    """``rows`` (input columns, ROW, UNIT) joined to the batch's ``decoded`` runs."""
    results = decoded.select(
        pl.col("metadata_row").alias(UNIT),
        RUN_ID,
        BATCH_ID,
        *known_status(pl.col(STATUS)),
        "failure_message",
        "output",
        *(["output_confidence"] if operation == "extract" else []),
        CREDITS,
        "file_id",
        "created_at",
        "updated_at",
        pl.lit(False).alias(CACHED),
        # the engine flags rows with more than one run; other decoded sources have none
        pl.col(POSSIBLE_DUPLICATE).fill_null(False)
        if POSSIBLE_DUPLICATE in decoded.columns
        else pl.lit(False).alias(POSSIBLE_DUPLICATE),
    )
    return rows.join(results, on=UNIT, how="left").drop(UNIT)


def join_hits(rows: pl.DataFrame, hits: pl.DataFrame, operation: Operation) -> pl.DataFrame:
    """``rows`` joined to their cached results (``hits``: decoded columns by ``metadata_row``):
    typed like fresh results, marked ``cached``, and free for this job (``credits`` 0)."""
    joined = join_batch(rows, hits, operation)
    return joined.with_columns(pl.lit(0.0).alias(CREDITS), pl.lit(True).alias(CACHED))


def assemble(tables: list[pa.Table], height: int) -> pl.DataFrame:
    """The batches' tables as one frame in input order (ROW dropped); all ``height`` rows."""
    frames = [to_frame(t) for t in tables]
    result = pl.concat(frames, how="vertical") if frames else pl.DataFrame()
    if result.height != height:  # an invariant, not user error: say so loudly
        raise RuntimeError(f"internal error: {result.height} result rows for {height} inputs")
    return result.sort(ROW).drop(ROW)


def to_frame(table: pa.Table) -> pl.DataFrame:
    frame = pl.from_arrow(table)
    assert isinstance(frame, pl.DataFrame)
    return frame
