"""Delta Lake through ``deltalake`` (delta-rs): one commit per chunk, recorded as an
application transaction.

Each chunk's commit carries the application transaction ``extend-frames/<job>/<chunk>``
(version 0) and the commit info ``extend-frames.job`` / ``extend-frames.chunk``. One app id
per chunk, not one per job with the chunk as its version: chunks commit out of order (several
are in flight), and a per-job version would claim every lower chunk done.
``DeltaTable.transaction_version(app_id)`` answers :meth:`published`; app transactions live
in the log and its checkpoints, so compaction keeps them.
"""

from __future__ import annotations

from typing import Any

import pyarrow as pa

from extend_frames._columns import JOB_TIME
from extend_frames.tables._publish import Sink
from extend_frames.tables._schema import adds_fields, check_evolution
from extend_frames.tables._targets import Delta, require

__all__ = ["DeltaSink", "app_id", "open_delta", "table_schema_of"]

#: Where the job id and chunk are written in each commit's info (Delta ``commitInfo``).
JOB_PROPERTY = "extend-frames.job"
CHUNK_PROPERTY = "extend-frames.chunk"


def app_id(job_id: str, chunk: int) -> str:
    """The application transaction id that marks chunk ``chunk`` of job ``job_id``."""
    return f"extend-frames/{job_id}/{chunk}"


def open_delta(target: Delta) -> Any:
    """The ``DeltaTable`` at ``target``, or None if there is no table there yet."""
    deltalake = require("deltalake")
    options = dict(target.storage_options or {})
    if not deltalake.DeltaTable.is_deltatable(target.uri, storage_options=options):
        return None
    return deltalake.DeltaTable(target.uri, storage_options=options)


def table_schema_of(table: Any) -> pa.Schema:
    """A ``DeltaTable``'s schema as a pyarrow schema."""
    return pa.schema(table.schema().to_arrow())


def _holds(table: Any, job_id: str, chunk: int) -> bool:
    """Whether the ``DeltaTable`` snapshot ``table`` (None: no table) holds the chunk."""
    return table is not None and table.transaction_version(app_id(job_id, chunk)) is not None


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


class DeltaSink(Sink):
    """:class:`~._publish.Sink` for :class:`~._targets.Delta`."""

    target: Delta

    def current_schema(self) -> pa.Schema | None:
        table = open_delta(self.target)
        return None if table is None else table_schema_of(table)

    def published(self, job_id: str, chunk: int) -> bool:
        return _holds(open_delta(self.target), job_id, chunk)

    def _commit(self, job_id: str, chunk: int, rows: pa.Table) -> None:
        deltalake = require("deltalake")
        properties = deltalake.CommitProperties(
            app_transactions=[deltalake.Transaction(app_id(job_id, chunk), 0)],
            custom_metadata={JOB_PROPERTY: job_id, CHUNK_PROPERTY: str(chunk)},
        )
        # The commit is checked against the snapshot it is written on: a writer that committed
        # this chunk after that snapshot makes ours fail (delta-rs refuses a concurrent
        # transaction with the same app id), one that committed before is seen here.
        table = open_delta(self.target)
        if _holds(table, job_id, chunk):
            return
        if table is not None:
            check_evolution(table_schema_of(table), rows.schema, self.display)
        if table is None or self.mode == "append":
            self._append(table, rows, properties)
            return
        if adds_fields(table_schema_of(table), rows.schema):
            # delta-rs's merge with merge_schema=True nulls the evolved struct of the target
            # rows it copies; evolving first (a metadata-only commit) avoids it.
            self._append(table, rows.slice(0, 0), None)
            table = open_delta(self.target)
            if _holds(table, job_id, chunk):
                return
        on = " AND ".join(f"t.{_quote(k)} = s.{_quote(k)}" for k in self.keys)
        newer = f"s.{_quote(JOB_TIME)} >= t.{_quote(JOB_TIME)}"
        (
            table.merge(
                rows,
                predicate=on,
                source_alias="s",
                target_alias="t",
                merge_schema=True,
                commit_properties=properties,
            )
            .when_matched_update_all(predicate=newer)
            .when_not_matched_insert_all()
            .execute()
        )

    def _append(self, table: Any, rows: pa.Table, properties: Any) -> None:
        require("deltalake").write_deltalake(
            table if table is not None else self.target.uri,
            rows,
            mode="append",
            schema_mode="merge",
            storage_options=dict(self.target.storage_options or {}),
            commit_properties=properties,
        )

    def _conflict(self, exc: Exception) -> bool:
        exceptions = require("deltalake.exceptions")
        if isinstance(exc, exceptions.CommitFailedError):
            return True
        text = str(exc).lower()
        return isinstance(exc, exceptions.DeltaError) and (
            "already exists" in text or "conflict" in text
        )
