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
from typing import Any

import polars as pl

from extend_frames._columns import CREDITS, ROW, STATUS, UNIT
from extend_frames._errors import InputError
from extend_frames._telemetry import span
from extend_frames._version import __version__
from extend_frames.api import Client
from extend_frames.frames._collect import assemble, join_batch
from extend_frames.frames._options import Options
from extend_frames.frames._plan import JobPlan
from extend_frames.frames._prepare import Prepared, job_state, prepare
from extend_frames.frames._publish import now_iso, open_publisher
from extend_frames.frames._retry import retry_keys
from extend_frames.frames._summary import JobSummary, remember, summarize
from extend_frames.frames._webhook import webhook_waiter
from extend_frames.jobs import Engine, PollingWaiter, Waiter
from extend_frames.store import JobStore, differences
from extend_frames.tables import Sink

__all__ = ["StoredRun", "execute", "execute_stored"]

logger = logging.getLogger("extend_frames")


@dataclass(frozen=True, slots=True)
class _Outcome:
    """What a call ran and got: every row (or, not materialized, the counts) and its engine."""

    result: pl.DataFrame | JobSummary
    run: Prepared
    engine: Engine


@dataclass(frozen=True, slots=True)
class StoredRun:
    """A job run at its output without its result assembled in memory (:func:`execute_stored`)."""

    summary: JobSummary
    #: The processor version the job ran with and its config (None for parse): what
    #: ``result_schema`` needs to type the parts.
    processor_version: str | None
    processor_config: dict[str, Any] | None


async def execute(plan: JobPlan, options: Options) -> pl.DataFrame:
    """Run ``plan`` to the end (or, with ``detach``, to submission) and return every row."""
    started = time.monotonic()
    outcome = await _drive(plan, options, materialize=True)
    result, run = outcome.result, outcome.run
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
        **_capped(outcome.engine),
    )
    remember(result, summary)
    logger.info("extend %s: %s", plan.operation, summary)
    return result


async def execute_stored(plan: JobPlan, options: Options) -> StoredRun:
    """Run ``plan`` at ``options.output`` like :func:`execute`, but never hold the whole result:
    parts are written as batches finish and only counted at the end (by a two-column scan), so
    the caller's memory is the plan's keys and references plus one batch at a time. For
    adapters that read the parts themselves (``extend_frames.spark``)."""
    if options.output is None:
        raise InputError("this job needs output= (the results are read from there)")
    started = time.monotonic()
    outcome = await _drive(plan, options, materialize=False)
    result, run = outcome.result, outcome.run
    counted = summarize(result) if isinstance(result, pl.DataFrame) else result
    summary = replace(
        counted,
        seconds=time.monotonic() - started,
        output=options.output,
        batches=len(plan.chunks) if run.route == "batch" else 0,
        route=run.route,
        **_capped(outcome.engine),
    )
    logger.info("extend %s: %s", plan.operation, summary)
    return StoredRun(summary, run.version, run.proc_config)


def _capped(engine: Engine) -> dict[str, Any]:
    """The summary's spending-cap fields: whether max_credits held rows back, and the spend."""
    if engine.cap.limit is None:
        return {}
    if engine.held:
        logger.warning(
            "extend %s: max_credits=%g stopped the job after %g credits; %d batch(es) held "
            "back come back PENDING (rerun with a higher max_credits to continue)",
            engine.spec.operation, engine.cap.limit, engine.cap.spent, len(engine.held),
        )  # fmt: skip
    return {"capped": bool(engine.held), "spent": engine.cap.spent}


async def _drive(plan: JobPlan, options: Options, *, materialize: bool) -> _Outcome:
    manifest, store = None, None
    if options.output is not None:  # an unwritable output fails now, before any request
        store = JobStore.open(options.output, storage_options=options.store_options)
        await asyncio.to_thread(store.check_writable)
        manifest = await asyncio.to_thread(store.read_manifest)  # once per call
    client = options.client or Client()
    # One trace per job: the engine names the job (id, route) on this span.
    with span("extend_frames.job", {"extend.operation": plan.operation}):
        return await _drive_job(plan, options, client, store, manifest, materialize=materialize)


async def _drive_job(
    plan: JobPlan,
    options: Options,
    client: Client,
    store: JobStore | None,
    manifest: dict[str, Any] | None,
    *,
    materialize: bool,
) -> _Outcome:
    try:
        run = await prepare(plan, options, client, manifest=manifest)
        try:
            async with _waiter(run) as waiter:
                if store is None:
                    outcome = await _run_in_memory(run, waiter)
                else:
                    outcome = await _run_stored(run, store, waiter, materialize=materialize)
        finally:
            run.progress.close()
            if run.cache is not None:  # what was paid for is kept, also when the job failed
                await asyncio.to_thread(run.cache.writer.close)
    finally:
        # Always: this loop's connections must close before the loop ends (the sync API runs
        # on a private loop). The client itself stays usable for the caller.
        await client.aclose()
    return outcome


@contextlib.asynccontextmanager
async def _waiter(run: Prepared) -> AsyncIterator[Waiter]:
    """Polling, or (``wait="webhook"``, not detached) a webhook endpoint for the run's life."""
    if run.options.wait != "webhook" or run.options.max_wait == 0:
        yield PollingWaiter(run.polling)
        return
    hook = webhook_waiter(run.client, run.options.webhook, run.polling, run.plan.operation)
    async with hook as waiter:
        yield waiter


async def _run_in_memory(run: Prepared, waiter: Waiter) -> _Outcome:
    engine = run.engine(uuid.uuid4().hex, waiter)
    run.progress.start(run.plan.rows.height, already_done=_hit_rows(run, set()))
    tables = await engine.run(run.chunks())
    result = assemble([tables[c.index] for c in run.plan.chunks], run.plan.rows.height)
    return _Outcome(result, run, engine)


def _hit_rows(run: Prepared, done: set[int]) -> int:
    """Rows answered by the cache outside the chunks in ``done`` (for the progress bar)."""
    if run.cache is None:
        return 0
    return sum(n for i, n in run.cache.hit_rows_by_chunk.items() if i not in done)


@contextlib.asynccontextmanager
async def _locked(store: JobStore, owner: str) -> AsyncIterator[None]:
    """The output's lock, taken and released off the event loop."""
    held = store.lock(owner=owner)
    await asyncio.to_thread(held.__enter__)
    try:
        yield
    except BaseException as exc:
        if not await asyncio.to_thread(held.__exit__, type(exc), exc, exc.__traceback__):
            raise
    else:
        await asyncio.to_thread(held.__exit__, None, None, None)


async def _run_stored(
    run: Prepared, store: JobStore, waiter: Waiter, *, materialize: bool = True
) -> _Outcome:
    """Run (or resume, or retry) the job with its ledger and parts at ``options.output``;
    return every row, or (``materialize=False``, nothing pending) only the counts, from the
    parts on disk. Every store call runs off the event loop."""
    plan, options = run.plan, run.options
    async with _locked(store, f"extend_frames {plan.operation}"):
        manifest = run.manifest
        if options.mode == "overwrite":
            await asyncio.to_thread(store.clear)
            manifest = None
        job_id = await asyncio.to_thread(_open_job, run, store, manifest)
        history, done = await job_state(run, store)
        retry: dict[int, list[str]] = {}
        if options.mode == "retry":
            retry = await asyncio.to_thread(retry_keys, store, plan.rows, done)
            logger.info(
                "extend %s: retrying %d documents", plan.operation, sum(map(len, retry.values()))
            )
        publisher = await _publisher(run, store)  # table=: checked before anything is sent
        engine = run.engine(
            job_id, waiter, ledger=store, history=history, retry=retry, publisher=publisher
        )
        already = sum(run.rows_by_chunk.size(i) for i in done)
        run.progress.start(plan.rows.height, already_done=already + _hit_rows(run, done))
        pending = await engine.run(run.chunks(), done=done)
        result = await asyncio.to_thread(_finish_stored, run, store, pending, materialize)
        return _Outcome(result, run, engine)


def _finish_stored(
    run: Prepared, store: JobStore, pending: dict[int, Any], materialize: bool
) -> pl.DataFrame | JobSummary:
    """The job's rows (pending ones from the engine, the rest from the parts), and, when
    nothing is pending, ``_SUCCESS`` with the counts (blocking: reads the store)."""
    plan = run.plan
    if pending and not materialize:  # stored run: counts only (read_results adds the rows)
        return _count(store, pending_of=plan.rows.height)
    if pending:  # max_wait/detach/cap: submitted or held, not collected; rows PENDING
        tables = [pending.get(c.index) or store.read_part(c.index) for c in plan.chunks]
        return assemble(tables, plan.rows.height)
    result = store.read().sort(ROW).drop(ROW) if materialize else None
    summary = summarize(result) if result is not None else _count(store)
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


async def _publisher(run: Prepared, store: JobStore) -> Sink | None:
    """``table=``'s sink (the engine's publisher), its schema checked against the job's part
    schema before anything is sent. The engine publishes each part after writing it, and on
    resume every collected part the table does not hold yet (its ``publish`` step)."""
    manifest = await asyncio.to_thread(store.read_manifest)
    publisher = open_publisher(run.options.table, manifest or {}, run.plan.key_columns)
    if publisher is None:
        return None
    rows = run.plan.rows.select(*run.plan.input_columns, ROW, UNIT).head(0)
    empty = pl.DataFrame(schema=run.decoded_schema())
    stored = await asyncio.to_thread(store.schema)
    part_schema = stored or join_batch(rows, empty, run.plan.operation).to_arrow().schema
    await asyncio.to_thread(publisher.check, part_schema)
    return publisher


def _rates(client: Client) -> dict[str, float]:
    limits = client.rate_limits
    return {"get": limits.get, "write": limits.write, "run": limits.run}


def _count(store: JobStore, *, pending_of: int | None = None) -> JobSummary:
    """Rows by status and credits of the stored parts, reading only those two columns;
    ``pending_of``: the job's row count, the rows without a part counted PENDING."""
    if not store.parts():  # nothing stored yet (detached or capped): every row is pending
        return JobSummary(pending_of or 0, {"PENDING": pending_of} if pending_of else {}, 0.0)
    counts = (
        store.scan()
        .select(pl.col(STATUS).cast(pl.String), pl.col(CREDITS).fill_null(0))
        .group_by(STATUS)
        .agg(pl.len().alias("rows"), pl.col(CREDITS).sum())
        .collect()
    )
    by_status = {str(s): int(n) for s, n in counts.select(STATUS, "rows").iter_rows()}
    if pending_of is not None and pending_of > sum(by_status.values()):
        by_status["PENDING"] = pending_of - sum(by_status.values())
    return JobSummary(sum(by_status.values()), by_status, float(counts.get_column(CREDITS).sum()))


def _open_job(run: Prepared, store: JobStore, existing: dict[str, Any] | None) -> str:
    """The job id at ``store``: the stored one (after checking it is the same job) or new."""
    plan = run.plan
    if existing is not None:
        diffs = differences(existing, {**plan.identity, "processor_version": run.version})
        if diffs:  # the store's own check, with its words and hint
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
            "created_at": now_iso(),  # the job time a table (table=) records per row
            "key_columns": list(plan.key_columns),
        }
    )
    return job_id
