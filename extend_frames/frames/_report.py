"""The job report's facts: what the manifest, the ledger and the parts say about one job.

:func:`job_report` reads an output path (reads only, no lock: it works beside a running job,
and on an unfinished one it shows what is known so far) into a :class:`JobReport`;
``_report_html.render`` draws it. Parts are read lazily, four result columns only.
Sessions: the store stamps each ledger record with the session (one call of the job) that
wrote it, so resumes are the sessions after the first; a session's cause is read from what
the sessions before it left behind.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import polars as pl

from extend_frames._columns import (
    CACHED,
    CREDITS,
    KEY,
    POSSIBLE_DUPLICATE,
    RESULT_COLUMNS,
    ROW,
    STATUS,
)
from extend_frames.frames._eta import files_per_minute
from extend_frames.store import ChunkState, JobStore, fold_chunk

__all__ = ["BatchTimes", "Failure", "JobReport", "Session", "job_report"]

EXAMPLES = 5  # example rows per failure reason


@dataclass(frozen=True, slots=True)
class BatchTimes:
    """One chunk's steps, as ledger times (seconds since the job's start)."""

    chunk: int
    batch_ids: tuple[str, ...]
    documents: int
    intent: float | None
    submitted: float | None
    collected: float | None
    rows: int | None
    attempts: int
    duplicates: int


@dataclass(frozen=True, slots=True)
class Session:
    """One call of the job (the first run, or a resume) and why it was needed."""

    id: str
    started: float
    ended: float
    records: int
    cause: str


@dataclass(frozen=True, slots=True)
class Failure:
    """Rows that failed for one reason, with a few examples (row, key, message)."""

    reason: str
    rows: int
    examples: tuple[tuple[int | None, str | None, str | None], ...]


@dataclass(frozen=True, slots=True)
class JobReport:
    """Everything the report page shows; ``seconds`` values count from ``started``."""

    path: str
    operation: str
    processor: str | None
    processor_version: str | None
    route: str | None
    job_id: str | None
    library_version: str | None
    started: datetime | None
    wall_seconds: float | None
    complete: bool
    rows: int
    by_status: dict[str, int]
    credits: float
    batches: tuple[BatchTimes, ...]
    sessions: tuple[Session, ...]
    failures: tuple[Failure, ...]
    possible_duplicates: int
    duplicate_examples: tuple[tuple[int | None, str | None], ...]
    files_per_minute: float | None
    label_column: str | None = None  # the input column the example rows show
    rate_limits: dict[str, float] = field(default_factory=dict)

    @property
    def resumes(self) -> int:
        return max(0, len(self.sessions) - 1)


def job_report(output: str, *, storage_options: dict[str, Any] | None = None) -> JobReport:
    """Read the job at ``output`` (StoreError naming the path if there is none)."""
    store = JobStore.open(output, storage_options=storage_options)
    store.require_job()
    manifest = store.read_manifest() or {}
    ledger = store.ledger()
    records = sorted((r for c in ledger.values() for r in c.records), key=lambda r: int(r["seq"]))
    start = _time(manifest.get("created_at")) or (_time(records[0]["time"]) if records else None)
    success = store.success()
    end_at = _time((success or {}).get("time")) or (_time(records[-1]["time"]) if records else None)
    counts, failures, duplicates, label = _parts(store, int(manifest.get("rows") or 0))
    rates = manifest.get("rate_limits") or {}
    processor = manifest.get("processor_id") or manifest.get("processor")
    return JobReport(
        path=store.path,
        operation=str(manifest.get("operation") or "?"),
        processor=str(processor) if processor else None,
        processor_version=_str(manifest.get("processor_version")),
        route=_str(manifest.get("route")),
        job_id=_str(manifest.get("job_id")),
        library_version=_str(manifest.get("library_version")),
        started=start,
        wall_seconds=_since(start, end_at),
        complete=success is not None,
        rows=sum(counts[0].values()),
        by_status=counts[0],
        credits=counts[1],
        batches=tuple(_batch(state, start) for state in ledger.values()),
        sessions=_sessions(records, start),
        failures=failures,
        possible_duplicates=len(duplicates),
        duplicate_examples=tuple(duplicates[:EXAMPLES]),
        files_per_minute=files_per_minute(float(rates["get"])) if "get" in rates else None,
        label_column=label,
        rate_limits={str(k): float(v) for k, v in rates.items()},
    )


_Counts = tuple[dict[str, int], float]
_Examples = list[tuple[int | None, str | None]]


def _parts(
    store: JobStore, planned_rows: int
) -> tuple[_Counts, tuple[Failure, ...], _Examples, str | None]:
    """Rows by status and credits (rows without a part yet are PENDING), failures by reason
    with examples, and the rows flagged as possible duplicates: four columns, read lazily."""
    if not store.parts():
        return ({"PENDING": planned_rows} if planned_rows else {}, 0.0), (), [], None
    scan = store.scan()
    names = scan.collect_schema().names()
    label = _label_column(names)
    wanted = [STATUS, CREDITS, "failure_reason", "failure_message", ROW, POSSIBLE_DUPLICATE]
    frame = scan.select([c for c in [*wanted, label] if c in names]).collect()
    if label is not None:
        frame = frame.with_columns(pl.col(label).cast(pl.String).str.slice(0, 80).alias(KEY))
    status = frame.get_column(STATUS).cast(pl.String)
    by_status = Counter(str(s) for s in status.to_list())
    pending = planned_rows - frame.height
    if pending > 0:
        by_status["PENDING"] += pending
    credits = float(frame.get_column(CREDITS).fill_null(0).sum()) if CREDITS in frame else 0.0
    failed = frame.filter(status.is_in(["FAILED", "CANCELLED"]))
    failures = []
    if failed.height:
        reasons = failed.with_columns(
            pl.col("failure_reason").fill_null("UNKNOWN") if "failure_reason" in failed else
            pl.lit("UNKNOWN").alias("failure_reason")
        )  # fmt: skip
        for (reason,), group in reasons.group_by("failure_reason", maintain_order=True):
            examples = tuple(
                (_row(r), _str(r.get(KEY)), _str(r.get("failure_message")))
                for r in group.head(EXAMPLES).iter_rows(named=True)
            )
            failures.append(Failure(str(reason), group.height, examples))
    failures.sort(key=lambda f: (-f.rows, f.reason))
    duplicates: list[tuple[int | None, str | None]] = []
    if POSSIBLE_DUPLICATE in frame:
        flagged = frame.filter(pl.col(POSSIBLE_DUPLICATE).fill_null(False))
        duplicates = [(_row(r), _str(r.get(KEY))) for r in flagged.iter_rows(named=True)]
    return (dict(sorted(by_status.items())), credits), tuple(failures), duplicates, label


def _label_column(names: list[str]) -> str | None:
    """The column that names a row in the examples: the input's first column (an id, usually)."""
    skip = {*RESULT_COLUMNS, CACHED, POSSIBLE_DUPLICATE}
    return next((n for n in names if not n.startswith("__") and n not in skip), None)


def _batch(state: ChunkState, start: datetime | None) -> BatchTimes:
    """A chunk's first intent, first submission, last collection (ledger times); the batch
    ids of every submission, ``mode="retry"`` attempts included."""

    def first(kind: str) -> float | None:
        times = [_time(r["time"]) for r in state.records if r["state"] == kind]
        return _since(start, times[0]) if times else None

    collected = [r for r in state.records if r["state"] == "collected"]
    intents = [r for r in state.records if r["state"] == "intent"]
    submitted = [r for r in state.records if r["state"] == "submitted" and r.get("batch_id")]
    return BatchTimes(
        chunk=state.chunk,
        batch_ids=tuple(dict.fromkeys(str(r["batch_id"]) for r in submitted)),  # every attempt
        documents=len(intents[0].get("keys") or ()) if intents else 0,
        intent=first("intent"),
        submitted=first("submitted"),
        collected=_since(start, _time(collected[-1]["time"])) if collected else None,
        rows=int(collected[-1].get("rows") or 0) if collected else None,
        attempts=state.attempts,
        duplicates=len(state.duplicates),
    )


def _sessions(records: list[dict[str, Any]], start: datetime | None) -> tuple[Session, ...]:
    """The calls that wrote the ledger, in order, each with the cause of the resume."""
    order: list[str] = []
    by_session: dict[str, list[dict[str, Any]]] = {}
    for rec in records:
        sid = str(rec.get("session") or "unknown")
        if sid not in by_session:
            order.append(sid)
        by_session.setdefault(sid, []).append(rec)
    out: list[Session] = []
    seen: list[dict[str, Any]] = []
    for i, sid in enumerate(order):
        recs = by_session[sid]
        cause = "first run" if i == 0 else _cause(_fold(seen), recs)
        times = [_since(start, _time(r["time"])) or 0.0 for r in recs]
        out.append(Session(sid, min(times), max(times), len(recs), cause))
        seen.extend(recs)
    return tuple(out)


def _fold(records: list[dict[str, Any]]) -> dict[int, ChunkState]:
    by_chunk: dict[int, list[dict[str, Any]]] = {}
    for rec in records:
        by_chunk.setdefault(int(rec["chunk"]), []).append(rec)
    return {c: fold_chunk(recs, chunk=c) for c, recs in by_chunk.items()}


def _cause(before: dict[int, ChunkState], recs: list[dict[str, Any]]) -> str:
    """Why a session was needed: what the earlier sessions left behind."""
    if any(r["state"] == "retry" for r in recs):
        rows = sum(len(r.get("keys") or ()) for r in recs if r["state"] == "retry")
        return f"mode='retry': {rows} document(s) with a retryable failure sent again"
    open_intents = sum(1 for s in before.values() if s.open_intent and not s.collected)
    waiting = sum(1 for s in before.values() if s.state == "submitted" and not s.collected)
    causes = []
    if open_intents:
        causes.append(
            f"{open_intents} batch(es) stopped during a submission (reconciled, not resent)"
        )
    if waiting:
        causes.append(
            f"{waiting} batch(es) submitted but not collected (interrupted, detach or max_wait)"
        )
    if not causes:
        causes.append("the earlier run stopped before submitting every batch")
    return "; ".join(causes)


def _time(value: Any) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None


def _since(start: datetime | None, at: datetime | None) -> float | None:
    if start is None or at is None:
        return None
    try:
        return max(0.0, (at - start).total_seconds())
    except TypeError:  # naive vs aware: not comparable
        return None


def _str(value: Any) -> str | None:
    return None if value is None else str(value)


def _row(rec: dict[str, Any]) -> int | None:
    value = rec.get(ROW)
    return int(value) if isinstance(value, int) else None
