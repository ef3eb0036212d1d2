"""Reading a job's output back at the frames level: results in input order, and its status.

The store knows nothing of the frames layer's columns; these functions hand it the row column,
so the CLI and users read results without touching the store.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any, Literal, overload

import polars as pl

from extend_frames._columns import ROW
from extend_frames.store import StoredJobStatus, ledger_summary
from extend_frames.store import read_results as _read_stored

__all__ = ["job_status", "read_results"]


@overload
def read_results(
    path: str | os.PathLike[str],
    *,
    storage_options: Mapping[str, Any] | None = None,
    lazy: Literal[False] = False,
) -> pl.DataFrame: ...
@overload
def read_results(
    path: str | os.PathLike[str],
    *,
    storage_options: Mapping[str, Any] | None = None,
    lazy: Literal[True],
) -> pl.LazyFrame: ...
def read_results(
    path: str | os.PathLike[str],
    *,
    storage_options: Mapping[str, Any] | None = None,
    lazy: bool = False,
) -> pl.DataFrame | pl.LazyFrame:
    """The results a job stored at ``path`` (``output=``), rows in input order.

    An unfinished job gives the batches collected so far.

    >>> out = xf.read_results("s3://lake/invoices/")  # doctest: +SKIP
    """
    if lazy:
        return _read_stored(path, row_column=ROW, storage_options=storage_options, lazy=True)
    return _read_stored(path, row_column=ROW, storage_options=storage_options)


def job_status(
    path: str | os.PathLike[str], *, storage_options: Mapping[str, Any] | None = None
) -> StoredJobStatus:
    """Where the job stored at ``path`` stands (read-only): batches by state, rows by status,
    credits, lock holder; ``.render()`` gives the lines ``extend-frames status`` prints."""
    return ledger_summary(path, storage_options=storage_options)
