"""Reading at the frames level: input tables and globs, a job's results and its status.

The store knows nothing of the frames layer's columns; these functions hand it the row column,
so the CLI and users read results without touching the store. The CLI reads its INPUT and
``--glob`` through :func:`read_table` and :func:`glob_files` (``*_hint`` names the option to
mention in an error).
"""

from __future__ import annotations

import glob as _glob
import io
import os
from collections.abc import Mapping
from typing import Any, Literal, overload

import polars as pl

from extend_frames._columns import ROW
from extend_frames._errors import InputError
from extend_frames.store import JobStore, StoredJobStatus, display_path, ledger_summary
from extend_frames.store import read_results as _read_stored

__all__ = [
    "TABLE_FORMATS",
    "display_path",
    "glob_files",
    "job_status",
    "read_results",
    "read_table",
]

TABLE_FORMATS = ("csv", "parquet", "ndjson")
_EXTENSIONS = {
    ".csv": "csv",
    ".parquet": "parquet",
    ".pq": "parquet",
    ".ndjson": "ndjson",
    ".jsonl": "ndjson",
}


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
    path: str | os.PathLike[str],
    *,
    storage_options: Mapping[str, Any] | None = None,
    missing_hint: str = "start a job with output=",
) -> StoredJobStatus:
    """Where the job stored at ``path`` stands (read-only): batches by state, rows by status,
    credits, lock holder; ``.render()`` gives the lines ``extend-frames status`` prints.

    InputError when nothing was written at ``path`` (``missing_hint`` says what to do).
    """
    store = JobStore.open(path, storage_options=storage_options)
    if store.read_manifest() is None and not store.parts() and not store.ledger():
        raise InputError(
            f"no job output at {store.path}: nothing was written there yet "
            f"(check the path, or {missing_hint} first)",
            path=store.path,
        )
    return ledger_summary(path, storage_options=storage_options)


def _has_protocol(path: str) -> bool:
    head, sep, _ = path.partition("://")
    return bool(sep) and head.isidentifier() and head.lower() != "file"


def read_table(
    source: str,
    *,
    format: str | None = None,
    storage_options: Mapping[str, Any] | None = None,
    format_hint: str = "format=",
) -> pl.DataFrame:
    """Read a CSV, Parquet or NDJSON table from a local path or fsspec URL (the format from
    the extension unless ``format`` is given)."""
    import fsspec

    fmt = format
    if fmt is None:
        path = source.split("?", 1)[0].lower()
        fmt = next((f for ext, f in _EXTENSIONS.items() if path.endswith(ext)), None)
        if fmt is None:
            raise InputError(
                f"cannot tell the format of {display_path(source)} from its extension; "
                f"pass {format_hint} csv|parquet|ndjson"
            )
    shown = display_path(source)
    try:
        with fsspec.open(source, "rb", **(storage_options or {})) as fh:
            data = fh.read()
    except FileNotFoundError:
        raise InputError(f"input table {shown} does not exist; check the path") from None
    except (OSError, ValueError, ImportError) as exc:
        raise InputError(
            f"cannot open input table {shown} ({type(exc).__name__}); check the path, "
            "credentials (--storage-option) and that the fsspec backend is installed"
        ) from None
    try:
        if fmt == "csv":
            return pl.read_csv(io.BytesIO(data), infer_schema_length=10_000)
        if fmt == "parquet":
            return pl.read_parquet(io.BytesIO(data))
        return pl.read_ndjson(io.BytesIO(data))
    except (pl.exceptions.PolarsError, OSError, ValueError) as exc:
        text = str(exc).replace(source, shown).splitlines()[0][:200]
        raise InputError(
            f"cannot read {shown} as {fmt}: {text}; pass {format_hint} if the extension is wrong"
        ) from None


def glob_files(
    pattern: str,
    *,
    column: str = "file",
    storage_options: Mapping[str, Any] | None = None,
    pattern_hint: str = "pattern",
) -> pl.DataFrame:
    """One row per file matching ``pattern`` (sorted), in column ``column``.

    Local patterns keep the form given (relative stays relative; the library resolves it
    against the working directory); fsspec patterns give full URLs (``s3://bucket/key``).
    """
    if _has_protocol(pattern):
        import fsspec

        fs, path = fsspec.core.url_to_fs(pattern, **(storage_options or {}))
        found = [fs.unstrip_protocol(p) for p in fs.glob(path) if not fs.isdir(p)]
    else:
        local = pattern.removeprefix("file://")
        found = [p for p in _glob.glob(local, recursive=True) if os.path.isfile(p)]
    if not found:
        shown = display_path(pattern)
        raise InputError(f"{pattern_hint} {shown} matches no file; check the pattern")
    return pl.DataFrame({column: sorted(found)}, schema={column: pl.String})
