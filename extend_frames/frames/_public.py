"""The public functions: ``parse``, ``extract``, ``classify``, ``split`` and their async twins.

The data comes first and positionally; everything else is keyword-only. The sync functions run
the async engine to completion (on a private loop in a worker thread when called from inside a
running loop, e.g. Jupyter).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Literal, Protocol

import polars as pl

from extend_frames.api import Client
from extend_frames.frames._ops import JobOptions, run_operation
from extend_frames.frames._ops import collect as _collect
from extend_frames.jobs import Concurrency, Operation, Polling, run_sync

Wait = Literal["poll", "webhook"]
Mode = Literal["resume", "overwrite"]


def _options(
    client: Client | None,
    output: str | None,
    storage_options: Mapping[str, Any] | None,
    batch_size: int,
    key: str | Sequence[str] | None,
    wait: Wait,
    webhook: Any,
    progress: bool,
    mode: Mode,
    polling: Polling | None,
    concurrency: Concurrency | None,
    priority: int | None,
    text_column: str | None,
    detach: bool,
) -> JobOptions:
    return JobOptions(
        client=client,
        output=output,
        storage_options=storage_options,
        batch_size=batch_size,
        key=key,
        wait=wait,
        webhook=webhook,
        progress=progress,
        mode=mode,
        polling=polling,
        concurrency=concurrency,
        priority=priority,
        text_column=text_column,
        detach=detach,
    )


async def _arun(
    operation: Operation,
    df: Any,
    processor: Any,
    config: Mapping[str, Any] | None,
    file_column: str,
    opts: JobOptions,
) -> pl.DataFrame:
    return await run_operation(
        operation, df, file_column=file_column, processor=processor, config=config, options=opts
    )


async def aparse(
    df: Any,
    *,
    file_column: str = "file",
    text_column: str | None = None,
    config: Mapping[str, Any] | None = None,
    client: Client | None = None,
    output: str | None = None,
    storage_options: Mapping[str, Any] | None = None,
    batch_size: int = 1000,
    key: str | Sequence[str] | None = None,
    wait: Wait = "poll",
    webhook: Any = None,
    progress: bool = True,
    mode: Mode = "resume",
    polling: Polling | None = None,
    concurrency: Concurrency | None = None,
    priority: int | None = None,
    detach: bool = False,
) -> pl.DataFrame:
    """Async twin of :func:`parse`."""
    opts = _options(
        client,
        output,
        storage_options,
        batch_size,
        key,
        wait,
        webhook,
        progress,
        mode,
        polling,
        concurrency,
        priority,
        text_column,
        detach,
    )
    return await _arun("parse", df, None, config, file_column, opts)


def parse(
    df: Any,
    *,
    file_column: str = "file",
    text_column: str | None = None,
    config: Mapping[str, Any] | None = None,
    client: Client | None = None,
    output: str | None = None,
    storage_options: Mapping[str, Any] | None = None,
    batch_size: int = 1000,
    key: str | Sequence[str] | None = None,
    wait: Wait = "poll",
    webhook: Any = None,
    progress: bool = True,
    mode: Mode = "resume",
    polling: Polling | None = None,
    concurrency: Concurrency | None = None,
    priority: int | None = None,
    detach: bool = False,
) -> pl.DataFrame:
    """Parse every document of ``df`` into markdown and page chunks.

    ``output``: chunks: the text per page; ``output.markdown``: the whole document.

    >>> out = xf.parse(files, file_column="url")  # doctest: +SKIP
    >>> out.select("url", "status", pl.col("output").struct.field("markdown"))  # doctest: +SKIP
    """
    return run_sync(
        lambda: aparse(
            df,
            file_column=file_column,
            text_column=text_column,
            config=config,
            client=client,
            output=output,
            storage_options=storage_options,
            batch_size=batch_size,
            key=key,
            wait=wait,
            webhook=webhook,
            progress=progress,
            mode=mode,
            polling=polling,
            concurrency=concurrency,
            priority=priority,
            detach=detach,
        )
    )


class ProcessorOp(Protocol):
    """Signature of :func:`extract`, :func:`classify` and :func:`split`."""

    def __call__(
        self,
        df: Any,
        *,
        processor: Any,
        file_column: str = "file",
        text_column: str | None = None,
        config: Mapping[str, Any] | None = None,
        client: Client | None = None,
        output: str | None = None,
        storage_options: Mapping[str, Any] | None = None,
        batch_size: int = 1000,
        key: str | Sequence[str] | None = None,
        wait: Wait = "poll",
        webhook: Any = None,
        progress: bool = True,
        mode: Mode = "resume",
        polling: Polling | None = None,
        concurrency: Concurrency | None = None,
        priority: int | None = None,
        detach: bool = False,
    ) -> pl.DataFrame: ...


class AsyncProcessorOp(Protocol):
    """Signature of :func:`aextract`, :func:`aclassify` and :func:`asplit`."""

    async def __call__(
        self,
        df: Any,
        *,
        processor: Any,
        file_column: str = "file",
        text_column: str | None = None,
        config: Mapping[str, Any] | None = None,
        client: Client | None = None,
        output: str | None = None,
        storage_options: Mapping[str, Any] | None = None,
        batch_size: int = 1000,
        key: str | Sequence[str] | None = None,
        wait: Wait = "poll",
        webhook: Any = None,
        progress: bool = True,
        mode: Mode = "resume",
        polling: Polling | None = None,
        concurrency: Concurrency | None = None,
        priority: int | None = None,
        detach: bool = False,
    ) -> pl.DataFrame: ...


def _processor_fn(operation: Operation, doc: str) -> tuple[ProcessorOp, AsyncProcessorOp]:
    async def afn(
        df: Any,
        *,
        processor: Any,
        file_column: str = "file",
        text_column: str | None = None,
        config: Mapping[str, Any] | None = None,
        client: Client | None = None,
        output: str | None = None,
        storage_options: Mapping[str, Any] | None = None,
        batch_size: int = 1000,
        key: str | Sequence[str] | None = None,
        wait: Wait = "poll",
        webhook: Any = None,
        progress: bool = True,
        mode: Mode = "resume",
        polling: Polling | None = None,
        concurrency: Concurrency | None = None,
        priority: int | None = None,
        detach: bool = False,
    ) -> pl.DataFrame:
        opts = _options(
            client,
            output,
            storage_options,
            batch_size,
            key,
            wait,
            webhook,
            progress,
            mode,
            polling,
            concurrency,
            priority,
            text_column,
            detach,
        )
        return await _arun(operation, df, processor, config, file_column, opts)

    def fn(
        df: Any,
        *,
        processor: Any,
        file_column: str = "file",
        text_column: str | None = None,
        config: Mapping[str, Any] | None = None,
        client: Client | None = None,
        output: str | None = None,
        storage_options: Mapping[str, Any] | None = None,
        batch_size: int = 1000,
        key: str | Sequence[str] | None = None,
        wait: Wait = "poll",
        webhook: Any = None,
        progress: bool = True,
        mode: Mode = "resume",
        polling: Polling | None = None,
        concurrency: Concurrency | None = None,
        priority: int | None = None,
        detach: bool = False,
    ) -> pl.DataFrame:
        return run_sync(
            lambda: afn(
                df,
                processor=processor,
                file_column=file_column,
                text_column=text_column,
                config=config,
                client=client,
                output=output,
                storage_options=storage_options,
                batch_size=batch_size,
                key=key,
                wait=wait,
                webhook=webhook,
                progress=progress,
                mode=mode,
                polling=polling,
                concurrency=concurrency,
                priority=priority,
                detach=detach,
            )
        )

    fn.__name__, afn.__name__ = operation, f"a{operation}"
    fn.__qualname__, afn.__qualname__ = operation, f"a{operation}"
    fn.__doc__ = doc
    afn.__doc__ = f"Async twin of :func:`{operation}`."
    return fn, afn


extract, aextract = _processor_fn(
    "extract",
    """Extract typed fields from every document of ``df`` with an extractor.

    ``processor``: an extractor id (``"ex_..."``), optionally with a version (``"ex_...@2.1"``).
    ``output`` is a ``pl.Struct`` typed from the extractor's JSON Schema (dates as ``pl.Date``,
    enums as ``pl.Enum``...); ``output_confidence`` holds each top-level field's confidence.
    ``config`` is an ``overrideConfig`` merged over the extractor's saved config.

    >>> out = xf.extract(files, processor="ex_abc123", file_column="url")  # doctest: +SKIP
    >>> out.select("url", "status", "output").unnest("output")  # doctest: +SKIP
    """,
)
classify, aclassify = _processor_fn(
    "classify",
    """Classify every document of ``df`` with a classifier (``processor="cl_..."``).

    ``output`` is a struct of ``id``, ``type``, ``confidence`` and ``insights``.

    >>> out = xf.classify(files, processor="cl_abc123", file_column="url")  # doctest: +SKIP
    """,
)
split, asplit = _processor_fn(
    "split",
    """Split every document of ``df`` into sub-documents with a splitter (``"spl_..."``).

    ``output`` is a list of splits (type, start_page, end_page, file_id...). Split does not take
    raw text input.

    >>> out = xf.split(files, processor="spl_abc123", file_column="url")  # doctest: +SKIP
    """,
)


async def acollect(
    output: str,
    *,
    storage_options: Mapping[str, Any] | None = None,
    client: Client | None = None,
    wait: Wait = "poll",
    webhook: Any = None,
    progress: bool = True,
    polling: Polling | None = None,
    concurrency: Concurrency | None = None,
) -> pl.DataFrame:
    """Async twin of :func:`collect`."""
    opts = JobOptions(
        client=client,
        wait=wait,
        webhook=webhook,
        progress=progress,
        polling=polling,
        concurrency=concurrency,
    )
    return await _collect(output, storage_options=storage_options, options=opts)


def collect(
    output: str,
    *,
    storage_options: Mapping[str, Any] | None = None,
    client: Client | None = None,
    wait: Wait = "poll",
    webhook: Any = None,
    progress: bool = True,
    polling: Polling | None = None,
    concurrency: Concurrency | None = None,
) -> pl.DataFrame:
    """Finish the job kept at ``output``: wait for its batches, collect, return every row.

    Only the path is needed (the input rows, processor and config were kept there), so a job
    submitted with ``detach=True`` can be collected by another process, hours later; an
    interrupted job resumes the same way.

    >>> xf.extract(files, processor="ex_...", output="s3://lake/j/", detach=True)  # doctest: +SKIP
    >>> out = xf.collect("s3://lake/j/")  # later, from anywhere  # doctest: +SKIP
    """
    return run_sync(
        lambda: acollect(
            output,
            storage_options=storage_options,
            client=client,
            wait=wait,
            webhook=webhook,
            progress=progress,
            polling=polling,
            concurrency=concurrency,
        )
    )
