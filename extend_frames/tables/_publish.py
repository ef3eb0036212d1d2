"""Publishing a job's chunks to a table, exactly once per chunk.

A :class:`Sink` is the :class:`Publisher` a job calls after each chunk's part is written:
``published(job, chunk)`` asks the *table* whether it already holds that chunk, and
``publish(job, chunk, part)`` commits the chunk's rows in one transaction that records
``(job, chunk)`` in the table itself (Delta: an application transaction; Iceberg: a table
property updated in the same commit, plus snapshot-summary properties). Checking and
committing repeat on a commit conflict (another process committed meanwhile), so a crash, a
rerun or two processes on one job never put a chunk in twice: the table is the truth.

The rows published: the part without internal ``__*`` columns, plus the job id and the job's
start time (``extend_job_id``, ``extend_job_time``), typed by :func:`~._schema.table_schema`.
"""

from __future__ import annotations

import threading
from abc import ABC, abstractmethod
from collections.abc import Sequence
from datetime import datetime
from typing import Protocol

import polars as pl
import pyarrow as pa

from extend_frames._columns import JOB_ID, JOB_TIME
from extend_frames._errors import InputError, TableError
from extend_frames.tables._schema import check_evolution, conform
from extend_frames.tables._targets import TableTarget

__all__ = ["MAX_COMMIT_ATTEMPTS", "Publisher", "Sink", "chunk_rows", "latest_per_key"]

#: Commit attempts per chunk (each after a conflict with another writer) before giving up.
MAX_COMMIT_ATTEMPTS = 20


class Publisher(Protocol):
    """What a job calls after a chunk's part is written (docs/ARCHITECTURE.md, tables)."""

    def published(self, job_id: str, chunk: int) -> bool: ...

    def publish(self, job_id: str, chunk: int, table: pa.Table) -> None: ...


def chunk_rows(part: pa.Table, *, job_id: str, job_time: datetime) -> pa.Table:
    """A stored part as table rows: no ``__*`` columns, the job's id and time added, typed."""
    keep = [c for c in part.column_names if not c.startswith("__") and c not in (JOB_ID, JOB_TIME)]
    rows = part.select(keep)
    n = rows.num_rows
    rows = rows.append_column(JOB_ID, pa.array([job_id] * n, pa.string()))
    stamp = pa.array([job_time] * n, pa.timestamp("us", tz="UTC"))
    return conform(rows.append_column(JOB_TIME, stamp))


def latest_per_key(rows: pa.Table, keys: Sequence[str]) -> pa.Table:
    """One row per key (the last one: the newest in a chunk), for a merge."""
    frame = pl.from_arrow(rows)
    assert isinstance(frame, pl.DataFrame)
    if frame.select(list(keys)).is_duplicated().any():
        frame = frame.unique(list(keys), keep="last", maintain_order=True)
        return frame.to_arrow().cast(rows.schema)
    return rows


class Sink(ABC):
    """One job's publisher to one table; thread-safe (a job's chunks publish one at a time)."""

    def __init__(self, target: TableTarget, *, key: Sequence[str], job_time: datetime) -> None:
        self.target = target
        self.display = target.display
        self.mode = target.mode
        self.keys: tuple[str, ...] = tuple(target.merge_on or key)
        if self.mode == "merge" and not self.keys:
            raise InputError(
                f'{self.display}: mode="merge" needs merge_on= (or the job\'s key=) to know '
                "which rows are the same document"
            )
        self.job_time = job_time
        self._lock = threading.Lock()

    def check(self, part_schema: pa.Schema) -> None:
        """Refuse now, before anything is sent or written, a job whose parts (of schema
        ``part_schema``) the table cannot take: a missing merge key, a changed field type."""
        empty = chunk_rows(part_schema.empty_table(), job_id="", job_time=self.job_time)
        self._check_keys(empty.schema)
        current = self.current_schema()
        if current is not None:
            check_evolution(current, empty.schema, self.display)

    def _check_keys(self, schema: pa.Schema) -> None:
        missing = [k for k in self.keys if k not in schema.names] if self.mode == "merge" else []
        if missing:
            raise InputError(
                f"{self.display}: merge_on column {missing[0]!r} is not in the job's rows "
                f"(they have {', '.join(schema.names)}); pass merge_on= one of them"
            )

    def publish(self, job_id: str, chunk: int, table: pa.Table) -> None:
        """Commit ``table`` (a chunk's stored part) unless the table already holds it."""
        rows = chunk_rows(table, job_id=job_id, job_time=self.job_time)
        if self.mode == "merge":
            self._check_keys(rows.schema)
            rows = latest_per_key(rows, self.keys)
        with self._lock:
            for _ in range(MAX_COMMIT_ATTEMPTS):
                if self.published(job_id, chunk):
                    return
                try:
                    self._commit(job_id, chunk, rows)
                    return
                except Exception as exc:
                    if not self._conflict(exc):
                        raise
        raise TableError(
            f"{self.display}: batch {chunk} of job {job_id} still conflicted with other writers "
            f"after {MAX_COMMIT_ATTEMPTS} commit attempts; rerun with the same output= to "
            "publish it (nothing is published twice)",
            path=self.display,
        )

    @abstractmethod
    def current_schema(self) -> pa.Schema | None:
        """The table's schema now (None if it does not exist yet)."""

    @abstractmethod
    def published(self, job_id: str, chunk: int) -> bool:
        """Whether the table already holds chunk ``chunk`` of job ``job_id`` (read now)."""

    @abstractmethod
    def _commit(self, job_id: str, chunk: int, rows: pa.Table) -> None:
        """One transaction: ``rows`` plus the record of ``(job_id, chunk)``."""

    @abstractmethod
    def _conflict(self, exc: Exception) -> bool:
        """Whether ``exc`` is a commit conflict worth checking and trying again."""
