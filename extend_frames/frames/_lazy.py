"""``lazy=True``: run a job at its output and hand back a ``pl.LazyFrame`` over what it stored.

The job runs like the stored path of :func:`~extend_frames.frames._run.execute_stored` (parts
written as batches finish, only ``status`` and ``credits`` scanned at the end), so the caller's
memory follows the input table and the batches in flight, not the result. The frame returned
is :func:`~extend_frames.frames._read.read_results` with ``lazy=True``: the stored parts (input
columns + result columns) in input order, plus a ``PENDING`` row for every input row without a
result yet (``max_wait``/``detach``).
"""

from __future__ import annotations

import asyncio

import polars as pl

from extend_frames._errors import InputError
from extend_frames.frames._options import Options
from extend_frames.frames._plan import JobPlan
from extend_frames.frames._read import read_results
from extend_frames.frames._run import execute_stored
from extend_frames.frames._summary import remember

__all__ = ["execute_lazy"]


async def execute_lazy(plan: JobPlan, options: Options) -> pl.LazyFrame:
    """Run ``plan`` at ``options.output`` and return a LazyFrame over the stored results."""
    if options.output is None:  # Options.check refuses it first; kept for direct callers
        raise InputError("lazy=True needs output= (the LazyFrame reads the parts stored there)")
    stored = await execute_stored(plan, options)
    output, storage = options.output, options.store_options
    lf = await asyncio.to_thread(read_results, output, storage_options=storage, lazy=True)
    assert isinstance(lf, pl.LazyFrame)
    remember(lf, stored.summary)  # xf.summarize(lf) keeps the job's seconds, capped, spent
    return lf
