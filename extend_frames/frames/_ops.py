"""parse / extract / classify / split over a dataframe: the product's main entry points.

One job is: normalise and validate the input (nothing is sent if it is bad), derive row keys,
dedupe identical file references into *units*, plan chunks of at most ``batch_size`` units, run
the engine, and join every input row back to its typed result, in input order.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import time
import uuid
import weakref
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, Literal

import polars as pl
import pyarrow as pa

from extend_frames._errors import InputError, StoreError
from extend_frames._version import __version__
from extend_frames.api import Client
from extend_frames.frames._decode import decode_runs
from extend_frames.frames._inputs import (
    classify_references,
    input_fingerprint,
    parse_processor,
    row_keys,
    to_polars,
    validate,
)
from extend_frames.frames._progress import BarProgress
from extend_frames.frames._schema import confidence_dtype, output_dtype
from extend_frames.jobs import (
    INVALID_INPUT,
    Chunk,
    ChunkHistory,
    Concurrency,
    Engine,
    Finisher,
    JobSpec,
    NoProgress,
    Operation,
    Polling,
    PollingWaiter,
    Progress,
    Unit,
    Waiter,
    WebhookWaiter,
    plan_chunks,
)
from extend_frames.store import JobStore

logger = logging.getLogger("extend_frames")

ROW = "__row"  # input position, kept in Parquet parts so results read back in input order

#: Every status a row can end with. Unknown statuses from a newer API become FAILED with the
#: original kept in failure_reason, so the column's dtype never changes.
STATUS = pl.Enum(["PROCESSED", "FAILED", "CANCELLED", "PENDING", "PROCESSING"])

ProcessorKind = Literal["extractor", "classifier", "splitter"]
_KIND: dict[str, ProcessorKind] = {
    "extract": "extractor",
    "classify": "classifier",
    "split": "splitter",
}


@dataclass(frozen=True, slots=True)
class JobSummary:
    """Counts by status, credits and wall time of one job (``df.xf.summary()``)."""

    rows: int
    by_status: dict[str, int]
    credits: float
    seconds: float | None = None
    output: str | None = None
    batches: int | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    def __str__(self) -> str:
        parts = ", ".join(f"{k} {v}" for k, v in sorted(self.by_status.items()))
        took = f" in {self.seconds:.1f} s" if self.seconds is not None else ""
        return f"{self.rows} rows ({parts}), {self.credits:g} credits{took}"


def summarize(df: pl.DataFrame) -> JobSummary:
    """Summary of a result frame: rows by status and total credits."""
    counts = df.get_column("status").cast(pl.String).value_counts()
    by_status = {str(s): int(n) for s, n in counts.iter_rows()}
    credits = float(df.get_column("credits").fill_null(0).sum()) if "credits" in df else 0.0
    cached = _SUMMARIES.get(id(df))
    if cached is not None and cached.rows == df.height:
        return JobSummary(
            df.height, by_status, credits, cached.seconds, cached.output, cached.batches
        )
    return JobSummary(df.height, by_status, credits)


# Wall time is not a column, so each job's summary is remembered by its result frame's identity,
# for as long as that frame lives (a finalizer drops the entry, so an id is never reused).
_SUMMARIES: dict[int, JobSummary] = {}


def _remember(result: pl.DataFrame, summary: JobSummary) -> None:
    key = id(result)
    _SUMMARIES[key] = summary
    weakref.finalize(result, _SUMMARIES.pop, key, None)


@dataclass(frozen=True, slots=True)
class JobOptions:
    """Knobs shared by the four operations (grouped so signatures stay short)."""

    client: Client | None = None
    output: str | None = None
    storage_options: Mapping[str, Any] | None = None
    batch_size: int = 1000
    key: str | Sequence[str] | None = None
    wait: Literal["poll", "webhook"] = "poll"
    webhook: Any = None
    progress: bool = True
    mode: Literal["resume", "overwrite"] = "resume"
    polling: Polling | None = None
    concurrency: Concurrency | None = None
    priority: int | None = None
    text_column: str | None = None
    detach: bool = False


@dataclass(frozen=True, slots=True)
class _Plan:
    """A validated job: its rows with internal columns, units, chunks and identity."""

    operation: Operation
    rows: pl.DataFrame  # input columns + ROW, __key, __kind, __ref, __error, __unit, __chunk
    input_columns: tuple[str, ...]
    chunks: list[Chunk]
    processor_id: str | None
    processor_version: str | None
    config: dict[str, Any] | None
    identity: dict[str, Any]


_INTERNAL = ("__key", "__kind", "__ref", "__error", "__unit", "__chunk")


def _plan(
    operation: Operation,
    data: Any,
    *,
    file_column: str,
    processor: Any,
    config: Mapping[str, Any] | None,
    options: JobOptions,
) -> _Plan:
    """Validate (nothing is sent for bad input), key, dedupe and chunk the input."""
    df = to_polars(data)
    text_column = options.text_column
    ref_column = text_column or file_column
    validate(
        df,
        operation=operation,
        file_column=None if text_column else file_column,
        text_column=text_column,
        key=options.key,
        batch_size=options.batch_size,
        processor=processor,
    )
    processor_id, version = parse_processor(operation, processor)
    keys = row_keys(df, options.key, reference_column=ref_column)
    refs = classify_references(df.get_column(ref_column), text=text_column is not None)
    work = pl.DataFrame(
        {
            ROW: pl.int_range(0, df.height, dtype=pl.Int64, eager=True),
            "__key": keys,
            "__kind": refs.get_column("kind"),
            "__ref": refs.get_column("ref"),
            "__error": refs.get_column("error"),
        }
    )
    work = work.with_columns(_unit_of_row())
    units = _units(work)
    chunks = plan_chunks(units, options.batch_size)
    chunk_of_unit = {u.key: c.index for c in chunks for u in c.units}
    work = work.with_columns(
        pl.col("__unit").replace_strict(chunk_of_unit, return_dtype=pl.Int64).alias("__chunk")
    )
    identity = {
        "operation": operation,
        "processor_id": processor_id,
        "config": _canonical(config),
        "input_fingerprint": input_fingerprint(df, ref_column, keys),
        "batch_size": options.batch_size,
    }
    return _Plan(
        operation=operation,
        rows=pl.concat([df, work], how="horizontal"),
        input_columns=tuple(df.columns),
        chunks=chunks,
        processor_id=processor_id,
        processor_version=version,
        config=dict(config) if config else None,
        identity=identity,
    )


async def run_operation(
    operation: Operation,
    data: Any,
    *,
    file_column: str,
    processor: Any,
    config: Mapping[str, Any] | None,
    options: JobOptions,
) -> pl.DataFrame:
    """Run one job end to end; see the module docstring."""
    if options.wait not in ("poll", "webhook"):
        raise InputError(f'wait must be "poll" or "webhook", got {options.wait!r}')
    if options.mode not in ("resume", "overwrite"):
        raise InputError(f'mode must be "resume" or "overwrite", got {options.mode!r}')
    if options.detach and options.output is None:
        raise InputError("detach=True needs output= (the job is collected later from there)")
    plan = _plan(
        operation,
        data,
        file_column=file_column,
        processor=processor,
        config=config,
        options=options,
    )
    return await _execute(plan, options)


async def collect(
    output: str,
    *,
    storage_options: Mapping[str, Any] | None = None,
    options: JobOptions,
) -> pl.DataFrame:
    """Finish the job stored at ``output`` (submitted with ``detach=True``, or interrupted).

    Only the output path is needed: the job's input rows, operation, processor and config
    were kept there. Waits for its batches, collects them, and returns the full result.
    """
    store = JobStore.open(output, storage_options=dict(storage_options or {}))
    manifest = store.read_manifest()
    table = store.read_input()
    if manifest is None or table is None:
        raise StoreError(
            f"{store.path} holds no extend_frames job to collect (no manifest or input); "
            "start one with output= (and detach=True to collect it later)"
        )
    rows = pl.from_arrow(table)
    assert isinstance(rows, pl.DataFrame)
    operation: Operation = manifest["operation"]
    units = _units(rows)
    chunks = plan_chunks(units, int(manifest["batch_size"]))
    identity = {
        k: manifest.get(k)
        for k in ("operation", "processor_id", "config", "input_fingerprint", "batch_size")
    }
    plan = _Plan(
        operation=operation,
        rows=rows,
        input_columns=tuple(c for c in rows.columns if c != ROW and c not in _INTERNAL),
        chunks=chunks,
        processor_id=manifest.get("processor_id"),
        processor_version=manifest.get("processor_version"),
        config=manifest.get("override_config"),
        identity=identity,
    )
    opts = replace(options, output=output, storage_options=storage_options, mode="resume")
    return await _execute(plan, opts)


async def _execute(plan: _Plan, options: JobOptions) -> pl.DataFrame:
    started = time.monotonic()
    operation = plan.operation
    client = options.client or Client()
    try:
        version = plan.processor_version
        if options.output is not None and version in (None, "latest") and options.mode == "resume":
            # Resuming: run the version the job started with, not whatever is latest today.
            stored = JobStore.open(
                options.output, storage_options=dict(options.storage_options or {})
            ).read_manifest()
            if stored is not None and stored.get("processor_id") == plan.processor_id:
                version = stored.get("processor_version") or version
        proc_config: dict[str, Any] | None = None
        if plan.processor_id is not None:
            kind = _KIND[operation]
            resolved = await client.get_processor(kind, plan.processor_id, version)
            proc_config = dict(resolved.get("config") or {})
            if version in (None, "latest") and resolved.get("version") not in (None, "draft"):
                # Pin "latest" to the concrete version, so every batch (and a resume next
                # week) runs the same schema even if someone publishes a new version meanwhile.
                version = str(resolved["version"])
        out_dtype = output_dtype(operation, proc_config)
        conf_dtype = confidence_dtype(proc_config) if operation == "extract" else None
        parts = plan.rows.select(*plan.input_columns, ROW, "__unit", "__chunk")
        rows_by_chunk = {
            int(k[0]): v
            for k, v in parts.partition_by("__chunk", as_dict=True, include_key=False).items()
        }

        def finish(index: int, decoded: pl.DataFrame) -> pa.Table:
            return _join(rows_by_chunk[index], decoded, operation).to_arrow()

        polling = options.polling or Polling()
        progress: Progress = (
            BarProgress(f"extend {operation}") if options.progress else NoProgress()
        )
        height = plan.rows.height
        store = None
        if options.output is not None:
            store = JobStore.open(
                options.output, storage_options=dict(options.storage_options or {})
            )
        endpoint: dict[str, Any] | None = None
        waiter: Waiter = PollingWaiter(polling)
        if options.wait == "webhook" and not options.detach:
            waiter, endpoint = await _webhook_waiter(client, options, polling, operation)
        try:
            if store is None:
                spec = _spec(plan, uuid.uuid4().hex, version, out_dtype, conf_dtype, options)
                engine = Engine(
                    spec,
                    client,
                    finish=finish,
                    waiter=waiter,
                    polling=polling,
                    concurrency=options.concurrency,
                    progress=progress,
                )
                progress.start(height)
                tables = await engine.run(plan.chunks)
                result = _assemble([tables[c.index] for c in plan.chunks], height)
            else:
                result = await _run_stored(
                    plan,
                    store,
                    client,
                    options,
                    version=version,
                    out_dtype=out_dtype,
                    conf_dtype=conf_dtype,
                    finish=finish,
                    waiter=waiter,
                    polling=polling,
                    progress=progress,
                    rows_by_chunk=rows_by_chunk,
                )
        finally:
            progress.close()
            if endpoint is not None:
                await client.delete_webhook_endpoint(str(endpoint["id"]))
                options.webhook.remove_secret(endpoint["signingSecret"])
    finally:
        # Always: this loop's connections must close before the loop ends (the sync API runs
        # on a private loop). The client itself stays usable for the caller.
        await client.aclose()

    summary = summarize(result)
    summary = JobSummary(
        summary.rows,
        summary.by_status,
        summary.credits,
        time.monotonic() - started,
        options.output,
        len(plan.chunks),
    )
    _remember(result, summary)
    logger.info("extend %s: %s", operation, summary)
    return result


def _spec(
    plan: _Plan,
    job_id: str,
    version: str | None,
    out_dtype: pl.DataType,
    conf_dtype: pl.DataType | None,
    options: JobOptions,
) -> JobSpec:
    operation = plan.operation
    return JobSpec(
        operation=operation,
        job_id=job_id,
        decode=lambda bodies: decode_runs(
            operation, bodies, output_dtype=out_dtype, confidence_dtype=conf_dtype
        ),
        processor_id=plan.processor_id,
        processor_version=version,
        override_config=plan.config,
        priority=options.priority,
        storage_options=dict(options.storage_options or {}) or None,
    )


async def _run_stored(
    plan: _Plan,
    store: JobStore,
    client: Client,
    options: JobOptions,
    *,
    version: str | None,
    out_dtype: pl.DataType,
    conf_dtype: pl.DataType | None,
    finish: Finisher,
    waiter: Waiter,
    polling: Polling,
    progress: Progress,
    rows_by_chunk: dict[int, pl.DataFrame],
) -> pl.DataFrame:
    """Run (or resume) the job with its ledger and parts at ``options.output``."""
    with store.lock(owner=f"extend_frames {plan.operation}"):
        if options.mode == "overwrite":
            await asyncio.to_thread(store.clear)
        existing = store.read_manifest()
        if existing is not None:
            store.check_manifest({**plan.identity, "processor_version": version})
            job_id = str(existing["job_id"])
        else:
            job_id = uuid.uuid4().hex
            store.write_input(plan.rows.to_arrow())
            store.write_manifest(
                {
                    **plan.identity,
                    "processor_version": version,
                    "override_config": plan.config,
                    "job_id": job_id,
                    "rows": plan.rows.height,
                    "n_chunks": len(plan.chunks),
                    "library_version": __version__,
                }
            )
        ledger = await asyncio.to_thread(store.ledger)
        history = {i: ChunkHistory.fold(s.records) for i, s in ledger.items()}
        done = {
            c.index
            for c in plan.chunks
            if history.get(c.index, ChunkHistory()).collected and store.has_part(c.index)
        }
        engine = Engine(
            _spec(plan, job_id, version, out_dtype, conf_dtype, options),
            client,
            finish=finish,
            ledger=store,
            history=history,
            waiter=waiter,
            polling=polling,
            concurrency=options.concurrency,
            progress=progress,
            detach=options.detach,
        )
        progress.start(plan.rows.height, already_done=sum(len(rows_by_chunk[i]) for i in done))
        tables = await engine.run(plan.chunks, done=done)
        if options.detach:
            # Submitted, not collected: rows come back PENDING (or as done so far).
            stored = {i: store.read_part(i) for i in done}
            return _assemble(
                [tables[c.index] if c.index in tables else stored[c.index] for c in plan.chunks],
                plan.rows.height,
            )
        result = store.read().sort(ROW).drop(ROW)
        summary = summarize(result)
        store.mark_success(
            {"rows": summary.rows, "by_status": summary.by_status, "credits": summary.credits}
        )
        return result


def _unit_of_row() -> pl.Expr:
    """Each valid row's unit is the first row with the same reference; invalid rows are their
    own unit (they are never submitted, and come back FAILED)."""
    first_key = pl.col("__key").first().over(["__kind", "__ref"], order_by=ROW)
    return (
        pl.when(pl.col("__error").is_null())
        .then(first_key)
        .otherwise(pl.col("__key"))
        .alias("__unit")
    )


def _units(rows: pl.DataFrame) -> list[Unit]:
    """One unit per distinct __unit, in order of first appearance."""
    firsts = rows.filter(pl.col("__key") == pl.col("__unit")).sort(ROW)
    units: list[Unit] = []
    for key, kind, ref, error in firsts.select("__key", "__kind", "__ref", "__error").iter_rows():
        if error is not None:
            units.append(Unit(key=key, failure=(INVALID_INPUT, error)))
        else:
            units.append(_unit(key, kind, ref))
    return units


def _unit(key: str, kind: str, ref: str) -> Unit:
    if kind == "url":
        return Unit(key=key, file={"url": ref})
    if kind == "file_id":
        return Unit(key=key, file={"id": ref})
    if kind == "text":
        return Unit(key=key, file={"text": ref})
    return Unit(key=key, path=ref)  # local path or fsspec URL: uploaded first


def _join(rows: pl.DataFrame, decoded: pl.DataFrame, operation: Operation) -> pl.DataFrame:
    status = pl.col("status")
    known = status.is_in(STATUS.categories.to_list())
    results = decoded.select(
        pl.col("metadata_row").alias("__unit"),
        "run_id",
        "batch_id",
        pl.when(known).then(status).otherwise(pl.lit("FAILED")).cast(STATUS).alias("status"),
        pl.when(known)
        .then(pl.col("failure_reason"))
        .otherwise(pl.concat_str(pl.lit("UNKNOWN_STATUS:"), status))
        .alias("failure_reason"),
        "failure_message",
        "output",
        *(["output_confidence"] if operation == "extract" else []),
        "credits",
        "file_id",
        "created_at",
        "updated_at",
    )
    return rows.join(results, on="__unit", how="left").drop("__unit")


def _assemble(tables: list[pa.Table], height: int) -> pl.DataFrame:
    frames = [_frame(t) for t in tables]
    result = pl.concat(frames, how="vertical") if frames else pl.DataFrame()
    if result.height != height:  # an invariant, not user error: say so loudly
        raise RuntimeError(f"internal error: {result.height} result rows for {height} inputs")
    return result.sort(ROW).drop(ROW)


def _frame(table: pa.Table) -> pl.DataFrame:
    frame = pl.from_arrow(table)
    assert isinstance(frame, pl.DataFrame)
    return frame


def _canonical(config: Mapping[str, Any] | None) -> str | None:
    if not config:
        return None
    text = json.dumps(config, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


async def _webhook_waiter(
    client: Client, options: JobOptions, polling: Polling, operation: Operation
) -> tuple[Waiter, dict[str, Any]]:
    from extend_frames.webhooks import WebhookReceiver

    receiver = options.webhook
    if receiver is None:
        raise InputError(
            'wait="webhook" needs webhook=WebhookReceiver(...) reachable by Extend '
            "(for the local emulator: WebhookReceiver() on 127.0.0.1)"
        )
    if not isinstance(receiver, WebhookReceiver):
        raise InputError("webhook= must be an extend_frames.WebhookReceiver")
    events = (
        ["batch_parse_run.processed", "batch_parse_run.failed"]
        if operation == "parse"
        else ["batch_processor_run.processed", "batch_processor_run.failed"]
    )
    receiver.start()  # no-op when already running; .url needs a listening server
    endpoint = await client.create_webhook_endpoint(
        receiver.url, name="extend_frames job", events=events
    )
    receiver.add_secret(endpoint["signingSecret"])
    # Between events, poll slowly: a lost delivery delays a batch by at most one interval.
    fallback = Polling(
        initial=max(polling.maximum, 5 * polling.initial),
        factor=1.0,
        maximum=max(polling.maximum, 5 * polling.initial),
        jitter=polling.jitter,
        timeout=polling.timeout,
    )
    return WebhookWaiter(receiver.hub, fallback), endpoint
