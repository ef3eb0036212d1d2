"""Apache Iceberg through ``pyiceberg``: one catalog commit per chunk, recorded in the table.

Each chunk's transaction appends (or, in merge mode, overwrites the chunk's keys with) its
rows with the snapshot-summary properties ``extend-frames.job`` and ``extend-frames.chunk``,
and in the same commit updates the table property ``extend-frames.job.<job>``: the chunks of
that job the table holds, as ranges (``"0-4,7"``). :meth:`IcebergSink.published` reads that
property: it survives snapshot expiry and compaction, which the snapshot summaries do not.
A commit asserts the snapshot it started from, so two writers never both add a chunk: the
loser's commit fails, it reloads, sees the chunk and stops (pyiceberg's own retry, which would
rebase the append onto the winner's snapshot, is turned off for our commits).
"""

from __future__ import annotations

import functools
import warnings
from collections.abc import Iterable, Sequence
from typing import Any

import polars as pl
import pyarrow as pa

from extend_frames._columns import JOB_TIME
from extend_frames.tables._publish import Sink
from extend_frames.tables._schema import adds_fields, check_evolution
from extend_frames.tables._targets import Iceberg, require

__all__ = ["IcebergSink", "decode_chunks", "encode_chunks", "load_catalog", "open_iceberg"]

JOB_PROPERTY = "extend-frames.job"
CHUNK_PROPERTY = "extend-frames.chunk"


def encode_chunks(chunks: Iterable[int]) -> str:
    """A set of chunk numbers as ranges.

    >>> encode_chunks([0, 1, 2, 5, 7, 8])
    '0-2,5,7-8'
    """
    runs: list[list[int]] = []
    for c in sorted(set(chunks)):
        if runs and runs[-1][1] == c - 1:
            runs[-1][1] = c
        else:
            runs.append([c, c])
    return ",".join(f"{a}" if a == b else f"{a}-{b}" for a, b in runs)


def decode_chunks(text: str) -> set[int]:
    """The inverse of :func:`encode_chunks`.

    >>> sorted(decode_chunks("0-2,5"))
    [0, 1, 2, 5]
    """
    out: set[int] = set()
    for part in filter(None, text.split(",")):
        a, _, b = part.partition("-")
        out.update(range(int(a), int(b or a) + 1))
    return out


def load_catalog(catalog: Any) -> Any:
    """A pyiceberg catalog: the object given, or the one configured under that name (read
    from pyiceberg's configuration now: ``~/.pyiceberg.yaml``, ``PYICEBERG_CATALOG__...``)."""
    return (
        require("pyiceberg.catalog").load_catalog(catalog) if isinstance(catalog, str) else catalog
    )


def open_iceberg(target: Iceberg, catalog: Any = None) -> Any:
    """The pyiceberg ``Table`` of ``target`` (through ``catalog`` if given, already loaded),
    or None if it does not exist yet."""
    exceptions = require("pyiceberg.exceptions")
    try:
        loaded = catalog if catalog is not None else load_catalog(target.catalog)
        return loaded.load_table(target.identifier)
    except exceptions.NoSuchTableError:
        return None


#: pyiceberg retries a conflicting commit by rebasing its appends onto the new snapshot: that
#: would add a chunk another writer just added. Our own loop checks the table again instead.
_RETRIES = "commit.retry.num-retries"


def _without_commit_retries(table: Any) -> None:
    """Turn off pyiceberg's commit retry for this loaded ``table`` object only (the property
    is read from it at commit time and never written to the catalog)."""
    metadata = table.metadata
    properties = {**metadata.properties, _RETRIES: "0"}
    table.metadata = metadata.model_copy(update={"properties": properties})


def _key_filter(rows: pa.Table, keys: Sequence[str]) -> Any:
    """An Iceberg expression matching the (non-null) keys of ``rows``."""
    ex = require("pyiceberg.expressions")
    frame = pl.from_arrow(rows.select(list(keys)))
    assert isinstance(frame, pl.DataFrame)
    frame = frame.drop_nulls().unique()
    if len(keys) == 1:
        return ex.In(keys[0], frame.get_column(keys[0]).to_list())
    terms = [
        functools.reduce(ex.And, [ex.EqualTo(k, v) for k, v in zip(keys, row, strict=True)])
        for row in frame.iter_rows()
    ]
    return functools.reduce(ex.Or, terms, ex.AlwaysFalse())


class IcebergSink(Sink):
    """:class:`~._publish.Sink` for :class:`~._targets.Iceberg`."""

    target: Iceberg
    _catalog: Any = None

    @property
    def catalog(self) -> Any:
        """The catalog, loaded once per sink (a named one may cost a request to load)."""
        if self._catalog is None:
            self._catalog = load_catalog(self.target.catalog)
        return self._catalog

    def _property(self, job_id: str) -> str:
        return f"{JOB_PROPERTY}.{job_id}"

    def current_schema(self) -> pa.Schema | None:
        table = open_iceberg(self.target, self.catalog)
        return None if table is None else table.schema().as_arrow()

    def published(self, job_id: str, chunk: int) -> bool:
        table = open_iceberg(self.target, self.catalog)
        if table is None:
            return False
        return chunk in decode_chunks(table.properties.get(self._property(job_id), ""))

    def _commit(self, job_id: str, chunk: int, rows: pa.Table) -> None:
        table = open_iceberg(self.target, self.catalog) or self._create(rows.schema)
        done = decode_chunks(table.properties.get(self._property(job_id), ""))
        if chunk in done:  # committed since published() looked; checked on this snapshot
            return
        current = table.schema().as_arrow()
        check_evolution(current, rows.schema, self.display)
        summary = {JOB_PROPERTY: job_id, CHUNK_PROPERTY: str(chunk)}
        _without_commit_retries(table)
        with table.transaction() as tx:
            if adds_fields(current, rows.schema):
                with tx.update_schema() as update:
                    update.union_by_name(rows.schema)
            tx.set_properties({self._property(job_id): encode_chunks(done | {chunk})})
            if self.mode == "append":
                tx.append(rows, snapshot_properties=summary)
            else:
                kept = self._newer_than_table(table, rows)
                if kept.num_rows:  # else every key is held by a newer job: only the record
                    with warnings.catch_warnings():  # new keys: nothing to delete is expected
                        warnings.filterwarnings("ignore", "Delete operation did not match")
                        tx.overwrite(
                            kept, _key_filter(kept, self.keys), snapshot_properties=summary
                        )

    def _newer_than_table(self, table: Any, rows: pa.Table) -> pa.Table:
        """``rows`` minus those whose key the table holds from a newer job (newest wins)."""
        if table.current_snapshot() is None:
            return rows
        ex = require("pyiceberg.expressions")
        # Only rows of newer jobs matter: files whose extend_job_time stats are all older (the
        # usual case, a daily run) are pruned from the scan without being read.
        newer_job = ex.GreaterThan(JOB_TIME, self.job_time.isoformat())
        held = table.scan(
            row_filter=ex.And(newer_job, _key_filter(rows, self.keys)),
            selected_fields=(*self.keys, JOB_TIME),
        ).to_arrow()
        if held.num_rows == 0:
            return rows
        source = pl.from_arrow(rows)
        newer = pl.from_arrow(held)
        assert isinstance(source, pl.DataFrame)
        assert isinstance(newer, pl.DataFrame)
        stamp = source.select(*self.keys, pl.col(JOB_TIME).alias("__new"))
        newer = newer.join(stamp, on=list(self.keys)).filter(pl.col(JOB_TIME) > pl.col("__new"))
        if newer.is_empty():
            return rows
        kept = source.join(newer.select(self.keys), on=list(self.keys), how="anti")
        return kept.to_arrow().cast(rows.schema)

    def _create(self, schema: pa.Schema) -> Any:
        exceptions = require("pyiceberg.exceptions")
        catalog = self.catalog
        namespace = self.target.identifier.rsplit(".", 1)[0]
        catalog.create_namespace_if_not_exists(namespace)
        try:
            return catalog.create_table(self.target.identifier, schema=schema)
        except exceptions.TableAlreadyExistsError:  # another writer created it meanwhile
            return catalog.load_table(self.target.identifier)

    def _conflict(self, exc: Exception) -> bool:
        exceptions = require("pyiceberg.exceptions")
        return isinstance(exc, exceptions.CommitFailedException)
