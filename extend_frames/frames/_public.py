"""The public functions: ``parse``, ``extract``, ``classify``, ``split``, their async twins,
and ``collect``.

The data comes first and positionally; everything else is keyword-only. Each function spells
out what is specific to it; the options they share are written once, in
:mod:`extend_frames.frames._options` (``**options: Unpack[JobOptions]``). The sync functions
run the async ones to completion (on a private loop in a worker thread when called from inside
a running loop, e.g. Jupyter).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from typing import Any, ParamSpec, Protocol, TypeAlias, TypeVar

import polars as pl
from typing_extensions import Unpack

from extend_frames._errors import InputError
from extend_frames._operations import OPERATIONS, Operation
from extend_frames.frames._dryrun import Plan, dry_run
from extend_frames.frames._options import JobOptions, Options, WaitOptions, resolve
from extend_frames.frames._plan import JobPlan, plan_job, plan_stored
from extend_frames.frames._run import StoredRun, execute, execute_stored
from extend_frames.jobs import blocking, run_sync
from extend_frames.store import JobStore

P = ParamSpec("P")
T = TypeVar("T")

#: A processor: ``"ex_abc"``, ``"ex_abc@2.1"`` or ``("ex_abc", "2.1")``.
ProcessorRef: TypeAlias = "str | tuple[str, str | None]"


def _planned(
    caller: str,
    operation: Operation,
    df: Any,
    processor: Any,
    file_column: str | None,
    text_column: str | None,
    config: Mapping[str, Any] | None,
    options: Mapping[str, Any],
) -> tuple[JobPlan, Options]:
    """The options of ``caller`` resolved, and the job planned (nothing sent)."""
    opts = resolve(caller, options)
    plan = plan_job(
        operation,
        df,
        processor=processor,
        file_column=file_column,
        text_column=text_column,
        config=config,
        options=opts,
    )
    return plan, opts


def run_stored(
    operation: Operation,
    df: Any,
    *,
    processor: Any = None,
    file_column: str | None = None,
    text_column: str | None = None,
    config: Mapping[str, Any] | None = None,
    options: Mapping[str, Any],
) -> StoredRun:
    """For adapters that read a job's parts themselves (``extend_frames.spark``): the same
    validation, options and resume as the public functions, but the result is never assembled
    in memory; returns the job's counts and the processor config that types its parts."""
    planned = _planned(
        operation, operation, df, processor, file_column, text_column, config, options
    )
    return run_sync(lambda: execute_stored(*planned))


async def aparse(
    df: Any,
    *,
    file_column: str | None = None,
    text_column: str | None = None,
    config: Mapping[str, Any] | None = None,
    **options: Unpack[JobOptions],
) -> pl.DataFrame:
    """Async twin of :func:`parse`."""
    return await execute(
        *_planned("parse", "parse", df, None, file_column, text_column, config, options)
    )


parse = blocking(
    aparse,
    """Parse every document of ``df`` into markdown and page chunks.

    ``output``: chunks: the text per page; ``output.markdown``: the whole document.
    ``config`` is Extend's parse config. The shared options (``output=``, ``batch_size=``,
    ``wait=``...) are listed in :class:`~extend_frames.frames._options.JobOptions`.

    >>> out = xf.parse(files, file_column="url")  # doctest: +SKIP
    >>> out.select("url", "status", pl.col("output").struct.field("markdown"))  # doctest: +SKIP
    """,
)


class AsyncProcessorOp(Protocol):
    """Signature of :func:`aextract`, :func:`aclassify` and :func:`asplit`."""

    async def __call__(
        self,
        df: Any,
        *,
        processor: ProcessorRef,
        file_column: str | None = None,
        text_column: str | None = None,
        config: Mapping[str, Any] | None = None,
        **options: Unpack[JobOptions],
    ) -> pl.DataFrame: ...


def _processor_op(operation: Operation) -> AsyncProcessorOp:
    async def run(
        df: Any,
        *,
        processor: ProcessorRef,
        file_column: str | None = None,
        text_column: str | None = None,
        config: Mapping[str, Any] | None = None,
        **options: Unpack[JobOptions],
    ) -> pl.DataFrame:
        planned = _planned(
            operation, operation, df, processor, file_column, text_column, config, options
        )
        return await execute(*planned)

    run.__name__ = run.__qualname__ = f"a{operation}"
    run.__doc__ = f"Async twin of :func:`{operation}`."
    return run


aextract = _processor_op("extract")
extract = blocking(
    aextract,
    """Extract typed fields from every document of ``df`` with an extractor.

    ``processor``: an extractor id (``"ex_..."``), optionally with a version (``"ex_...@2.1"``).
    ``output`` is a ``pl.Struct`` typed from the extractor's JSON Schema (dates as ``pl.Date``,
    enums as ``pl.Enum``...); ``output_confidence`` holds each top-level field's confidence.
    ``config`` is an ``overrideConfig`` merged over the extractor's saved config.

    >>> out = xf.extract(files, processor="ex_abc123", file_column="url")  # doctest: +SKIP
    >>> out.select("url", "status", "output").unnest("output")  # doctest: +SKIP
    """,
)
aclassify = _processor_op("classify")
classify = blocking(
    aclassify,
    """Classify every document of ``df`` with a classifier (``processor="cl_..."``).

    ``output`` is a struct of ``id``, ``type``, ``confidence`` and ``insights``.

    >>> out = xf.classify(files, processor="cl_abc123", file_column="url")  # doctest: +SKIP
    """,
)
asplit = _processor_op("split")
split = blocking(
    asplit,
    """Split every document of ``df`` into sub-documents with a splitter (``"spl_..."``).

    ``output`` is a list of splits (type, start_page, end_page, file_id...). Split does not take
    raw text input.

    >>> out = xf.split(files, processor="spl_abc123", file_column="url")  # doctest: +SKIP
    """,
)


async def acollect(output: str, **options: Unpack[WaitOptions]) -> pl.DataFrame:
    """Async twin of :func:`collect`."""
    opts = resolve("collect", options, WaitOptions, output=output)
    store = JobStore.open(output, storage_options=opts.store_options)
    job = plan_stored(store)
    manifest = store.read_manifest() or {}
    if opts.cache is None and manifest.get("cache"):  # the job's cache, with these options
        opts = replace(opts, cache=manifest["cache"], cache_key=manifest.get("cache_key"))
    return await execute(job, opts)


collect = blocking(
    acollect,
    """Finish the job kept at ``output``: wait for its batches, collect, return every row.

    Only the path is needed (the input rows, processor and config were kept there), so a job
    submitted with ``detach=True`` can be collected by another process, hours later; an
    interrupted job resumes the same way. Takes the waiting options of the operations
    (``client=``, ``wait=``, ``webhook=``, ``progress=``, ``polling=``, ``concurrency=``).

    >>> xf.extract(files, processor="ex_...", output="s3://lake/j/", detach=True)  # doctest: +SKIP
    >>> out = xf.collect("s3://lake/j/")  # later, from anywhere  # doctest: +SKIP
    """,
)


async def aplan(
    df: Any,
    operation: Operation,
    *,
    processor: str | tuple[str, str | None] | None = None,
    file_column: str | None = None,
    text_column: str | None = None,
    config: Mapping[str, Any] | None = None,
    files_per_minute: float | None = None,
    **options: Unpack[JobOptions],
) -> Plan:
    """Async twin of :func:`plan`."""
    if operation not in OPERATIONS:
        raise InputError(
            f"plan() takes an operation ({', '.join(OPERATIONS)}) second, got {operation!r}"
        )
    job, opts = _planned(
        "plan", operation, df, processor, file_column, text_column, config, options
    )
    return await dry_run(job, opts, files_per_minute=files_per_minute)


plan = blocking(
    aplan,
    """What ``xf.<operation>(df, ...)`` with the same arguments would do and cost; sends no
    run or batch request (it reads the processor version, the cache and the output).

    Returns a :class:`Plan`: rows, distinct documents, cache hits, rows already done in
    ``output``, documents to submit, batches, requests per rate-limit category, a lower bound
    on the time (the client's rate limits and ``files_per_minute``, by default the processing
    throughput of the plan the rate limits match), and estimated credits from the credits
    recorded for the same processor version in the cache or output (``None`` without history).

    >>> print(xf.plan(files, "extract", processor="ex_...", cache="s3://lake/c/"))  # doctest: +SKIP
    """,
)
