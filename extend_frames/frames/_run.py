"""Stage 2, run: pin the processor version, then run the engine in memory or on a store.

Without ``output=`` the batches' tables are kept in memory and assembled; with it, the job is
kept at the output path (input rows, manifest, ledger, one Parquet part per batch), so a
crashed or detached job is finished from there by :func:`~extend_frames.frames.collect`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, replace
from typing import Any, Literal

import polars as pl
import pyarrow as pa

from extend_frames._columns import BATCH_ID, CHUNK, CREDITS, ROW, STATUS, UNIT
from extend_frames._errors import InputError
from extend_frames._operations import OPERATIONS
from extend_frames._telemetry import SpanHandle, span
from extend_frames._version import __version__
from extend_frames.api import Client
from extend_frames.frames._cache import JobCache, job_partition, open_cache, open_job_cache
from extend_frames.frames._collect import assemble, join_batch, join_hits
from extend_frames.frames._decode import decode_runs
from extend_frames.frames._options import Options
from extend_frames.frames._plan import Plan
from extend_frames.frames._progress import BarProgress
from extend_frames.frames._retry import open_attempts, retry_keys, run_attempt
from extend_frames.frames._schema import confidence_dtype, output_dtype
from extend_frames.frames._summary import JobSummary, remember, summarize
from extend_frames.frames._webhook import webhook_waiter
from extend_frames.jobs import (
    Chunk,
    ChunkHistory,
    Engine,
    JobSpec,
    NoProgress,
    Polling,
    PollingWaiter,
    Progress,
    Waiter,
    choose_route,
)
from extend_frames.store import JobStore

__all__ = ["StoredRun", "execute", "execute_stored"]

logger = logging.getLogger("extend_frames")


@dataclass(frozen=True, slots=True)
class _Run:
    """What every path of a run shares: the plan with its pinned version and output dtypes."""

    plan: Plan
    options: Options
    client: Client
    version: str | None
    proc_config: dict[str, Any] | None
    out_dtype: pl.DataType
    conf_dtype: pl.DataType | None
    rows_by_chunk: dict[int, pl.DataFrame]
    polling: Polling
    progress: Progress
    route: Literal["batch", "single"]
    cache: JobCache | None = None
    deadline: float | None = None  # max_wait: time.monotonic() after which nothing waits

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
        rows = self.rows_by_chunk[index]
        operation = self.plan.operation
        if self.cache is None:
            return join_batch(rows, decoded, operation).to_arrow()
        self.cache.writer.add(decoded)
        hits = self.cache.hits_by_chunk.get(index)
        if hits is None:
            return join_batch(rows, decoded, operation).to_arrow()
        is_hit = pl.col(UNIT).is_in(hits.get_column("metadata_row").implode())
        fresh = join_batch(rows.filter(~is_hit), decoded, operation)
        cached = join_hits(rows.filter(is_hit), hits, operation)
        return pl.concat([fresh, cached]).sort(ROW).to_arrow()

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
        return Engine(
            self.spec(job_id),
            self.client,
            finish=self.finish,
            waiter=waiter,
            polling=self.polling,
            concurrency=self.options.concurrency,
            progress=self.progress,
            deadline=self.deadline,
            **stored,
        )

    def decoded_schema(self) -> pl.Schema:
        """The columns the decoder gives (plus ``batch_id``): what cached values are cast to."""
        empty = decode_runs(
            self.plan.operation, [], output_dtype=self.out_dtype, confidence_dtype=self.conf_dtype
        )
        return empty.with_columns(pl.lit(None, pl.String).alias(BATCH_ID)).schema


@dataclass(frozen=True, slots=True)
class StoredRun:
    """A job run at its output without its result assembled in memory (:func:`execute_stored`)."""

    summary: JobSummary
    #: The processor version the job ran with and its config (None for parse): what
    #: ``result_schema`` needs to type the parts.
    processor_version: str | None
    processor_config: dict[str, Any] | None


async def execute(plan: Plan, options: Options) -> pl.DataFrame:
    """Run ``plan`` to the end (or, with ``detach``, to submission) and return every row."""
    started = time.monotonic()
    result, run = await _drive(plan, options, materialize=True, started=started)
    assert isinstance(result, pl.DataFrame)  # materialize=True always assembles
    counted = summarize(result)
    summary = JobSummary(
        counted.rows,
        counted.by_status,
        counted.credits,
        time.monotonic() - started,
        options.output,
        len(plan.chunks) if run.route == "batch" else 0,
        route=run.route,
        possible_duplicates=counted.possible_duplicates,
    )
    remember(result, summary)
    logger.info("extend %s: %s", plan.operation, summary)
    return result


async def execute_stored(plan: Plan, options: Options) -> StoredRun:
    """Run ``plan`` at ``options.output`` like :func:`execute`, but never hold the whole result:
    parts are written as batches finish and only counted at the end (by a two-column scan), so
    the caller's memory is the plan's keys and references plus one batch at a time. For
    adapters that read the parts themselves (``extend_frames.spark``)."""
    if options.output is None:
        raise InputError("this job needs output= (the results are read from there)")
    started = time.monotonic()
    result, run = await _drive(plan, options, materialize=False, started=started)
    counted = summarize(result) if isinstance(result, pl.DataFrame) else result
    summary = replace(
        counted,
        seconds=time.monotonic() - started,
        output=options.output,
        batches=len(plan.chunks) if run.route == "batch" else 0,
        route=run.route,
    )
    logger.info("extend %s: %s", plan.operation, summary)
    return StoredRun(summary, run.version, run.proc_config)


async def _drive(
    plan: Plan, options: Options, *, materialize: bool, started: float
) -> tuple[pl.DataFrame | JobSummary, _Run]:
    if options.output is not None:  # an unwritable output fails now, before any request
        store = JobStore.open(options.output, storage_options=options.store_options)
        await asyncio.to_thread(store.check_writable)
    client = options.client or Client()
    with span("extend_frames.job", {"extend.operation": plan.operation}) as job_span:
        return await _drive_job(plan, options, client, job_span, materialize, started)


async def _drive_job(
    plan: Plan,
    options: Options,
    client: Client,
    job_span: SpanHandle,
    materialize: bool,
    started: float,
) -> tuple[pl.DataFrame | JobSummary, _Run]:
    try:
        run = await prepare(plan, options, client, started=started)
        job_span.set("extend.route", run.route)
        try:
            async with _waiter(run) as waiter:
                if options.output is None:
                    result: pl.DataFrame | JobSummary = await _run_in_memory(run, waiter)
                else:
                    result = await _run_stored(run, waiter, materialize=materialize)
        finally:
            run.progress.close()
            if run.cache is not None:  # what was paid for is kept, also when the job failed
                await asyncio.to_thread(run.cache.writer.close)
    finally:
        # Always: this loop's connections must close before the loop ends (the sync API runs
        # on a private loop). The client itself stays usable for the caller.
        await client.aclose()
    return result, run


async def prepare(
    plan: Plan, options: Options, client: Client, *, started: float | None = None
) -> _Run:
    """Pin the processor version, derive the output dtypes and look the cache up (reads only:
    the processor version and the cache; nothing is submitted)."""
    route = _route(plan, options, client)
    version, proc_config = await _pin_processor(plan, options, client)
    parts = plan.rows.select(*plan.input_columns, ROW, UNIT, CHUNK)
    by_chunk = parts.partition_by(CHUNK, as_dict=True, include_key=False)
    wait = options.wait_seconds
    run = _Run(
        plan=plan,
        options=options,
        client=client,
        version=version,
        proc_config=proc_config,
        out_dtype=output_dtype(plan.operation, proc_config),
        conf_dtype=confidence_dtype(proc_config) if plan.operation == "extract" else None,
        rows_by_chunk={int(k[0]): v for k, v in by_chunk.items()},
        polling=options.polling or Polling(),
        progress=BarProgress(f"extend {plan.operation}") if options.progress else NoProgress(),
        route=route,
        deadline=None if wait is None else (started or time.monotonic()) + wait,
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


def _route(plan: Plan, options: Options, client: Client) -> Literal["batch", "single"]:
    """The route this job takes (``jobs/_route.py`` has the rule); a resumed job keeps the
    route it started with, so its remaining units go the same way."""
    if options.output is not None and options.mode in ("resume", "retry"):
        stored = JobStore.open(options.output, storage_options=options.store_options)
        manifest = stored.read_manifest()
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
    plan: Plan, options: Options, client: Client
) -> tuple[str | None, dict[str, Any] | None]:
    """The processor version to run and its config (None, None for parse).

    "latest" is pinned to the concrete version, so every batch (and a resume next week) runs
    the same schema even if someone publishes a new version meanwhile; a resumed job runs the
    version it started with.
    """
    version = plan.processor_version
    resuming = options.mode in ("resume", "retry")
    if options.output is not None and version in (None, "latest") and resuming:
        stored = JobStore.open(options.output, storage_options=options.store_options)
        manifest = stored.read_manifest()
        if manifest is not None and manifest.get("processor_id") == plan.processor_id:
            version = manifest.get("processor_version") or version
    kind = OPERATIONS[plan.operation].kind
    if plan.processor_id is None or kind is None:
        return version, None
    resolved = await client.get_processor(kind, plan.processor_id, version)
    if version in (None, "latest") and resolved.get("version") not in (None, "draft"):
        version = str(resolved["version"])
    return version, dict(resolved.get("config") or {})


@contextlib.asynccontextmanager
async def _waiter(run: _Run) -> AsyncIterator[Waiter]:
    """Polling, or (``wait="webhook"``, not detached) a webhook endpoint for the run's life."""
    if run.options.wait != "webhook" or run.options.max_wait == 0:
        yield PollingWaiter(run.polling)
        return
    hook = webhook_waiter(run.client, run.options.webhook, run.polling, run.plan.operation)
    async with hook as waiter:
        yield waiter


async def _run_in_memory(run: _Run, waiter: Waiter) -> pl.DataFrame:
    engine = run.engine(uuid.uuid4().hex, waiter)
    run.progress.start(run.plan.rows.height, already_done=_hit_rows(run, set()))
    tables = await engine.run(run.chunks())
    return assemble([tables[c.index] for c in run.plan.chunks], run.plan.rows.height)


def _hit_rows(run: _Run, done: set[int]) -> int:
    """Rows answered by the cache outside the chunks in ``done`` (for the progress bar)."""
    if run.cache is None:
        return 0
    return sum(n for i, n in run.cache.hit_rows_by_chunk.items() if i not in done)


async def _run_stored(
    run: _Run, waiter: Waiter, *, materialize: bool = True
) -> pl.DataFrame | JobSummary:
    """Run (or resume, or retry) the job with its ledger and parts at ``options.output``;
    return every row, or (``materialize=False``, nothing pending) only the counts, from the
    parts on disk."""
    plan, options = run.plan, run.options
    assert options.output is not None
    store = JobStore.open(options.output, storage_options=options.store_options)
    with store.lock(owner=f"extend_frames {plan.operation}"):
        if options.mode == "overwrite":
            await asyncio.to_thread(store.clear)
        job_id = _open_job(run, store)
        history, done = await state(run, store)
        attempts = open_attempts(history, done)
        engine = run.engine(job_id, waiter, ledger=store, history=history)
        already = sum(len(run.rows_by_chunk[i]) for i in done)
        run.progress.start(plan.rows.height, already_done=already + _hit_rows(run, done))
        pending = await engine.run(run.chunks(), done=done | set(attempts))
        for attempt in sorted(set(attempts.values())):  # finish interrupted retries first
            keys = {
                i: list(history[i].retry_keys or ()) for i, a in attempts.items() if a == attempt
            }
            pending |= await run_attempt(
                run, store, waiter, job_id=job_id, attempt=attempt, keys=keys, history=history
            )
        if options.mode == "retry" and not pending:
            pending |= await _retry_once(run, store, waiter, job_id)
        if pending:  # max_wait/detach: submitted, not collected; rows PENDING with batch ids
            tables = [pending.get(c.index) or store.read_part(c.index) for c in plan.chunks]
            return assemble(tables, plan.rows.height)
        result = store.read().sort(ROW).drop(ROW) if materialize else None
        summary = (
            summarize(result) if result is not None else await asyncio.to_thread(_count, store)
        )
        store.mark_success(
            {
                "rows": summary.rows,
                "by_status": summary.by_status,
                "credits": summary.credits,
                "route": run.route,
                "possible_duplicates": summary.possible_duplicates,
            }
        )
        return summary if result is None else result


def _count(store: JobStore) -> JobSummary:
    """Rows by status and credits of the stored parts, reading only those two columns."""
    counts = (
        store.scan()
        .select(pl.col(STATUS).cast(pl.String), pl.col(CREDITS).fill_null(0))
        .group_by(STATUS)
        .agg(pl.len().alias("rows"), pl.col(CREDITS).sum())
        .collect()
    )
    by_status = {str(s): int(n) for s, n in counts.select(STATUS, "rows").iter_rows()}
    return JobSummary(sum(by_status.values()), by_status, float(counts.get_column(CREDITS).sum()))


async def state(run: _Run, store: JobStore) -> tuple[dict[int, ChunkHistory], set[int]]:
    """Each chunk's history folded from the ledger, and the chunks collected with a part."""
    ledger = await asyncio.to_thread(store.ledger)
    history = {i: ChunkHistory.fold(s.records) for i, s in ledger.items()}
    done = {
        c.index
        for c in run.plan.chunks
        if history.get(c.index, ChunkHistory()).collected and store.has_part(c.index)
    }
    return history, done


async def _retry_once(
    run: _Run, store: JobStore, waiter: Waiter, job_id: str
) -> dict[int, pa.Table]:
    """mode="retry": one new attempt for every stored row with a retryable failure."""
    history, done = await state(run, store)
    keys = await asyncio.to_thread(retry_keys, store, run.plan.rows, done)
    if not keys:
        return {}
    attempt = 1 + max((h.attempt for h in history.values()), default=0)
    logger.info(
        "extend %s: retrying %d documents (attempt %d)",
        run.plan.operation,
        sum(map(len, keys.values())),
        attempt,
    )
    return await run_attempt(
        run, store, waiter, job_id=job_id, attempt=attempt, keys=keys, history={}
    )


def _rates(client: Client) -> dict[str, float]:
    limits = client.rate_limits
    return {"get": limits.get, "write": limits.write, "run": limits.run}


def _open_job(run: _Run, store: JobStore) -> str:
    """The job id at ``store``: the stored one (after checking it is the same job) or new."""
    plan = run.plan
    existing = store.read_manifest()
    if existing is not None:
        store.check_manifest({**plan.identity, "processor_version": run.version})
        return str(existing["job_id"])
    job_id = uuid.uuid4().hex
    store.write_input(plan.rows.to_arrow())
    store.write_manifest(
        {
            **plan.identity,
            "processor_version": run.version,
            "override_config": plan.config,
            "job_id": job_id,
            "rows": plan.rows.height,
            "n_chunks": len(plan.chunks),
            "library_version": __version__,
            "route": run.route,
            # Where collect() finds the cache again (display form: no credentials, no query).
            "cache": run.cache.cache.url if run.cache is not None else None,
            "cache_key": run.options.cache_key,
            # the client's requests/s per category: the job report's throughput limit
            "rate_limits": _rates(run.client),
        }
    )
    return job_id
