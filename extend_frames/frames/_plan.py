"""Stage 1, plan: validate the input (nothing is sent if it is bad), key its rows, dedupe
identical references into *units*, and partition the units into batches (chunks).

A plan is pure data; the same input plans the same chunks, which is what lets a job resume.
A stored job is planned again from its output path alone (:func:`plan_stored`).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import polars as pl

from extend_frames._columns import CHUNK, ERROR, INTERNAL_COLUMNS, KEY, KIND, REF, ROW, UNIT
from extend_frames._errors import StoreError
from extend_frames._operations import Operation
from extend_frames.frames._cache import check_cache_key
from extend_frames.frames._inputs import (
    classify_references,
    document_column,
    input_fingerprint,
    parse_processor,
    row_keys,
    to_polars,
    validate,
)
from extend_frames.frames._options import Options
from extend_frames.jobs import INVALID_INPUT, Chunk, Unit, plan_chunks
from extend_frames.store import JobStore

__all__ = ["IDENTITY_KEYS", "JobPlan", "plan_job", "plan_stored"]

#: The manifest fields that identify a job: a resume must match them.
IDENTITY_KEYS = ("operation", "processor_id", "config", "input_fingerprint", "batch_size")


@dataclass(frozen=True, slots=True)
class JobPlan:
    """A validated job: its rows with internal columns, units, chunks and identity."""

    operation: Operation
    rows: pl.DataFrame  # the input columns + ROW and the INTERNAL_COLUMNS
    input_columns: tuple[str, ...]
    chunks: list[Chunk]
    processor_id: str | None
    processor_version: str | None
    config: dict[str, Any] | None
    identity: dict[str, Any]
    #: The input column(s) naming a document: ``key=``, else the file (or text) column. A
    #: table in ``mode="merge"`` merges on them unless ``merge_on=`` says otherwise.
    key_columns: tuple[str, ...] = ()


def plan_job(
    operation: Operation,
    data: Any,
    *,
    processor: Any,
    file_column: str | None,
    text_column: str | None,
    config: Mapping[str, Any] | None,
    options: Options,
) -> JobPlan:
    """Validate (nothing is sent for bad input), key, dedupe and chunk the input."""
    df = to_polars(data)
    validate(
        df,
        operation=operation,
        file_column=file_column,
        text_column=text_column,
        key=options.key,
        batch_size=options.batch_size,
        processor=processor,
    )
    ref_column, _ = document_column(file_column, text_column)
    check_cache_key(df, options.cache_key)
    processor_id, version = parse_processor(operation, processor)
    keys = row_keys(df, options.key, reference_column=ref_column)
    refs = classify_references(df.get_column(ref_column), text=text_column is not None)
    work = pl.DataFrame(
        {
            ROW: pl.int_range(0, df.height, dtype=pl.Int64, eager=True),
            KEY: keys,
            KIND: refs.get_column("kind"),
            REF: refs.get_column("ref"),
            ERROR: refs.get_column("error"),
        }
    ).with_columns(_unit_of_row())
    chunks = plan_chunks(units_of(work), options.batch_size)
    chunk_of_unit = {u.key: c.index for c in chunks for u in c.units}
    work = work.with_columns(
        pl.col(UNIT).replace_strict(chunk_of_unit, return_dtype=pl.Int64).alias(CHUNK)
    )
    identity = {
        "operation": operation,
        "processor_id": processor_id,
        "config": _canonical(config),
        "input_fingerprint": input_fingerprint(df, ref_column, keys),
        "batch_size": options.batch_size,
    }
    return JobPlan(
        operation=operation,
        rows=pl.concat([df, work], how="horizontal"),
        input_columns=tuple(df.columns),
        chunks=chunks,
        processor_id=processor_id,
        processor_version=version,
        config=dict(config) if config else None,
        identity=identity,
        key_columns=_key_columns(options.key, ref_column),
    )


def plan_stored(store: JobStore) -> JobPlan:
    """The plan of the job kept at ``store`` (its input rows, operation, processor, config)."""
    manifest = store.read_manifest()
    table = store.read_input()
    if manifest is None or table is None:
        raise StoreError(
            f"{store.path} holds no extend_frames job to collect (no manifest or input); "
            "start one with output= (and detach=True to collect it later)",
            path=store.path,
        )
    rows = pl.from_arrow(table)
    assert isinstance(rows, pl.DataFrame)
    internal = {ROW, *INTERNAL_COLUMNS}
    return JobPlan(
        operation=manifest["operation"],
        rows=rows,
        input_columns=tuple(c for c in rows.columns if c not in internal),
        chunks=plan_chunks(units_of(rows), int(manifest["batch_size"])),
        processor_id=manifest.get("processor_id"),
        processor_version=manifest.get("processor_version"),
        config=manifest.get("override_config"),
        identity={k: manifest.get(k) for k in IDENTITY_KEYS},
        key_columns=tuple(manifest.get("key_columns") or ()),
    )


def _key_columns(key: str | Sequence[str] | None, reference: str) -> tuple[str, ...]:
    if key is None:
        return (reference,)
    return (key,) if isinstance(key, str) else tuple(key)


def _unit_of_row() -> pl.Expr:
    """Each valid row's unit is the first row with the same reference; invalid rows are their
    own unit (they are never submitted, and come back FAILED)."""
    first_key = pl.col(KEY).first().over([KIND, REF], order_by=ROW)
    return pl.when(pl.col(ERROR).is_null()).then(first_key).otherwise(pl.col(KEY)).alias(UNIT)


def units_of(rows: pl.DataFrame) -> list[Unit]:
    """One unit per distinct unit key, in order of first appearance."""
    firsts = rows.filter(pl.col(KEY) == pl.col(UNIT)).sort(ROW)
    units: list[Unit] = []
    for key, kind, ref, error in firsts.select(KEY, KIND, REF, ERROR).iter_rows():
        if error is not None:
            units.append(Unit(key=key, failure=(INVALID_INPUT, error)))
        else:
            units.append(_unit(key, kind, ref))
    return units


_FILE_FIELD = {"url": "url", "file_id": "id", "text": "text"}


def _unit(key: str, kind: str, ref: str) -> Unit:
    field = _FILE_FIELD.get(kind)
    if field is not None:
        return Unit(key=key, file={field: ref})
    return Unit(key=key, path=ref)  # local path or fsspec URL: uploaded first


def _canonical(config: Mapping[str, Any] | None) -> str | None:
    if not config:
        return None
    text = json.dumps(config, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()
