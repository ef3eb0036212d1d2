"""``table=``: the sink a job publishes its stored parts to (``extend_frames/tables``).

A job's sink is the engine's :class:`~extend_frames.jobs.Publisher`: its ``publish`` step
runs right after a chunk's part is written and, on every resume, for each collected part the
table does not hold yet (the table is the truth, not a ledger record, so a crash between part
and commit, or a job first run without ``table=``, is published on the next run).
``xf.read_batch(table=)`` runs outside the engine and publishes with :func:`publish_missing`
and :func:`publish_part` itself.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

import pyarrow as pa

from extend_frames._telemetry import span
from extend_frames.store import JobStore
from extend_frames.tables import Publisher, Sink, TableTarget, open_sink, parse_table_uri

__all__ = [
    "job_time",
    "now_iso",
    "open_publisher",
    "publish_missing",
    "publish_part",
    "target",
]


def target(table: TableTarget | str | None) -> TableTarget | None:
    """``table=`` as a target (a string is the one-string spelling, ``delta:<uri>``...)."""
    return parse_table_uri(table) if isinstance(table, str) else table


def now_iso() -> str:
    """The time a job starts, as its manifest records it (``created_at``)."""
    return datetime.now(UTC).isoformat()


def job_time(manifest: Mapping[str, Any]) -> datetime:
    """When the job at a manifest started (``created_at``; now for jobs that predate it)."""
    stamp = manifest.get("created_at")
    return datetime.fromisoformat(stamp) if isinstance(stamp, str) else datetime.now(UTC)


def open_publisher(
    table: TableTarget | str | None, manifest: Mapping[str, Any], key: Sequence[str]
) -> Sink | None:
    """The publisher of the job described by ``manifest`` (None without ``table=``)."""
    chosen = target(table)
    if chosen is None:
        return None
    return open_sink(chosen, key=key, job_time=job_time(manifest))


def publish_part(publisher: Publisher, job_id: str, chunk: int, table: pa.Table) -> None:
    with span("extend_frames.publish", {"extend.job_id": job_id, "extend.chunk": chunk}):
        publisher.publish(job_id, chunk, table)


async def publish_missing(
    publisher: Publisher | None, store: JobStore, job_id: str, chunks: Iterable[int]
) -> None:
    """Publish the stored part of each of ``chunks`` that the table does not hold yet."""
    if publisher is None:
        return
    for chunk in sorted(chunks):
        if not await asyncio.to_thread(publisher.published, job_id, chunk):
            part = await asyncio.to_thread(store.read_part, chunk)
            await asyncio.to_thread(publish_part, publisher, job_id, chunk, part)
