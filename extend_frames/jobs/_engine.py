"""The batch engine: for each chunk, submit -> wait -> collect, with a ledger for resume.

The core is :meth:`Engine.run_chunk`: one chunk of at most 1,000 units in, one typed table of
results out (one row per unit). Everything else (several chunks in flight, persistence, resume)
wraps that function, so other runners (Spark ``mapInArrow``, Ray Data) can call it per batch.

Paying twice is the failure we guard against hardest. A batch POST that failed ambiguously
(5xx, timeout after send) may have been accepted, and Extend has no idempotency key. So the
engine records an *intent* before every POST and the batch id after it; an intent without a
batch id (a crash, or an unknown outcome) is *reconciled*: the processor's recent runs are listed
and matched on our metadata (job id + row key), and only units with no run are submitted again.
"""

from __future__ import annotations

import asyncio
import json
import logging
import random
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Protocol

import polars as pl
import pyarrow as pa

import extend_frames._telemetry as telemetry
from extend_frames._errors import (
    ExtendError,
    InvalidRequestError,
    OutcomeUnknownError,
    UsageBlockedError,
)
from extend_frames._operations import OPERATIONS
from extend_frames.api import BatchRun, Client, Clock, MonotonicClock, SourceReadError
from extend_frames.jobs._progress import NoProgress, Progress
from extend_frames.jobs._reconcile import (
    Reconcile,
    Reconciler,
    cancellable,
    may_commit_late,
    split_kept,
)
from extend_frames.jobs._sources import SourceRefusedError, open_source
from extend_frames.jobs._spec import (
    BATCH_FAILED,
    FILE_NOT_READABLE,
    METADATA_NAMESPACE,
    RUN_NOT_FOUND,
    SUBMIT_FAILED,
    Chunk,
    Concurrency,
    JobSpec,
    Polling,
    Unit,
)
from extend_frames.jobs._wait import PollingWaiter, Waiter
from extend_frames.store import ChunkState, fold_chunk

logger = logging.getLogger("extend_frames.jobs")

_NON_TERMINAL = frozenset({"PENDING", "PROCESSING", "CANCELLING"})

#: Called with a chunk's index and its decoded results (one row per unit, plus ``batch_id``);
#: returns the table to persist/return for that chunk (typically the input rows joined to them).
Finisher = Callable[[int, pl.DataFrame], pa.Table]


class Ledger(Protocol):
    """What the engine needs from persistence (``extend_frames.store.JobStore`` provides it)."""

    def record(self, chunk: int, state: str, **data: Any) -> None: ...

    def write_part(self, chunk: int, table: pa.Table) -> None: ...


@dataclass(slots=True)
class ChunkHistory:
    """What the ledger says happened to one chunk, folded from its records in order."""

    batches: list[tuple[str, tuple[str, ...]]] = field(default_factory=list)
    # unit key -> run id: runs with no batch to wait on (single-routed, or found by reconciling)
    adopted_runs: dict[str, str] = field(default_factory=dict)
    open_intent: tuple[str, ...] | None = None  # keys of an intent with no outcome yet
    intent_at: datetime | None = None
    file_ids: dict[str, str] = field(default_factory=dict)  # unit key -> uploaded file id
    collected: bool = False
    attempt: int = 0  # 0 = the first run; n = the n-th mode="retry" attempt of this chunk
    retry_keys: tuple[str, ...] | None = None  # the units the latest retry attempt reruns
    # keys sent more than once (an earlier POST's outcome stayed unknown): watched for a late
    # duplicate until grace after the last POST. (keys, earliest POST, last POST wall time)
    watch: list[tuple[tuple[str, ...], datetime, datetime]] = field(default_factory=list)
    duplicates: dict[str, list[str]] = field(default_factory=dict)  # key -> extra run ids

    @classmethod
    def fold(cls, records: Sequence[Mapping[str, Any]]) -> ChunkHistory:
        """The engine's working copy of the ledger's one fold (``store.fold_chunk``)."""
        return cls.of(fold_chunk(records))

    @classmethod
    def of(cls, state: ChunkState) -> ChunkHistory:
        watch = []
        for keys, suspect, last in state.watch:
            first, latest = _parse_time(suspect), _parse_time(last)
            if first is not None and latest is not None:
                watch.append((keys, first, latest))
        return cls(
            batches=list(state.batches),
            adopted_runs=dict(state.adopted_runs),
            open_intent=state.open_intent,
            intent_at=_parse_time(state.intent_at),
            file_ids=dict(state.file_ids),
            collected=state.collected,
            attempt=state.attempt,
            retry_keys=state.retry_keys,
            watch=watch,
            duplicates={k: list(v) for k, v in state.duplicates.items()},
        )

    def covered(self) -> set[str]:
        keys = {k for _, ks in self.batches for k in ks}
        keys.update(self.adopted_runs)
        return keys


@dataclass(slots=True)
class EngineStats:
    """Counters a caller (or a benchmark) can read after a run."""

    batches_submitted: int = 0
    runs_submitted: int = 0  # single-run POSTs answered with a run
    runs_fetched: int = 0
    reconciliations: int = 0
    runs_adopted: int = 0
    chunks_skipped: int = 0
    possible_duplicates: int = 0  # rows with more than one run (a late commit after a resubmit)
    duplicates_cancelled: int = 0
    started: float = field(default_factory=time.monotonic)


class Engine:
    """Runs chunks through one operation; see the module docstring."""

    def __init__(
        self,
        spec: JobSpec,
        client: Client,
        *,
        finish: Finisher,
        ledger: Ledger | None = None,
        history: dict[int, ChunkHistory] | None = None,
        waiter: Waiter | None = None,
        concurrency: Concurrency | None = None,
        polling: Polling | None = None,
        progress: Progress | None = None,
        reconcile: Reconcile | None = None,
        detach: bool = False,
        deadline: float | None = None,
    ) -> None:
        self.spec = spec
        self.client = client
        self.finish = finish
        self.ledger = ledger
        self.history = history or {}
        self.polling = polling or Polling()
        self.waiter: Waiter = waiter or PollingWaiter(self.polling)
        self.concurrency = concurrency or Concurrency()
        self.progress: Progress = progress or NoProgress()
        # per chunk: rows already reported to progress.fetched (finished() adds the rest)
        self._reported: dict[int, int] = {}
        self.detach = detach
        # max_wait: after this time.monotonic() value, chunks are submitted but not waited for
        self.deadline = deadline
        self.pending: set[int] = set()  # chunks returned PENDING (submitted, not collected)
        self.read_digests: dict[str, str] = {}  # unit key -> digest of the bytes uploaded
        retry = getattr(client, "retry", None)
        self.clock: Clock = getattr(retry, "clock", None) or MonotonicClock()
        policy = reconcile or Reconcile()
        self.reconciler = Reconciler(
            lambda since: client.list_runs_since(spec.operation, spec.processor_id, since),
            lambda run: _metadata_key(run, spec.job_id),
            clock=self.clock,
            grace=policy.grace_for(getattr(client, "timeout", None)),
            interval=policy.interval,
            skew=policy.skew,
        )
        self.stats = EngineStats()
        self._rng = random.Random()  # noqa: S311 - backoff jitter, not cryptography
        get_rate = getattr(getattr(client, "rate_limits", None), "get", 10.0)
        self._fetch_slots = asyncio.Semaphore(self.concurrency.fetch_slots(get_rate))
        self._upload_slots = asyncio.Semaphore(self.concurrency.uploads)

    # -- the whole job ---------------------------------------------------------------------

    async def run(
        self, chunks: Sequence[Chunk], *, done: set[int] | None = None
    ) -> dict[int, pa.Table]:
        """Run every chunk not in ``done``; return the tables of chunks not persisted."""
        done = done or set()
        telemetry.current().set("extend.job_id", self.spec.job_id)
        results: dict[int, pa.Table] = {}
        slots = asyncio.Semaphore(self.concurrency.batches)

        finished: list[int] = []

        async def one(chunk: Chunk) -> None:
            async with slots:
                table = await self.run_chunk(chunk)
            finished.append(chunk.index)
            if self.ledger is None or chunk.index in self.pending:
                results[chunk.index] = table

        try:
            async with asyncio.TaskGroup() as group:
                for chunk in chunks:
                    if chunk.index in done:
                        self.stats.chunks_skipped += 1
                        continue
                    group.create_task(one(chunk))
        except BaseExceptionGroup as group_error:
            raise _stopped(_first_error(group_error), len(finished), self.ledger) from None
        except asyncio.CancelledError:
            self._log_interrupted()
            raise
        return results

    def _log_interrupted(self) -> None:
        """An interrupt or a cancel stopped the job: say what was sent and how to go on."""
        s = self.stats
        resume = (
            "rerun the same call to resume (nothing submitted is sent again)"
            if self.ledger is not None
            else "without output= the work done is lost; pass output= to make jobs resumable"
        )
        logger.warning(
            "extend %s: interrupted after %d batch(es) and %d single run(s) submitted and %d "
            "run(s) fetched; %s",
            self.spec.operation,
            s.batches_submitted,
            s.runs_submitted,
            s.runs_fetched,
            resume,
        )

    # -- one chunk -------------------------------------------------------------------------

    async def run_chunk(self, chunk: Chunk) -> pa.Table:
        """Submit (or resume) one chunk, wait for it, collect it, persist it, return it."""
        attributes: telemetry.Attributes = {
            "extend.job_id": self.spec.job_id,
            "extend.chunk": chunk.index,
        }
        with telemetry.span("extend_frames.chunk", attributes) as chunk_span:
            try:
                return await self._run_chunk(chunk, chunk_span)
            except BaseExceptionGroup as group_error:
                raise _first_error(group_error) from None

    async def _run_chunk(self, chunk: Chunk, chunk_span: telemetry.SpanHandle) -> pa.Table:
        history = self.history.get(chunk.index) or ChunkHistory()
        bodies: dict[str, bytes] = {}
        batch_of: dict[str, str | None] = {}

        files, failures = await self._resolve_files(chunk, history)
        for key, (reason, message) in failures.items():
            bodies[key] = self._failure_body(key, reason, message)

        covered = history.covered()
        todo = [u for u in chunk.units if u.key not in covered and u.key not in failures]
        if history.open_intent is not None and todo:
            # A previous attempt recorded an intent but no outcome: find what it created.
            adopted = await self._reconcile(
                chunk.index, [u.key for u in todo], history.intent_at or _now(), history=history
            )
            todo = [u for u in todo if u.key not in adopted]
        if todo and self.spec.route == "single":
            refused = await self._submit_single(chunk.index, todo, files, history)
            for key, message in refused.items():
                bodies[key] = self._failure_body(key, SUBMIT_FAILED, message)
        elif todo:
            await self._submit(chunk.index, todo, files, history)
        if history.batches:
            chunk_span.set("extend.batch_id", history.batches[-1][0])
        left = None if self.deadline is None else self.deadline - time.monotonic()
        waits = bool(history.batches or history.adopted_runs)  # else nothing to wait for
        if waits and (self.detach or (left is not None and left <= 0)):
            return self._pending_chunk(chunk, history, bodies, batch_of)
        waited = len(history.covered() & set(chunk.keys))
        telemetry.in_flight(self.spec.operation, waited)
        try:
            async with asyncio.timeout(left):
                runs = await self._collect(chunk, history, batch_of)
        except TimeoutError:
            if self.deadline is None or time.monotonic() < self.deadline:
                raise  # not our deadline (e.g. a batch's own Polling.timeout)
            return self._pending_chunk(chunk, history, bodies, batch_of)
        finally:
            telemetry.in_flight(self.spec.operation, -waited)
        bodies.update(runs)
        missing = [u.key for u in chunk.units if u.key not in bodies]
        for key in missing:  # never silently dropped
            bodies[key] = self._failure_body(
                key, RUN_NOT_FOUND, "no run was found for this row after its batch ended"
            )

        table = self._decode_finish(
            chunk, bodies, batch_of, history, reported=self._reported.pop(chunk.index, 0)
        )
        if self.ledger is not None:
            await asyncio.to_thread(self.ledger.write_part, chunk.index, table)
            await self._record(chunk.index, "collected", rows=table.num_rows)
        return table

    def _pending_chunk(
        self,
        chunk: Chunk,
        history: ChunkHistory,
        bodies: dict[str, bytes],
        batch_of: dict[str, str | None],
    ) -> pa.Table:
        """Submitted, not collected (detach or max_wait): rows come back PENDING with their
        batch id (batches) or run id (single runs); the chunk is collected by a later run
        (xf.collect, or the same call)."""
        self.pending.add(chunk.index)
        for bid, keys in history.batches:
            batch_of.update(dict.fromkeys(keys, bid))
        runs = history.adopted_runs
        pending = {k: bodies.get(k) or self._pending_body(k, runs.get(k)) for k in chunk.keys}
        return self._decode_finish(chunk, pending, batch_of, history, counted=False)

    def _decode_finish(
        self,
        chunk: Chunk,
        bodies: dict[str, bytes],
        batch_of: dict[str, str | None],
        history: ChunkHistory,
        *,
        counted: bool = True,
        reported: int = 0,
    ) -> pa.Table:
        """Decode one body per unit (in unit order), add batch ids and the duplicate flag
        (more than one run exists for the row), hand to the finisher."""
        decoded = self.spec.decode([bodies[u.key] for u in chunk.units])
        flagged = history.duplicates
        decoded = decoded.with_columns(
            pl.Series("batch_id", [batch_of.get(u.key) for u in chunk.units], dtype=pl.String),
            pl.Series(
                "possible_duplicate", [u.key in flagged for u in chunk.units], dtype=pl.Boolean
            ),
        )
        table = self.finish(chunk.index, decoded)
        if counted:
            _count_collected(self.spec.operation, decoded)
            processed = int((decoded.get_column("status") == "PROCESSED").sum())
            self.progress.finished(
                processed, len(chunk.units) - processed, already_fetched=reported
            )
        return table

    # -- files ---------------------------------------------------------------------------

    async def _resolve_files(
        self, chunk: Chunk, history: ChunkHistory
    ) -> tuple[dict[str, dict[str, Any]], dict[str, tuple[str, str]]]:
        """The file object to send per unit; uploads local/fsspec paths (once per unit)."""
        files: dict[str, dict[str, Any]] = {}
        failures: dict[str, tuple[str, str]] = {}
        uploads: list[Unit] = []
        for unit in chunk.units:
            if unit.failure is not None:
                failures[unit.key] = unit.failure
            elif unit.file is not None:
                files[unit.key] = unit.file
            elif unit.key in history.file_ids:
                files[unit.key] = {"id": history.file_ids[unit.key]}
            else:
                uploads.append(unit)
        covered = history.covered()

        async def upload(unit: Unit) -> None:
            if unit.key in covered:
                return  # already part of a submitted batch: no need to upload again
            assert unit.path is not None
            async with self._upload_slots:
                failure = await self._upload(unit.key, unit.path, files)
            if failure is not None:
                failures[unit.key] = failure

        if uploads:
            async with asyncio.TaskGroup() as group:
                for unit in uploads:
                    group.create_task(upload(unit))
        return files, failures

    async def _upload(
        self, key: str, path: str, files: dict[str, dict[str, Any]]
    ) -> tuple[str, str] | None:
        """Probe, stream and upload one local/fsspec file; a refusal or a failed read is the
        row's failure (reason, message), never the job's."""
        try:
            with telemetry.span("extend_frames.upload"):
                source = await open_source(path, self.spec.reads, self.spec.storage_options)
                uploaded = await self.client.upload_file(source, name=source.name)
        except SourceRefusedError as refusal:
            return refusal.reason, refusal.message
        except SourceReadError as exc:
            return FILE_NOT_READABLE, str(exc)
        files[key] = {"id": uploaded["id"]}
        if source.sha256 is not None:  # what the result cache keys on: the bytes uploaded
            self.read_digests[key] = "file:" + source.sha256
        return None

    # -- submit and reconcile ---------------------------------------------------------------

    async def _submit(
        self,
        index: int,
        units: list[Unit],
        files: dict[str, dict[str, Any]],
        history: ChunkHistory,
    ) -> None:
        with telemetry.span("extend_frames.submit", {"extend.chunk": index}):
            await self._submit_batch(index, units, files, history)

    async def _submit_batch(
        self,
        index: int,
        units: list[Unit],
        files: dict[str, dict[str, Any]],
        history: ChunkHistory,
    ) -> None:
        """Submit ``units`` as one batch; on an unknown outcome, reconcile instead of retrying:
        wait out a late commit (the grace), and resubmit only what still has no run."""
        remaining = list(units)
        suspect: datetime | None = None  # the first POST whose outcome stayed unknown
        for attempt in range(3):
            keys = tuple(u.key for u in remaining)
            at, sent = _now(), self.clock.now()
            uploaded = {k: f["id"] for k, f in files.items() if k in keys and "id" in f}
            await self._record(index, "intent", keys=list(keys), file_ids=uploaded)
            inputs = [
                {"file": files[u.key], "metadata": self.spec.metadata(u.key)} for u in remaining
            ]
            try:
                batch = await self.client.create_batch(
                    self.spec.operation,
                    inputs=inputs,
                    processor=self.spec.processor_ref(),
                    config=self.spec.override_config if self.spec.processor_ref() is None else None,
                    priority=self.spec.priority,
                )
            except OutcomeUnknownError as exc:
                late = may_commit_late(exc.status)
                logger.warning(
                    "chunk %d: batch submission outcome unknown (attempt %d); reconciling "
                    "(waiting up to %.0f s for a late commit)",
                    index, attempt + 1, self.reconciler.grace,
                )  # fmt: skip
                adopted = await self._reconcile(
                    index,
                    list(keys),
                    at,
                    sent_at=sent,
                    wait=late,
                    suspect=suspect,
                    history=history,
                )
                remaining = [u for u in remaining if u.key not in adopted]
                if not remaining:
                    return
                if late:  # it may still commit after the resubmission: watch for that
                    suspect = suspect or at
                continue
            self.stats.batches_submitted += 1
            done = _now()
            watch = {"suspect_since": _iso(suspect)} if suspect is not None else {}
            await self._record(
                index, "submitted", batch_id=batch.id, keys=list(keys), at=_iso(done), **watch
            )
            history.batches.append((batch.id, keys))
            if suspect is not None:  # an earlier POST of these keys may still commit
                history.watch.append((keys, suspect, done))
            self.progress.submitted(len(keys))
            return
        raise OutcomeUnknownError(
            f"batch {index} of the job: its submission failed ambiguously 3 times; no "
            "duplicate was submitted. Rerun the same call with output= to reconcile and resume.",
        )

    async def _submit_single(
        self,
        index: int,
        units: list[Unit],
        files: dict[str, dict[str, Any]],
        history: ChunkHistory,
    ) -> dict[str, str]:
        with telemetry.span("extend_frames.submit", {"extend.chunk": index}):
            return await self._submit_runs(index, units, files, history)

    async def _submit_runs(
        self,
        index: int,
        units: list[Unit],
        files: dict[str, dict[str, Any]],
        history: ChunkHistory,
    ) -> dict[str, str]:
        """Submit each unit as its own run (``POST /{operation}_runs``), concurrently.

        The ledger flow is the batch one: an intent before the POSTs, the run ids after them
        (kept as adopted runs: there is no batch to wait on). A POST whose outcome is unknown
        is reconciled, never resent blindly. Returns the units the API refused (400/422: no
        run was created), with the reason; those rows come back FAILED.
        """
        remaining = list(units)
        refused: dict[str, str] = {}
        suspect: datetime | None = None  # the first POST whose outcome stayed unknown
        for attempt in range(3):
            keys = [u.key for u in remaining]
            at, sent = _now(), self.clock.now()
            uploaded = {k: f["id"] for k, f in files.items() if k in keys and "id" in f}
            await self._record(index, "intent", keys=keys, file_ids=uploaded, route="single")
            outcomes = await asyncio.gather(
                *(self._create_run(files[u.key], u.key) for u in remaining),
                return_exceptions=True,
            )
            created: dict[str, str] = {}
            unknown: list[str] = []
            late = False
            errors: list[BaseException] = []
            for key, outcome in zip(keys, outcomes, strict=True):
                if isinstance(outcome, str):
                    created[key] = outcome
                elif isinstance(outcome, OutcomeUnknownError):
                    unknown.append(key)
                    late = late or may_commit_late(outcome.status)
                elif isinstance(outcome, InvalidRequestError):
                    refused[key] = f"the run was refused: {outcome}"
                else:
                    errors.append(outcome)
            if created:
                self.stats.runs_submitted += len(created)
                done = _now()
                watch = {"suspect_since": _iso(suspect), "at": _iso(done)} if suspect else {}
                await self._record(
                    index, "submitted", run_ids=created, keys=sorted(created), **watch
                )
                history.adopted_runs.update(created)
                if suspect is not None:  # an earlier POST of these keys may still commit
                    history.watch.append((tuple(sorted(created)), suspect, done))
                self.progress.submitted(len(created))
            if errors:  # an error no row can carry (auth, usage blocked, ...): stop the job
                raise errors[0]
            if not unknown:
                return refused
            logger.warning(
                "chunk %d: %d single-run submissions with an unknown outcome (attempt %d); "
                "reconciling",
                index,
                len(unknown),
                attempt + 1,
            )
            adopted = await self._reconcile(
                index, unknown, at, sent_at=sent, wait=late, suspect=suspect, history=history
            )
            remaining = [u for u in remaining if u.key in unknown and u.key not in adopted]
            if not remaining:
                return refused
            if late:  # it may still commit after the resubmission: watch for that
                suspect = suspect or at
        raise OutcomeUnknownError(
            f"batch {index} of the job: its single-run submissions failed ambiguously 3 "
            "times; no duplicate was submitted. Rerun the same call with output= to reconcile "
            "and resume.",
        )

    async def _create_run(self, file: dict[str, Any], key: str) -> str:
        spec = self.spec
        run = await self.client.create_run(
            spec.operation,
            file=file,
            processor=spec.processor_ref(),
            config=spec.override_config if spec.processor_ref() is None else None,
            metadata=spec.metadata(key),
            priority=spec.priority if spec.processor_ref() is not None else None,
        )
        return str(run["id"])

    async def _reconcile(
        self,
        index: int,
        keys: list[str],
        since: datetime,
        *,
        sent_at: float | None = None,
        wait: bool = True,
        suspect: datetime | None = None,
        history: ChunkHistory,
    ) -> dict[str, str]:
        """Adopt the runs this job already created for ``keys`` (POSTed at ``since``), waiting
        out the grace for a late commit (``wait``: the failure allows one, see
        ``may_commit_late``); more than one run per key is a duplicate, flagged."""
        self.stats.reconciliations += 1
        if sent_at is None:  # resuming: the POST was made by an earlier process
            sent_at = self.clock.now() - max(0.0, (_now() - since).total_seconds())
        with telemetry.span("extend_frames.reconcile", {"extend.chunk": index}):
            found = await self.reconciler.settle(keys, since, sent_at=sent_at, wait=wait)
        adopted, extra = split_kept(found)
        if adopted:
            watch = {"suspect_since": _iso(suspect), "at": _iso(_now())} if suspect else {}
            await self._record(index, "submitted", run_ids=adopted, keys=sorted(adopted), **watch)
            self.stats.runs_adopted += len(adopted)
            history.adopted_runs.update(adopted)
            if suspect is not None:
                history.watch.append((tuple(sorted(adopted)), suspect, _now()))
        if extra:
            await self._flag_duplicates(index, extra, history)
        logger.info(
            "chunk %d: reconciled %d of %d units to existing runs", index, len(adopted), len(keys)
        )
        return adopted

    async def _watch(self, index: int, history: ChunkHistory, run_ids: dict[str, str]) -> None:
        """After a resubmission: look for a late commit of the earlier POST (grace after the
        last POST); cancel and flag what turns up."""
        for keys, since, last in history.watch:
            kept = {k: run_ids[k] for k in keys if k in run_ids}
            if not kept:
                continue
            last_on_clock = self.clock.now() - max(0.0, (_now() - last).total_seconds())
            extra = await self.reconciler.duplicates(kept, since, resubmitted_at=last_on_clock)
            if extra:
                await self._flag_duplicates(index, extra, history)

    async def _flag_duplicates(
        self, index: int, extra: dict[str, list[dict[str, Any]]], history: ChunkHistory
    ) -> None:
        """Rows with more than one run: cancel the extra runs still running, record them in the
        ledger, count them and flag the rows (``possible_duplicate``). Never silently."""
        fresh = {k: runs for k, runs in extra.items() if k not in history.duplicates}
        cancelled: list[str] = []
        for runs in extra.values():
            for run in runs:
                if not cancellable(run):
                    continue
                try:
                    await self.client.cancel_run(self.spec.operation, str(run["id"]))
                except ExtendError as exc:  # it may have finished meanwhile: still flagged
                    logger.info("could not cancel duplicate run %s: %s", run["id"], exc)
                else:
                    cancelled.append(str(run["id"]))
        ids = {k: [str(r["id"]) for r in runs] for k, runs in extra.items()}
        await self._record(index, "duplicates", runs=ids, cancelled=cancelled, at=_iso(_now()))
        for key, run_ids in ids.items():
            history.duplicates.setdefault(key, []).extend(run_ids)
        self.stats.possible_duplicates += len(fresh)
        self.stats.duplicates_cancelled += len(cancelled)
        logger.warning(
            "chunk %d: %d row(s) may have been paid twice: a create-POST whose outcome was "
            "unknown committed after its rows were submitted again (%d duplicate run(s) "
            "cancelled); the rows are flagged possible_duplicate",
            index, len(ids), len(cancelled),
        )  # fmt: skip

    # -- wait and collect ----------------------------------------------------------------

    async def _collect(
        self, chunk: Chunk, history: ChunkHistory, batch_of: dict[str, str | None]
    ) -> dict[str, bytes]:
        wanted = set(chunk.keys)
        bodies: dict[str, bytes] = {}
        statuses: dict[str, str] = {}
        run_ids: dict[str, str] = dict(history.adopted_runs)
        tasks = [self._collect_batch(bid, keys, wanted) for bid, keys in history.batches]
        for bid, keys in history.batches:
            batch_of.update(dict.fromkeys(keys, bid))
        results = await asyncio.gather(*tasks)
        for (bid, _), (found, status, ids) in zip(history.batches, results, strict=True):
            bodies.update(found)
            statuses[bid] = status
            run_ids.update(ids)
        if history.adopted_runs:
            with telemetry.span("extend_frames.collect", {"extend.chunk": chunk.index}):
                bodies.update(await self._collect_adopted(history.adopted_runs, wanted))
        self._reported[chunk.index] = len(bodies)  # each was reported to progress.fetched
        for bid, keys in history.batches:
            if statuses.get(bid) == "FAILED":
                for key in keys:
                    if key not in bodies:
                        bodies[key] = self._failure_body(
                            key, BATCH_FAILED, f"batch {bid} failed before this row ran"
                        )
        if history.watch:
            await self._watch(chunk.index, history, run_ids)
        return bodies

    async def _collect_batch(
        self, batch_id: str, keys: tuple[str, ...], wanted: set[str]
    ) -> tuple[dict[str, bytes], str, dict[str, str]]:
        with telemetry.span("extend_frames.wait", {"extend.batch_id": batch_id}):
            batch = await self.waiter.wait(self.client, batch_id)
        with telemetry.span("extend_frames.collect", {"extend.batch_id": batch_id}):
            return await self._list_and_fetch(batch, keys, wanted)

    async def _list_and_fetch(
        self, batch: BatchRun, keys: tuple[str, ...], wanted: set[str]
    ) -> tuple[dict[str, bytes], str, dict[str, str]]:
        batch_id = batch.id
        expected = set(keys) & wanted
        summaries: dict[str, dict[str, Any]] = {}
        for attempt in range(4):
            async for run in self.client.iter_runs(self.spec.operation, batch_id=batch_id):
                key = _metadata_key(run, self.spec.job_id)
                if key in expected:
                    summaries[key] = _prefer(summaries.get(key), run)
            if expected <= summaries.keys() or batch.status == "FAILED":
                break
            # The batch is terminal but not every run is listed yet: look again shortly.
            await asyncio.sleep(self.polling.delay(attempt, self._rng))
        ids = {key: str(run["id"]) for key, run in summaries.items()}
        return await self._hydrate(summaries), batch.status, ids

    async def _collect_adopted(self, runs: dict[str, str], wanted: set[str]) -> dict[str, bytes]:
        """Wait for runs found by reconciliation (no batch id known) by GETting each."""
        out: dict[str, bytes] = {}

        async def one(key: str, run_id: str) -> None:
            attempt = 1
            started = time.monotonic()
            # a run just created is never done yet: the first look waits one single-run delay
            await asyncio.sleep(self.polling.run_delay(0, self._rng, 0.0))
            while True:
                async with self._fetch_slots:
                    body = await self.client.get_run_bytes(self.spec.operation, run_id)
                self.stats.runs_fetched += 1
                status = json.loads(body).get("status")
                if status not in _NON_TERMINAL:
                    out[key] = body
                    self.progress.fetched(1)
                    return
                elapsed = time.monotonic() - started
                await asyncio.sleep(self.polling.run_delay(attempt, self._rng, elapsed))
                attempt += 1

        async with asyncio.TaskGroup() as group:
            for key, run_id in runs.items():
                if key in wanted:
                    group.create_task(one(key, run_id))
        return out

    async def _hydrate(self, summaries: dict[str, dict[str, Any]]) -> dict[str, bytes]:
        """Full run bodies for processed runs (outputs need a GET); summaries for the rest."""
        out: dict[str, bytes] = {}

        async def fetch(key: str, run_id: str) -> None:
            async with self._fetch_slots:
                out[key] = await self.client.get_run_bytes(self.spec.operation, run_id)
            self.stats.runs_fetched += 1
            self.progress.fetched(1)

        async with asyncio.TaskGroup() as group:
            for key, run in summaries.items():
                if run.get("status") == "PROCESSED":
                    group.create_task(fetch(key, run["id"]))
                else:
                    out[key] = json.dumps(run).encode()
                    self.progress.fetched(1)
        return out

    # -- helpers ---------------------------------------------------------------------------

    async def _record(self, index: int, state: str, **data: Any) -> None:
        # Ledger writes are blocking I/O (one small object each): keep the loop free.
        if self.ledger is not None:
            await asyncio.to_thread(self.ledger.record, index, state, **data)

    def _pending_body(self, key: str, run_id: str | None = None) -> bytes:
        return json.dumps(
            {
                "object": OPERATIONS[self.spec.operation].run_object,
                "id": run_id,
                "status": "PENDING",
                "metadata": self.spec.metadata(key),
            }
        ).encode()

    def _failure_body(self, key: str, reason: str, message: str) -> bytes:
        return json.dumps(
            {
                "object": OPERATIONS[self.spec.operation].run_object,
                "id": None,
                "status": "FAILED",
                "failureReason": reason,
                "failureMessage": message,
                "metadata": self.spec.metadata(key),
            }
        ).encode()


def _count_collected(operation: str, decoded: pl.DataFrame) -> None:
    """Rows by status and credits of a collected chunk, to the telemetry metrics."""
    counts = decoded.group_by("status").agg(pl.len().alias("n"), pl.col("credits").sum())
    by_status = {str(s): int(n) for s, n in counts.select("status", "n").iter_rows()}
    telemetry.collected(operation, by_status, float(counts.get_column("credits").sum() or 0.0))


def _stopped(exc: BaseException, finished: int, ledger: object) -> BaseException:
    """Out of credits stops the whole job: say what to do, and that a rerun resumes."""
    if not isinstance(exc, UsageBlockedError):
        return exc
    then = (
        "then rerun the same call with the same output=: collected chunks are kept and no "
        "row is submitted twice"
        if ledger is not None
        else "then rerun (pass output= to make a rerun resume instead of starting over)"
    )
    stopped = UsageBlockedError(
        f"{exc.message}. The job stopped ({finished} chunk(s) finished in this call): "
        f"add credits to the Extend organisation, {then}",
        status=exc.status,
        code=exc.code,
        request_id=exc.request_id,
        retryable=False,
        method=exc.method,
        path=exc.path,
    )
    stopped.__cause__ = exc
    return stopped


def _first_error(group: BaseExceptionGroup) -> BaseException:
    """The error a caller should see from a group of concurrent failures: the first real one
    (not a cancellation caused by it), with how many others there were in a note."""
    leaves: list[BaseException] = []

    def walk(exc: BaseException) -> None:
        if isinstance(exc, BaseExceptionGroup):
            for inner in exc.exceptions:
                walk(inner)
        else:
            leaves.append(exc)

    walk(group)
    real = [e for e in leaves if not isinstance(e, asyncio.CancelledError)] or leaves
    first = real[0]
    if len(real) > 1:
        first.add_note(f"({len(real) - 1} other concurrent error(s) of this job were dropped)")
    return first


def _metadata_key(run: dict[str, Any], job_id: str) -> str | None:
    meta = run.get("metadata") or {}
    ours = meta.get(METADATA_NAMESPACE) if isinstance(meta, dict) else None
    if isinstance(ours, dict) and ours.get("job") == job_id:
        row = ours.get("row")
        return str(row) if row is not None else None
    return None


def _prefer(old: dict[str, Any] | None, new: dict[str, Any]) -> dict[str, Any]:
    """Two runs for one row (never expected): keep the processed one, else the newer."""
    if old is None:
        return new
    if (old.get("status") == "PROCESSED") != (new.get("status") == "PROCESSED"):
        return old if old.get("status") == "PROCESSED" else new
    return new if str(new.get("createdAt", "")) > str(old.get("createdAt", "")) else old


def _now() -> datetime:
    return datetime.now(UTC)


def _iso(at: datetime) -> str:
    return at.isoformat().replace("+00:00", "Z")


def _parse_time(value: Any) -> datetime | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
