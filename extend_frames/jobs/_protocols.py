"""What the engine is given by its caller: the finishers, persistence, the result cache's writer
and an optional table publisher (the seams to the frames layer and the table sinks)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol

import polars as pl
import pyarrow as pa

__all__ = ["Finisher", "Ledger", "Merger", "Publisher", "ResultSink", "Retried"]

#: Called with a chunk's index and its decoded results (one row per unit, plus ``batch_id``);
#: returns the table to persist/return for that chunk (typically the input rows joined to them).
Finisher = Callable[[int, pl.DataFrame], pa.Table]
#: A retry attempt's finisher: the chunk's index, the attempt's decoded rows and the chunk's
#: stored part; returns the part with those rows replaced.
Merger = Callable[[int, pl.DataFrame, pa.Table], pa.Table]
#: A retry attempt's rows for the publisher: the chunk's index, its stored part and the
#: attempt's unit keys; returns the part's rows those keys gave.
Retried = Callable[[int, pa.Table, tuple[str, ...]], pa.Table]


class Ledger(Protocol):
    """What the engine needs from persistence (``extend_frames.store.JobStore`` provides it)."""

    def record(self, chunk: int, state: str, **data: Any) -> None: ...

    def write_part(self, chunk: int, table: pa.Table) -> None: ...

    def read_part(self, chunk: int) -> pa.Table: ...


class ResultSink(Protocol):
    """Where fresh results go besides the part (the result cache's writer); ``add`` only
    queues (it is called on the event loop)."""

    def add(self, decoded: pl.DataFrame) -> None: ...


class Publisher(Protocol):
    """A table the chunk's stored part is published to (after it is written; re-checked on
    resume: the table is the truth)."""

    def published(self, job_id: str, chunk: int) -> bool: ...

    def publish(self, job_id: str, chunk: int, table: pa.Table) -> None: ...
