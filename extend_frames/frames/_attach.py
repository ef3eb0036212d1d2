"""``xf.read_batch``: any Extend batch, created anywhere, as one typed frame (one row per run).

The batch's kind comes from its id (see ``jobs/_attach.py``); typed columns come from the
processor version its runs name; each input's ``metadata`` comes back as columns, one per
top-level key, named ``metadata.<key>``. With ``output=``, runs are stored in parts of 1,000
(sorted by creation time, then id), so a rerun fetches only the parts not yet written, and a
complete output is read back without any request.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from datetime import timedelta
from typing import Any

import polars as pl
import pyarrow as pa

from extend_frames._columns import ROW, RUN_ID
from extend_frames._errors import InputError, NotFoundError, StoreError
from extend_frames._operations import MAX_BATCH_INPUTS, OPERATIONS, Operation
from extend_frames.api import BatchRun, Client
from extend_frames.api._models import NON_TERMINAL
from extend_frames.frames._cache import CacheLike, batch_entries, job_partition, open_cache
from extend_frames.frames._collect import known_status
from extend_frames.frames._decode import decode_runs
from extend_frames.frames._options import Options
from extend_frames.frames._publish import now_iso, open_publisher, publish_missing, publish_part
from extend_frames.frames._schema import output_dtypes
from extend_frames.jobs import (
    Concurrency,
    Polling,
    PollingWaiter,
    blocking,
    check_batch_id,
    fetch_run_bodies,
    find_operation,
    list_batch_runs,
    processor_of,
)
from extend_frames.store import Cache, JobStore
from extend_frames.tables import TableTarget

logger = logging.getLogger("extend_frames")

METADATA_PREFIX = "metadata."  # a run's metadata key "doc_id" becomes column "metadata.doc_id"
PART_ROWS = MAX_BATCH_INPUTS  # runs per stored part: one batch's worth


async def aread_batch(
    batch_id: str,
    *,
    client: Client | None = None,
    output: str | None = None,
    storage_options: Mapping[str, Any] | None = None,
    polling: Polling | None = None,
    concurrency: Concurrency | None = None,
    max_wait: float | timedelta | None = None,
    cache: CacheLike | None = None,
    table: TableTarget | str | None = None,
) -> pl.DataFrame:
    """Async :func:`read_batch`."""
    batch_id = check_batch_id(batch_id)
    if table is not None and output is None:
        raise InputError("read_batch(table=) needs output= (the parts it publishes from)")
    result_cache = open_cache(cache, storage_options)
    wait = Options(max_wait=max_wait).wait_seconds  # the job API's rule: seconds >= 0
    if wait is not None and output is None:
        raise InputError(
            "read_batch(max_wait=) needs output= (runs still pending are resumed from there: "
            "rerun the same call)"
        )
    deadline = None if wait is None else time.monotonic() + wait
    store = None
    if output is not None:
        store = JobStore.open(output, storage_options=dict(storage_options or {}))
        stored = store.read_manifest()
        if stored is not None and stored.get("batch_id") != batch_id:
            raise StoreError(
                f"{store.path} holds {stored.get('batch_id') or 'another job'}, not batch "
                f"{batch_id}; choose another output path"
            )
        if stored is not None and store.is_complete():  # everything is stored: no request
            publisher = open_publisher(table, stored, (RUN_ID,))
            await publish_missing(publisher, store, batch_id, store.parts())
            return store.read().sort(ROW).drop(ROW)
    client = client or Client()
    try:
        return await _read(
            batch_id,
            client,
            store,
            polling or Polling(),
            concurrency,
            deadline,
            result_cache,
            table=table,
        )
    finally:
        await client.aclose()


async def _read(
    batch_id: str,
    client: Client,
    store: JobStore | None,
    polling: Polling,
    concurrency: Concurrency | None,
    deadline: float | None,
    cache: Cache | None = None,
    *,
    table: TableTarget | str | None = None,
) -> pl.DataFrame:
    try:
        batch = await _wait(client, batch_id, polling, deadline)
    except NotFoundError as exc:
        exc.add_note(
            f"batch {batch_id} was not found: check the id, and that the client's API key, "
            "workspace and region (base_url) are the ones the batch was created with"
        )
        raise
    operation = await find_operation(client, batch_id)
    runs = sorted(
        await list_batch_runs(client, operation, batch_id),
        key=lambda r: (str(r.get("createdAt") or ""), str(r["id"])),
    )
    proc_id, version = processor_of(operation, runs[0]) if runs else (None, None)
    config: dict[str, Any] | None = None
    kind = OPERATIONS[operation].kind
    if proc_id is not None and kind is not None:
        resolved = await client.get_processor(kind, proc_id, version)
        config = dict(resolved.get("config") or {})
    out_dtype, conf_dtype = output_dtypes(operation, config)
    meta = metadata_columns(runs)
    logger.info(
        "batch %s: %s, %s, %d runs%s",
        batch_id,
        operation,
        batch.status if batch is not None else "not finished by max_wait",
        len(runs),
        f", {proc_id}@{version}" if proc_id else "",
    )

    fill = _filler(cache, batch_id, operation, proc_id, version, config, out_dtype, conf_dtype)

    async def part(index: int) -> pa.Table:
        chunk = runs[index * PART_ROWS : (index + 1) * PART_ROWS]
        bodies = await fetch_run_bodies(client, operation, chunk, concurrency=concurrency)
        decoded = decode_runs(
            operation, bodies, output_dtype=out_dtype, confidence_dtype=conf_dtype
        )
        if fill is not None:
            await asyncio.to_thread(fill, decoded, bodies)
        return _rows(
            decoded, batch_id, index * PART_ROWS, meta.slice(index * PART_ROWS, len(chunk))
        )

    n_parts = -(-len(runs) // PART_ROWS)
    if store is None:
        if not runs:
            empty = decode_runs(operation, [], output_dtype=out_dtype, confidence_dtype=conf_dtype)
            return _frame(_rows(empty, batch_id, 0, meta)).drop(ROW)
        tables = [await part(i) for i in range(n_parts)]
        return pl.concat([_frame(t) for t in tables]).drop(ROW)
    identity = {
        "operation": operation,
        "processor_id": proc_id,
        "processor_version": version,
        "input_fingerprint": f"batch:{batch_id}",
        "batch_size": PART_ROWS,
    }
    finished = [
        all(r.get("status") not in NON_TERMINAL for r in runs[i * PART_ROWS : (i + 1) * PART_ROWS])
        for i in range(n_parts)
    ]
    return await _stored(store, identity, batch_id, finished, part, table)


def _filler(
    cache: Cache | None,
    batch_id: str,
    operation: Operation,
    proc_id: str | None,
    version: str | None,
    config: dict[str, Any] | None,
    out_dtype: pl.DataType,
    conf_dtype: pl.DataType | None,
) -> Callable[[pl.DataFrame, Sequence[bytes]], None] | None:
    """What adds a part's runs to ``cache=`` under the job path's keys (None: nothing to do).

    The partition is the one a job with the same processor id and version (and no override
    config) computes, from the same processor config and decoder schema. Parse batches are
    not cached: a parse run's effective config does not tell whether the batch gave one.
    """
    if cache is None:
        return None
    if proc_id is None:
        logger.info("batch %s: parse runs are not added to the cache", batch_id)
        return None
    empty = decode_runs(operation, [], output_dtype=out_dtype, confidence_dtype=conf_dtype)
    schema = empty.with_columns(pl.lit(None, pl.String).alias("batch_id")).schema
    part = job_partition(operation, proc_id, version, config, None, schema)

    def fill(decoded: pl.DataFrame, bodies: Sequence[bytes]) -> None:
        entries, left_out = batch_entries(decoded, bodies, batch_id, config)
        written = cache.add(part, entries)
        logger.info(
            "batch %s: %d runs added to cache %s; %d PROCESSED runs not added (no file id, "
            "so the original URL/text/bytes is unknown, or an override config)",
            batch_id,
            written,
            cache.url,
            left_out,
        )

    return fill


async def _wait(
    client: Client, batch_id: str, polling: Polling, deadline: float | None
) -> BatchRun | None:
    """The batch once terminal; None when ``deadline`` (monotonic) passes first."""
    left = None if deadline is None else deadline - time.monotonic()
    try:
        async with asyncio.timeout(left):
            return await PollingWaiter(polling).wait(client, batch_id)
    except TimeoutError:
        if deadline is None or time.monotonic() < deadline:
            raise  # not our deadline
        return None


async def _stored(
    store: JobStore,
    identity: dict[str, Any],
    batch_id: str,
    finished: list[bool],
    part: Callable[[int], Awaitable[pa.Table]],
    table: TableTarget | str | None = None,
) -> pl.DataFrame:
    """Write the parts not stored yet whose runs have all finished (one at a time, under the
    output's lock), and read all; a part with runs still pending is returned, not stored.
    With ``table=``, each part is published (job id: the batch id, merge key: ``run_id``)."""
    n_parts = len(finished)
    with store.lock(owner=f"extend_frames read_batch {batch_id}"):
        if store.check_manifest(identity) is None:
            store.write_manifest(
                {**identity, "batch_id": batch_id, "n_chunks": n_parts, "created_at": now_iso()}
            )
        publisher = open_publisher(table, store.read_manifest() or {}, (RUN_ID,))
        await publish_missing(publisher, store, batch_id, store.parts())
        pending: list[pl.DataFrame] = []
        for index in range(n_parts):
            if store.has_part(index):
                continue
            table = await part(index)
            if not finished[index]:
                pending.append(_frame(table))
                continue
            await asyncio.to_thread(store.write_part, index, table)
            if publisher is not None:
                await asyncio.to_thread(publish_part, publisher, batch_id, index, table)
        if pending:  # not complete: no _SUCCESS, a rerun fetches the pending parts only
            stored = store.read() if store.parts() else None
            frames = [stored, *pending] if stored is not None else pending
            return pl.concat(frames, how="diagonal_relaxed").sort(ROW).drop(ROW)
        result = store.read().sort(ROW).drop(ROW) if n_parts else pl.DataFrame()
        by_status = result.get_column("status").cast(pl.String).value_counts() if n_parts else None
        store.mark_success(
            {
                "rows": result.height,
                "by_status": {str(s): int(n) for s, n in by_status.iter_rows()}
                if by_status is not None
                else {},
                "batch_id": batch_id,
            }
        )
        return result


def metadata_columns(runs: Sequence[dict[str, Any]]) -> pl.DataFrame:
    """One column per top-level metadata key over every run (``metadata.<key>``), in order of
    first appearance. Each column's type is inferred from all its values at once (so every
    part of a stored batch has the same schema); a key whose values do not share a type comes
    back as JSON text. Runs without the key get null."""
    metas: list[dict[str, Any]] = []
    for run in runs:
        meta = run.get("metadata")
        metas.append(meta if isinstance(meta, dict) else {})
    keys = list(dict.fromkeys(k for m in metas for k in m))
    columns: list[pl.Series] = []
    for key in keys:
        name = METADATA_PREFIX + key
        values = [m.get(key) for m in metas]
        try:
            series = pl.Series(name, values, strict=True)
        except (TypeError, ValueError, pl.exceptions.PolarsError):
            series = pl.Series(
                name, [None if v is None else json.dumps(v) for v in values], dtype=pl.String
            )
        if series.dtype == pl.Null:
            series = series.cast(pl.String)
        columns.append(series)
    return pl.DataFrame(columns, height=len(runs)) if columns else pl.DataFrame(height=len(runs))


def _rows(decoded: pl.DataFrame, batch_id: str, start: int, meta: pl.DataFrame) -> pa.Table:
    """The result columns of one part: ids, status, typed output, metadata columns, position."""
    running = pl.col("status").is_in(list(NON_TERMINAL))  # not finished by max_wait
    status = pl.when(running).then(pl.lit("PENDING")).otherwise(pl.col("status"))
    frame = decoded.select(
        pl.lit(batch_id, dtype=pl.String).alias("batch_id"),
        "run_id",
        *known_status(status),
        *[c for c in decoded.columns if c not in _DROPPED],
    )
    frame = pl.concat([frame, meta], how="horizontal")
    positions = pl.int_range(start, start + frame.height, dtype=pl.Int64, eager=True)
    return frame.with_columns(positions.alias(ROW)).to_arrow()


def _frame(table: pa.Table) -> pl.DataFrame:
    frame = pl.from_arrow(table)
    assert isinstance(frame, pl.DataFrame)
    return frame


_DROPPED = frozenset(
    {"run_id", "status", "failure_reason", "metadata_job", "metadata_row", "batch_id"}
)


read_batch = blocking(
    aread_batch,
    """Any Extend batch by id (``bpar_...`` parse, ``bpr_...`` extract/classify/split) as a
    typed frame: waits for it, lists its runs (all pages), fetches each, one row per run.

    Columns: ``batch_id, run_id, status, failure_reason, failure_message, output``
    (``output_confidence`` for extract), ``credits, file_id, created_at, updated_at``, then
    one ``metadata.<key>`` column per top-level key of the inputs' metadata. ``output`` is
    typed from the processor version the runs used (parse: the parse output). With
    ``output=`` the rows are stored there, and a rerun fetches only what is missing.
    ``max_wait=`` (seconds or a timedelta; needs ``output=``) returns after at most that long:
    runs not finished yet come back ``PENDING``, and the same call again completes them.
    ``cache=`` (an fsspec URL or ``xf.Cache``, as for jobs) adds the PROCESSED runs to the
    result cache under the keys a job computes for the same file id and processor version,
    so a later ``xf.extract(..., cache=)`` over those file ids pays nothing for them. Runs
    with no file id (their URL/text/bytes cannot be recovered), runs of a batch with an
    override config, and parse batches are not added (a log line counts them). ``table=``
    (needs ``output=``; ``xf.Delta`` / ``xf.Iceberg``, as for jobs) publishes each stored part
    once, under the batch id as the job id; ``mode="merge"`` merges on ``run_id`` by default.

    >>> df = xf.read_batch("bpr_Xj8mK2pL9nR4vT7q", output="s3://lake/b/")  # doctest: +SKIP
    >>> df.select("metadata.doc_id", "output")  # doctest: +SKIP
    """,
)
