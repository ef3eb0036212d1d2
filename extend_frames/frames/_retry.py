"""``mode="retry"``: submit once more the rows whose runs ended with a retryable failure.

An attempt is recorded per chunk in the ledger (a ``retry`` record with the attempt number and
the unit keys), then runs like any chunk through the engine, under its own metadata job id
(``jobs/_attempts.py``), and its results replace those rows in the chunk's part (one atomic
write): the part holds each row once, its latest attempt. An attempt interrupted by a crash
is finished by the next run of the same call (resume or retry) before anything new is tried.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from typing import TYPE_CHECKING

import polars as pl
import pyarrow as pa
import pyarrow.compute as pc

from extend_frames._columns import CHUNK, ROW, UNIT
from extend_frames.frames._collect import join_batch, to_frame
from extend_frames.frames._publish import PublishingLedger
from extend_frames.jobs import Chunk, ChunkHistory, Engine, Ledger, Waiter
from extend_frames.jobs._attempts import attempt_job_id, retryable
from extend_frames.store import JobStore
from extend_frames.tables import Publisher

if TYPE_CHECKING:
    from extend_frames.frames._run import _Run

__all__ = ["open_attempts", "retry_keys", "run_attempt"]


def retry_keys(store: JobStore, rows: pl.DataFrame, done: set[int]) -> dict[int, list[str]]:
    """Per collected chunk, the unit keys whose stored rows a retry submits again."""
    if not done:
        return {}
    stored = store.scan().select(ROW, "status", "failure_reason").filter(retryable()).collect()
    units = stored.join(rows.select(ROW, UNIT, CHUNK), on=ROW, how="inner")
    units = units.filter(pl.col(CHUNK).is_in(sorted(done))).unique(UNIT, maintain_order=True)
    out: dict[int, list[str]] = {}
    for unit, chunk in units.select(UNIT, CHUNK).sort(CHUNK, maintain_order=True).iter_rows():
        out.setdefault(int(chunk), []).append(str(unit))
    return out


def open_attempts(history: Mapping[int, ChunkHistory], done: set[int]) -> dict[int, int]:
    """Chunks with a retry attempt that was started but not collected: chunk -> attempt."""
    return {
        i: h.attempt
        for i, h in history.items()
        if h.attempt > 0 and i not in done and h.retry_keys is not None
    }


async def run_attempt(
    run: _Run,
    store: JobStore,
    waiter: Waiter,
    *,
    job_id: str,
    attempt: int,
    keys: Mapping[int, list[str]],
    history: Mapping[int, ChunkHistory],
    publisher: Publisher | None = None,
) -> dict[int, pa.Table]:
    """Run attempt ``attempt`` over ``keys`` (chunk -> unit keys) and merge each chunk's new
    rows into its part. Chunks without history for this attempt get a ``retry`` record first.
    Returns the tables of chunks left pending (max_wait), rows merged as above. With a
    ``publisher`` (``table=``), each chunk's retried rows are published under the attempt's
    job id (``<job>.retry<n>``): merge replaces the failed rows, append adds the attempt."""
    by_key = {u.key: u for c in run.plan.chunks for u in c.units}
    chunks: list[Chunk] = []
    hist: dict[int, ChunkHistory] = {}
    for index, wanted in sorted(keys.items()):
        h = history.get(index)
        if h is None or h.attempt != attempt:
            await asyncio.to_thread(store.record, index, "retry", attempt=attempt, keys=wanted)
            old = h.file_ids if h is not None else {}
            h = ChunkHistory(attempt=attempt, retry_keys=tuple(wanted), file_ids=dict(old))
        hist[index] = h
        chunks.append(Chunk(index, tuple(by_key[k] for k in (h.retry_keys or ()))))
    parts = {c.index: to_frame(store.read_part(c.index)) for c in chunks}

    again = {c.index: sorted(u.key for u in c.units) for c in chunks}

    def finish(index: int, decoded: pl.DataFrame) -> pa.Table:
        if run.cache is not None:
            run.cache.writer.add(decoded)
        rows = run.rows_by_chunk[index].filter(pl.col(UNIT).is_in(again[index]))
        fresh = join_batch(rows, decoded, run.plan.operation)
        kept = parts[index].join(fresh.select(ROW), on=ROW, how="anti")
        return pl.concat([kept, fresh.select(kept.columns)]).sort(ROW).to_arrow()

    def retried(index: int, table: pa.Table) -> pa.Table:
        rows = run.rows_by_chunk[index].filter(pl.col(UNIT).is_in(again[index]))
        return table.filter(pc.is_in(table[ROW], rows.get_column(ROW).to_arrow()))

    ledger: Ledger = store
    if publisher is not None:
        ledger = PublishingLedger(store, publisher, attempt_job_id(job_id, attempt), retried)
    engine = Engine(
        run.spec(attempt_job_id(job_id, attempt)),
        run.client,
        finish=finish,
        waiter=waiter,
        polling=run.polling,
        concurrency=run.options.concurrency,
        ledger=ledger,
        history=hist,
        deadline=run.deadline,
    )
    return await engine.run(chunks)
