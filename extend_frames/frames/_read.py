"""Reading at the frames level: input tables and globs, a job's results and its status.

The store knows nothing of the frames layer's columns; these functions hand it the row column,
so the CLI and users read results without touching the store. The CLI reads its INPUT and
``--glob`` through :func:`read_table` and :func:`glob_files` (``*_hint`` names the option to
mention in an error).
"""

from __future__ import annotations

import glob as _glob
import io
import logging
import os
from collections.abc import Mapping
from dataclasses import replace
from typing import Any, Literal, overload

import polars as pl

from extend_frames._columns import BATCH_ID, INTERNAL_COLUMNS, ROW, RUN_ID, STATUS, UNIT
from extend_frames._errors import InputError
from extend_frames.frames._result_schema import result_schema
from extend_frames.store import JobStore, StoredJobStatus, display_path, ledger_summary
from extend_frames.tables import Delta, Iceberg, TableTarget
from extend_frames.tables import read_table as read_lakehouse_table

logger = logging.getLogger("extend_frames")

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
    path: str | os.PathLike[str] | TableTarget,
    *,
    storage_options: Mapping[str, Any] | None = None,
    lazy: Literal[False] = False,
) -> pl.DataFrame: ...
@overload
def read_results(
    path: str | os.PathLike[str] | TableTarget,
    *,
    storage_options: Mapping[str, Any] | None = None,
    lazy: Literal[True],
) -> pl.LazyFrame: ...
def read_results(
    path: str | os.PathLike[str] | TableTarget,
    *,
    storage_options: Mapping[str, Any] | None = None,
    lazy: bool = False,
) -> pl.DataFrame | pl.LazyFrame:
    """The results a job stored at ``path`` (``output=``): every input row, in input order.

    Never a wrong table in silence: a missing path, or a folder that is not a job output,
    raises :class:`StoreError` naming it. An unfinished job (interrupted, detached, or still
    running) returns every input row too (the job keeps its input): rows not collected yet come
    back ``PENDING`` with the ``batch_id`` they were submitted in (null if not submitted yet),
    and a warning gives the counts; rerun the job or ``xf.collect(path)`` to finish it.

    ``path`` may also be a table a job published to (``xf.Delta(...)``, ``xf.Iceberg(...)``):
    its rows as the table's library reads them (with ``extend_job_id`` and ``extend_job_time``).

    >>> out = xf.read_results("s3://lake/invoices/")  # doctest: +SKIP
    >>> out = xf.read_results(xf.Delta("s3://lake/tables/invoices"))  # doctest: +SKIP
    """
    if isinstance(path, Delta | Iceberg):
        table = read_lakehouse_table(path)
        return table.lazy() if lazy else table
    store = JobStore.open(path, storage_options=storage_options)
    store.require_job()  # a wrong path is a StoreError, never an empty frame
    lf = store.scan()
    inputs = None if store.is_complete() else store.read_input()
    if inputs is not None:
        frame = pl.from_arrow(inputs)
        assert isinstance(frame, pl.DataFrame)
        lf = _with_pending(store, lf, frame)
    if ROW in lf.collect_schema().names():
        lf = lf.sort(ROW).drop(ROW)
    return lf if lazy else lf.collect()


def _with_pending(store: JobStore, stored: pl.LazyFrame, inputs: pl.DataFrame) -> pl.LazyFrame:
    """``stored`` plus a PENDING row (with its batch id from the ledger) for every input row
    that has no result yet; logs the counts. Only the stored row positions are read here."""
    names = stored.collect_schema()
    done = stored.select(ROW).collect() if ROW in names else None
    missing = inputs.join(done, on=ROW, how="anti") if done is not None else inputs
    if missing.is_empty():
        return stored
    batch_of: dict[str, str] = {}
    run_of: dict[str, str] = {}  # single-routed (or reconciled) units have a run, no batch
    stored_parts = set(store.parts())
    for index, chunk in store.ledger().items():
        if chunk.collected and index in stored_parts:  # its rows are in its part: skip them
            continue
        for batch_id, keys in chunk.batches:
            batch_of.update(dict.fromkeys(keys, batch_id))
        run_of.update(chunk.adopted_runs)
    template = names if len(names) else _template(store, inputs)
    unit = pl.col(UNIT)
    pending = missing.with_columns(
        unit.replace_strict(batch_of, default=None, return_dtype=pl.String).alias(BATCH_ID),
        unit.replace_strict(run_of, default=None, return_dtype=pl.String).alias(RUN_ID),
        pl.lit("PENDING").alias(STATUS),
    )
    pending = pending.select(
        (pl.col(n) if n in pending.columns else pl.lit(None)).cast(dtype).alias(n)
        for n, dtype in template.items()
    )
    sent = (pl.col(BATCH_ID).is_not_null() | pl.col(RUN_ID).is_not_null()).sum()
    submitted = int(pending.select(sent).item())
    logger.warning(
        "xf.read_results: the job at %s is not finished: %d of %d rows have results; %d come "
        "back PENDING (%d of them submitted, with their batch_id or run_id). Rerun the job "
        "with the same output=, or xf.collect(path), to finish it.",
        store.path,
        inputs.height - missing.height,
        inputs.height,
        missing.height,
        submitted,
    )
    return pl.concat([stored, pending.lazy()]) if len(names) else pending.lazy()


def _template(store: JobStore, inputs: pl.DataFrame) -> pl.Schema:
    """The result schema when no part exists yet: input columns, then the operation's result
    columns (extract's ``output`` untyped: the processor's config is not stored)."""
    manifest = store.read_manifest() or {}
    columns = [c for c in inputs.columns if c not in INTERNAL_COLUMNS]
    schema = dict(inputs.select(columns).schema)
    operation = str(manifest.get("operation", "parse"))
    untyped = operation == "extract"  # its output struct comes from the processor's config
    placeholder: dict[str, Any] = {
        "schema": {"type": "object", "properties": {"_": {"type": "string"}}}
    }
    config = placeholder if untyped else None
    empty = pl.from_arrow(result_schema(operation, config).empty_table())
    assert isinstance(empty, pl.DataFrame)
    schema.update(empty.schema)
    if untyped:
        schema.update({"output": pl.Null(), "output_confidence": pl.Null()})
    return pl.Schema(schema)


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
    status = ledger_summary(path, storage_options=storage_options)
    inputs = None if status.complete else store.read_input()
    if inputs is None:
        return status
    # An unfinished job kept its input: rows without a result yet count as PENDING.
    stored = store.scan()
    done = stored.select(ROW).collect() if ROW in stored.collect_schema().names() else None
    frame = pl.from_arrow(inputs)
    assert isinstance(frame, pl.DataFrame)
    pending = frame.height if done is None else frame.join(done, on=ROW, how="anti").height
    if not pending:
        return status
    by_status = dict(status.rows_by_status or {})
    by_status["PENDING"] = by_status.get("PENDING", 0) + pending
    return replace(status, rows=status.rows + pending, rows_by_status=by_status)


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
