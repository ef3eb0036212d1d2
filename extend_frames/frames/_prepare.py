"""What every path of a call shares before anything is submitted: the route, the pinned
processor version and its output dtypes, the cache lookup, the output's manifest and ledger.

:func:`prepare` only reads (the processor, the cache, the output), so ``xf.plan`` and the real
call start from the same :class:`Prepared` value and the same folded ledger (:func:`job_state`).
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, replace
from typing import Any, Literal

import polars as pl
import pyarrow as pa
import pyarrow.compute as pc

from extend_frames._columns import BATCH_ID, CHUNK, ROW, UNIT
from extend_frames._operations import OPERATIONS
from extend_frames.api import Client
from extend_frames.frames._cache import JobCache, job_partition, open_cache, open_job_cache
from extend_frames.frames._collect import join_batch, join_hits, to_frame
from extend_frames.frames._decode import decode_runs
from extend_frames.frames._eta import make_progress, note_credits
from extend_frames.frames._options import Options
from extend_frames.frames._plan import JobPlan
from extend_frames.frames._schema import confidence_dtype, output_dtype
from extend_frames.jobs import (
    Chunk,
    Engine,
    JobClock,
    JobSpec,
    Polling,
    Progress,
    Waiter,
    choose_route,
)
from extend_frames.jobs._clock import clock_of
from extend_frames.store import ChunkState, JobStore

__all__ = ["ChunkRows", "Prepared", "job_state", "prepare", "read_manifest"]


@dataclass(frozen=True, slots=True)
class ChunkRows:
    """Each chunk's input rows, gathered from the plan's frame when a chunk finishes: what is
    kept is one row position per row, not a second copy of the input (a select shares the
    plan's column buffers)."""

    frame: pl.DataFrame
    positions: dict[int, pl.Series]

    @classmethod
    def of(cls, plan: JobPlan) -> ChunkRows:
        frame = plan.rows.select(*plan.input_columns, ROW, UNIT, CHUNK)
        at = frame.select(CHUNK).with_row_index("at").group_by(CHUNK).agg(pl.col("at"))
        return cls(
            frame.drop(CHUNK), {int(c): pl.Series(a, dtype=pl.UInt32) for c, a in at.iter_rows()}
        )

    def __getitem__(self, index: int) -> pl.DataFrame:
        return self.frame[self.positions[index]]

    def size(self, index: int) -> int:
        """The chunk's row count (nothing gathered)."""
        return len(self.positions[index])


@dataclass(frozen=True, slots=True)
class Prepared:
    """A planned call with its pinned version, output dtypes, route and cache lookup."""

    plan: JobPlan
    options: Options
    client: Client
    version: str | None
    proc_config: dict[str, Any] | None
    out_dtype: pl.DataType
    conf_dtype: pl.DataType | None
    rows_by_chunk: ChunkRows
    polling: Polling
    progress: Progress
    route: Literal["batch", "single"]
    manifest: dict[str, Any] | None = None  # the output's, read once per call
    cache: JobCache | None = None
    deadline: float | None = None  # max_wait: on the client's clock, after which nothing waits

    def spec(self, job_id: str) -> JobSpec:
        operation, out, conf = self.plan.operation, self.out_dtype, self.conf_dtype
        return JobSpec(
            operation=operation,
            job_id=job_id,
            decode=lambda bodies: decode_runs(
                operation, bodies, output_dtype=out, confidence_dtype=conf
            ),
            processor_id=self.plan.processor_id,
            processor_version=self.version,
            override_config=self.plan.config,
            priority=self.options.priority,
            storage_options=self.options.store_options or None,
            route=self.route,
            reads=self.options.reads,
        )

    def finish(self, index: int, decoded: pl.DataFrame) -> pa.Table:
        """One chunk's rows: the engine's results for misses, the cache's for hits."""
        table = self._joined(index, decoded)
        note_credits(self.progress, table)  # frames/_eta.py: credits so far, for the ETA line
        return table

    def _joined(self, index: int, decoded: pl.DataFrame) -> pa.Table:
        rows = self.rows_by_chunk[index]
        operation = self.plan.operation
        hits = self.cache.hits_by_chunk.get(index) if self.cache is not None else None
        if hits is None:
            return join_batch(rows, decoded, operation).to_arrow()
        is_hit = pl.col(UNIT).is_in(hits.get_column("metadata_row").implode())
        fresh = join_batch(rows.filter(~is_hit), decoded, operation)
        cached = join_hits(rows.filter(is_hit), hits, operation)
        return pl.concat([fresh, cached]).sort(ROW).to_arrow()

    def merge(self, index: int, decoded: pl.DataFrame, part: pa.Table) -> pa.Table:
        """A retry attempt's rows replacing theirs in the chunk's stored part."""
        keys = decoded.get_column("metadata_row").cast(pl.String).implode()
        rows = self.rows_by_chunk[index].filter(pl.col(UNIT).is_in(keys))
        fresh = join_batch(rows, decoded, self.plan.operation)
        kept = to_frame(part).join(fresh.select(ROW), on=ROW, how="anti")
        return pl.concat([kept, fresh.select(kept.columns)]).sort(ROW).to_arrow()

    def retried(self, index: int, part: pa.Table, keys: tuple[str, ...]) -> pa.Table:
        """The rows of the chunk's stored part that a retry attempt's unit ``keys`` gave."""
        rows = self.rows_by_chunk[index].filter(pl.col(UNIT).is_in(keys))
        return part.filter(pc.is_in(part[ROW], rows.get_column(ROW).to_arrow()))

    def chunks(self) -> list[Chunk]:
        """The chunks the engine runs: the plan's, without the units the cache answers (the
        plan stays the same whatever the cache holds, so a resume matches the ledger)."""
        if self.cache is None:
            return self.plan.chunks
        hits = self.cache.hit_units
        return [
            Chunk(c.index, tuple(u for u in c.units if u.key not in hits)) for c in self.plan.chunks
        ]

    def engine(self, job_id: str, waiter: Waiter, **stored: Any) -> Engine:
        engine = Engine(
            self.spec(job_id),
            self.client,
            finish=self.finish,
            merge=self.merge,
            retried=self.retried,
            waiter=waiter,
            polling=self.polling,
            concurrency=self.options.concurrency,
            progress=self.progress,
            deadline=self.deadline,
            results=self.cache.writer if self.cache is not None else None,
            max_credits=self.options.max_credits,
            **stored,
        )
        if self.cache is not None:  # the cache keys an uploaded file on the bytes sent
            self.cache.writer.read_digests = engine.read_digests
        return engine

    def decoded_schema(self) -> pl.Schema:
        """The columns the decoder gives (plus ``batch_id``): what cached values are cast to."""
        empty = decode_runs(
            self.plan.operation, [], output_dtype=self.out_dtype, confidence_dtype=self.conf_dtype
        )
        return empty.with_columns(pl.lit(None, pl.String).alias(BATCH_ID)).schema


def read_manifest(options: Options) -> dict[str, Any] | None:
    """The output's manifest (None without output=, or for a new one). Blocking: call it off
    the event loop, once per call."""
    if options.output is None:
        return None
    return JobStore.open(options.output, storage_options=options.store_options).read_manifest()


async def prepare(
    plan: JobPlan, options: Options, client: Client, *, manifest: dict[str, Any] | None = None
) -> Prepared:
    """Pin the processor version, derive the output dtypes and look the cache up (reads only:
    the processor version and the cache; nothing is submitted)."""
    clock = JobClock(clock_of(client))
    started = clock.now()
    resumed = manifest if options.mode in ("resume", "retry") else None
    route = _route(plan, options, client, resumed)
    version, proc_config = await _pin_processor(plan, client, resumed)
    wait = options.wait_seconds
    run = Prepared(
        plan=plan,
        options=options,
        client=client,
        version=version,
        proc_config=proc_config,
        out_dtype=output_dtype(plan.operation, proc_config),
        conf_dtype=confidence_dtype(proc_config) if plan.operation == "extract" else None,
        rows_by_chunk=ChunkRows.of(plan),
        polling=options.polling or Polling(),
        progress=make_progress(
            f"extend {plan.operation}",
            show=options.progress,
            interval=options.progress_interval,
            rate_limits=client.rate_limits,
        ),
        route=route,
        manifest=manifest,
        deadline=None if wait is None else started + wait,
    )
    cache = open_cache(options.cache, options.store_options)
    if cache is None:
        return run
    schema = run.decoded_schema()
    part = job_partition(
        plan.operation, plan.processor_id, version, proc_config, plan.config, schema
    )
    job_cache = await asyncio.to_thread(
        open_job_cache,
        cache,
        part,
        plan.rows,
        schema,
        cache_key=options.cache_key,
        storage_options=options.store_options,
    )
    return replace(run, cache=job_cache)


def _route(
    plan: JobPlan, options: Options, client: Client, manifest: dict[str, Any] | None
) -> Literal["batch", "single"]:
    """The route this job takes (``jobs/_route.py`` has the rule); a resumed job keeps the
    route it started with, so its remaining units go the same way."""
    if manifest is not None and manifest.get("route") in ("batch", "single"):
        return manifest["route"]  # type: ignore[no-any-return]
    units = [u for c in plan.chunks for u in c.units if u.failure is None]
    if options.route == "auto" and options.wait == "webhook":
        return "batch"  # webhook waits are for batch events: a job that asks for them batches
    return choose_route(
        options.route,
        documents=len(units),
        run_rate=float(getattr(client.rate_limits, "run", 10.0)),
        operation=plan.operation,
        has_text=any(u.file is not None and "text" in u.file for u in units),
    )


async def _pin_processor(
    plan: JobPlan, client: Client, manifest: dict[str, Any] | None
) -> tuple[str | None, dict[str, Any] | None]:
    """The processor version to run and its config (None, None for parse).

    "latest" is pinned to the concrete version, so every batch (and a resume next week) runs
    the same schema even if someone publishes a new version meanwhile; a resumed job runs the
    version it started with.
    """
    version = plan.processor_version
    pinned = manifest is not None and manifest.get("processor_id") == plan.processor_id
    if manifest is not None and pinned and version in (None, "latest"):
        version = manifest.get("processor_version") or version
    kind = OPERATIONS[plan.operation].kind
    if plan.processor_id is None or kind is None:
        return version, None
    resolved = await client.get_processor(kind, plan.processor_id, version)
    if version in (None, "latest") and resolved.get("version") not in (None, "draft"):
        version = str(resolved["version"])
    return version, dict(resolved.get("config") or {})


async def job_state(run: Prepared, store: JobStore) -> tuple[dict[int, ChunkState], set[int]]:
    """Each chunk's state folded from the ledger, and the chunks collected with a part."""

    def read() -> tuple[dict[int, ChunkState], set[int]]:
        ledger = store.ledger()
        parts = set(store.parts())
        done = {c.index for c in run.plan.chunks if c.index in ledger and c.index in parts}
        return ledger, {i for i in done if ledger[i].collected}

    return await asyncio.to_thread(read)
