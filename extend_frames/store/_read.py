"""Reading a finished (or half-finished) output back: results in input order, and a status.

Both read without the lock: parts appear atomically, so a reader sees whole chunks only.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import polars as pl

from extend_frames.store._ledger import STATES
from extend_frames.store._lock import LockInfo
from extend_frames.store._store import JobStore


def read_results(
    path: str | os.PathLike[str],
    *,
    row_column: str | None = None,
    storage_options: Mapping[str, Any] | None = None,
    lazy: bool = False,
) -> pl.DataFrame | pl.LazyFrame:
    """The rows stored at ``path``: sorted by ``row_column`` (which is then dropped) when the
    parts have it, else in chunk order. (The frames layer passes its row-position column.)

    An unfinished job gives the chunks collected so far (``JobStore.open(path).is_complete()``
    tells which case it is; the frames layer fills in the rest from the job's input). A missing
    path, or a folder that is not a job output, raises StoreError naming it.

    >>> import extend_frames.store as xs, pyarrow as pa
    >>> s = xs.JobStore.open("memory://doc/read_results")
    >>> s.write_part(1, pa.table({"pos": [2], "v": ["c"]}))
    >>> s.write_part(0, pa.table({"pos": [1, 0], "v": ["b", "a"]}))
    >>> xs.read_results("memory://doc/read_results", row_column="pos")["v"].to_list()
    ['a', 'b', 'c']
    """
    store = JobStore.open(path, storage_options=storage_options)
    store.require_job()
    lf = store.scan()
    if row_column is not None and row_column in lf.collect_schema().names():
        lf = lf.sort(row_column).drop(row_column)
    return lf if lazy else lf.collect()


@dataclass(frozen=True, slots=True)
class StoredJobStatus:
    """What ``extend-frames status OUTPUT`` shows: progress by batch, rows by status, credits.

    ``chunks_total`` comes from the manifest's ``n_chunks`` if the engine recorded it.
    ``rows_by_status``/``credits`` are read from the parts (None if they lack those columns).
    """

    path: str
    complete: bool
    operation: str | None
    processor: Any
    job_id: str | None
    chunks_total: int | None
    batches_by_state: dict[str, int]
    parts: int
    rows: int
    rows_by_status: dict[str, int] | None
    credits: float | None
    lock: LockInfo | None
    success: dict[str, Any] | None = field(default=None)
    #: The processor version the job is pinned to (the manifest's ``processor_version``).
    processor_version: str | None = field(default=None)

    def render(self) -> str:
        """A few human lines (no secrets: the path is shown without credentials)."""
        head = "complete" if self.complete else "incomplete"
        lines = [f"{self.path}: {head}"]
        if self.operation is not None:
            pinned = (
                f"@{self.processor_version}" if self.processor and self.processor_version else ""
            )
            lines.append(
                f"  job {self.job_id}: {self.operation} {self.processor or ''}{pinned}".rstrip()
            )
        total = f" (of {self.chunks_total})" if self.chunks_total is not None else ""
        states = ", ".join(f"{n} {s}" for s, n in self.batches_by_state.items() if n)
        lines.append(f"  batches: {states or 'none recorded'}{total}; parts written: {self.parts}")
        if self.rows_by_status is not None:
            by = ", ".join(f"{n} {s}" for s, n in sorted(self.rows_by_status.items()))
            lines.append(f"  rows: {self.rows} ({by})" if by else f"  rows: {self.rows}")
        else:
            lines.append(f"  rows: {self.rows}")
        if self.credits is not None:
            lines.append(f"  credits: {self.credits:g}")
        if self.lock is not None:
            lines.append(f"  locked by {self.lock.describe()}")
        return "\n".join(lines)


def ledger_summary(
    path: str | os.PathLike[str], *, storage_options: Mapping[str, Any] | None = None
) -> StoredJobStatus:
    """Summarise the output at ``path`` from its manifest, ledger and parts (read-only).

    >>> import extend_frames.store as xs
    >>> xs.ledger_summary("memory://doc/nothing-here").complete
    False
    """
    store = JobStore.open(path, storage_options=storage_options)
    manifest = store.read_manifest() or {}
    ledger = store.ledger()
    by_state: dict[str, int] = dict.fromkeys(STATES, 0)
    for chunk in ledger.values():
        by_state[chunk.state] += 1
    lf = store.scan()
    names = lf.collect_schema().names()
    aggs: list[pl.Expr] = [pl.len().alias("rows")]
    if "credits" in names:
        aggs.append(pl.col("credits").cast(pl.Float64).sum().alias("credits"))
    totals = lf.select(aggs).collect() if names else None
    rows = int(totals["rows"][0]) if totals is not None else 0
    credits = float(totals["credits"][0]) if totals is not None and "credits" in names else None
    by_status: dict[str, int] | None = None
    if "status" in names:
        counts = lf.group_by(pl.col("status").cast(pl.String)).len().collect()
        by_status = {str(s): int(n) for s, n in counts.iter_rows()}
    n_chunks = manifest.get("n_chunks")
    return StoredJobStatus(
        path=store.path,
        complete=store.is_complete(),
        operation=manifest.get("operation"),
        processor=manifest.get("processor", manifest.get("processor_id")),
        job_id=manifest.get("job_id"),
        chunks_total=int(n_chunks) if isinstance(n_chunks, int) else None,
        batches_by_state=by_state,
        parts=len(store.parts()),
        rows=rows,
        rows_by_status=by_status,
        credits=credits,
        lock=store.lock_holder(),
        processor_version=_version(manifest.get("processor_version")),
        success=store.success(),
    )


def _version(value: Any) -> str | None:
    return None if value is None else str(value)
