"""What one engine process holds about a chunk and an attempt beyond the ledger, and the
telemetry count of a collected chunk (kept out of ``_engine.py`` so it stays one screenful
of decisions per step)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import polars as pl
import pyarrow as pa

from extend_frames._telemetry import collected
from extend_frames.jobs._collect import Collector
from extend_frames.jobs._posters import Poster
from extend_frames.jobs._reconcile import Reconciler
from extend_frames.jobs._spec import JobSpec

__all__ = ["Attempt", "Live", "count_collected"]


@dataclass(slots=True)
class Live:
    """What one process knows about a chunk beyond its ledger (lost in a crash, by design)."""

    files: dict[str, dict[str, Any]] = field(default_factory=dict)
    failures: dict[str, tuple[str, str]] = field(default_factory=dict)
    uploaded: set[str] = field(default_factory=set)
    posted_at: datetime | None = None  # wall time of the last POST whose outcome is unknown
    sent_at: float | None = None  # its clock time
    late: bool = True  # whether that outcome may still commit
    settled: set[str] = field(default_factory=set)  # suspect keys reconciled by this process
    ambiguous: int = 0
    published: dict[str, bool] = field(default_factory=dict)  # job id -> the table holds it
    table: pa.Table | None = None


@dataclass(frozen=True, slots=True)
class Attempt:
    """The tools of one attempt (its own metadata job id)."""

    spec: JobSpec
    poster: Poster
    collector: Collector
    reconciler: Reconciler


def count_collected(operation: str, decoded: pl.DataFrame) -> None:
    """Rows by status and credits of a collected chunk, to the telemetry metrics."""
    counts = decoded.group_by("status").agg(pl.len().alias("n"), pl.col("credits").sum())
    by_status = {str(s): int(n) for s, n in counts.select("status", "n").iter_rows()}
    collected(operation, by_status, float(counts.get_column("credits").sum() or 0.0))
