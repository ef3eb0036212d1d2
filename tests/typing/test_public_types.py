"""How the public API types for its users: checked by mypy (``scripts/test.sh`` runs
``mypy tests/typing``), imported (never called) by pytest.

Each ``assert_type`` pins what a type checker infers at a call site; an option with a wrong
type or an unknown keyword must be an error, which the ``type: ignore[...]`` lines pin (mypy's
``warn_unused_ignores`` fails if the call stops being an error).
"""

from __future__ import annotations

from typing import assert_type

import polars as pl

import extend_frames as xf


def _check_operations(df: pl.DataFrame) -> None:
    assert_type(xf.parse(df, file_column="url", output="out/", batch_size=100), pl.DataFrame)
    assert_type(xf.extract(df, processor="ex_abc@2.1", wait="poll", key="id"), pl.DataFrame)
    assert_type(xf.classify(df, processor=("cl_abc", "1.0"), text_column="t"), pl.DataFrame)
    assert_type(xf.split(df, processor="spl_abc", polling=xf.Polling.fast()), pl.DataFrame)
    assert_type(xf.collect("out/", progress=False), pl.DataFrame)
    assert_type(xf.read_results("out/"), pl.DataFrame)
    assert_type(xf.read_results("out/", lazy=True), pl.LazyFrame)
    assert_type(xf.summarize(df), xf.JobSummary)
    xf.extract(df, processor="ex_abc", batch_size="big")  # type: ignore[arg-type]
    xf.extract(df, processor="ex_abc", outptu="out/")  # type: ignore[call-arg]
    xf.parse(df, mode="sometimes")  # type: ignore[arg-type]
    xf.collect("out/", batch_size=10)  # type: ignore[call-arg]


async def _check_async_twins(df: pl.DataFrame) -> None:
    assert_type(await xf.aparse(df, concurrency=xf.Concurrency(batches=2)), pl.DataFrame)
    assert_type(await xf.aextract(df, processor="ex_abc", detach=True), pl.DataFrame)
    assert_type(await xf.acollect("out/", wait="webhook"), pl.DataFrame)


def _check_errors(exc: xf.ExtendError) -> None:
    assert_type(exc.transient, bool)
    assert_type(exc.rows, tuple[int, ...] | None)
    assert_type(exc.batch_id, str | None)
    if isinstance(exc, xf.APIError):
        assert_type(exc.retryable, bool)
