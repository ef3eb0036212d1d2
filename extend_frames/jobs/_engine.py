"""The engine: one executor that performs a chunk's next step and appends its record.

A chunk's lifecycle is decided by pure code: the ledger's records folded by
``store.fold_chunk`` into a :class:`~extend_frames.store.ChunkState`, and
``jobs._steps.next_step`` over it. :meth:`Engine.run_chunk` loops: fold, ask for the next
step, perform it (the only I/O), append the step's record, fold again. The batch and the
single-run routes are two posters (``jobs/_posters.py``) behind the one submit step.

Paying twice is the failure we guard against hardest. A create-POST that failed ambiguously
(5xx, timeout after send) may have been accepted, and Extend has no idempotency key. So the
submit step records an *intent* before every POST and what it created after it; keys whose
intent no record closed are *reconciled* first (the processor's recent runs listed and matched
on our metadata, job id + row key, waiting out a late commit), and only keys with no run are
submitted again. What still commits later is found by a last look after the resubmission
(``watch``), cancelled and flagged ``possible_duplicate``, never silently.

Every wait goes through one :class:`~extend_frames.jobs._clock.JobClock` (the client's clock),
and ``max_wait`` is its deadline. ``max_credits`` holds back submit steps whose estimated cost
would take the job's spend past the cap (see :class:`~extend_frames.jobs._cap.CreditCap`).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import Any

import polars as pl
import pyarrow as pa

from extend_frames._telemetry import Attributes, current, in_flight, span
from extend_frames.api import Client, Clock
from extend_frames.jobs._attempts import attempt_job_id
from extend_frames.jobs._cap import CreditCap
from extend_frames.jobs._clock import DeadlineReached, JobClock, clock_of, iso, parse_time
from extend_frames.jobs._collect import (
    Collector,
    Stats,
    body,
    decode,
    failed,
    failure_bodies,
)
from extend_frames.jobs._duplicates import cancel_extra, late_duplicates, log_duplicates
from extend_frames.jobs._errors import ambiguous_thrice, first_error, log_interrupted, stopped
from extend_frames.jobs._live import Attempt, Live, count_collected
from extend_frames.jobs._posters import poster_for
from extend_frames.jobs._progress import NoProgress, Progress
from extend_frames.jobs._protocols import Finisher, Ledger, Merger, Publisher, ResultSink, Retried
from extend_frames.jobs._reconcile import Reconcile, Reconciler, split_kept
from extend_frames.jobs._spec import (
    BATCH_FAILED,
    RUN_NOT_FOUND,
    Chunk,
    Concurrency,
    JobSpec,
    Polling,
)
from extend_frames.jobs._steps import Situation, Step, next_step, units_of
from extend_frames.jobs._uploads import upload_paths
from extend_frames.jobs._wait import PollingWaiter, Waiter
from extend_frames.store import ChunkState, fold_chunk
from extend_frames.store import ledger as lg

logger = logging.getLogger("extend_frames.jobs")


class Engine:
    """Runs chunks through one operation; see the module docstring."""

    def __init__(
        self,
        spec: JobSpec,
        client: Client,
        *,
        finish: Finisher,
        merge: Merger | None = None,
        ledger: Ledger | None = None,
        history: Mapping[int, ChunkState] | None = None,
        waiter: Waiter | None = None,
        concurrency: Concurrency | None = None,
        polling: Polling | None = None,
        progress: Progress | None = None,
        reconcile: Reconcile | None = None,
        detach: bool = False,
        deadline: float | None = None,
        clock: Clock | None = None,
        results: ResultSink | None = None,
        publisher: Publisher | None = None,
        retried: Retried | None = None,
        retry: Mapping[int, Sequence[str]] | None = None,
        max_credits: float | None = None,
    ) -> None:
        self.spec, self.client, self.finish, self.merge = spec, client, finish, merge
        self.ledger, self.results, self.publisher = ledger, results, publisher
        self.retried = retried  # a retry attempt publishes only its rows (None: the part)
        self.records = {i: list(s.records) for i, s in (history or {}).items()}
        self.polling = polling or Polling()
        self.waiter: Waiter = waiter or PollingWaiter(self.polling)
        self.concurrency = concurrency or Concurrency()
        self.progress: Progress = progress or NoProgress()
        self.detach = detach
        self.clock = JobClock(clock or clock_of(client), deadline=deadline)
        self.pending: set[int] = set()  # chunks returned PENDING (submitted, not collected)
        self.held: set[int] = set()  # chunks the spending cap held back (rows PENDING)
        self.read_digests: dict[str, str] = {}  # unit key -> digest of the bytes uploaded
        self.retry = {i: tuple(keys) for i, keys in (retry or {}).items() if keys}
        self.parts: set[int] = set()  # chunks whose part exists (given by run(), or written)
        self.cap = CreditCap(max_credits, (history or {}).values())
        self.stats = Stats()
        self._policy = reconcile or Reconcile()
        get_rate = getattr(getattr(client, "rate_limits", None), "get", 10.0)
        self._fetch_slots = asyncio.Semaphore(self.concurrency.fetch_slots(get_rate))
        self._upload_slots = asyncio.Semaphore(self.concurrency.uploads)
        self._attempts: dict[int, Attempt] = {}

    # -- the whole job ---------------------------------------------------------------------

    async def run(
        self, chunks: Sequence[Chunk], *, done: set[int] | None = None
    ) -> dict[int, pa.Table]:
        """Run every chunk (those in ``done``, collected with a part, only for a retry or a
        publish); return the tables of chunks not persisted (or left pending)."""
        self.parts |= done or set()
        results: dict[int, pa.Table] = {}
        slots = asyncio.Semaphore(self.concurrency.batches)
        finished: list[int] = []

        async def one(chunk: Chunk) -> None:
            async with slots:
                table = await self.run_chunk(chunk)
            finished.append(chunk.index)
            if table is not None and (self.ledger is None or chunk.index in self.pending):
                results[chunk.index] = table

        attributes = {"extend.job_id": self.spec.job_id, "extend.operation": self.spec.operation}
        try:
            job_span = current()  # the frames layer's job span (one trace per job)
            for name, value in {**attributes, "extend.route": self.spec.route}.items():
                job_span.set(name, value)
            async with asyncio.TaskGroup() as group:
                for chunk in chunks:
                    if self._settled(chunk.index):
                        self.stats.chunks_skipped += 1
                        continue
                    group.create_task(one(chunk))
        except BaseExceptionGroup as group_error:
            raise stopped(first_error(group_error), len(finished), self.ledger) from None
        except asyncio.CancelledError:
            log_interrupted(self.spec.operation, self.stats, resumable=self.ledger is not None)
            raise
        return results

    def _settled(self, index: int) -> bool:  # collected with a part, no retry, no publisher
        return index in self.parts and index not in self.retry and self.publisher is None

    def state(self, index: int) -> ChunkState:
        return fold_chunk(self.records.get(index, ()), chunk=index)

    # -- one chunk: fold, decide, execute, record ------------------------------------------

    async def run_chunk(self, chunk: Chunk) -> pa.Table | None:
        """Take ``chunk`` through its steps until done (or pending, or held by the cap);
        return its table (None when it was already collected before this call)."""
        live = Live(files={u.key: u.file for u in chunk.units if u.file is not None})
        live.failures = {u.key: u.failure for u in chunk.units if u.failure is not None}
        attributes: Attributes = {"extend.job_id": self.spec.job_id, "extend.chunk": chunk.index}
        with span("extend_frames.chunk", attributes) as chunk_span:
            try:
                while True:
                    state = self.state(chunk.index)
                    if state.batches:
                        chunk_span.set("extend.batch_id", state.batches[-1][0])
                    situation = await self._situation(chunk, state, live)
                    step = next_step(state, chunk, situation)
                    if step.kind == "submit" and self.cap.limit is not None:
                        budget = await self.cap.budget()  # may wait for a measuring chunk
                        step = next_step(state, chunk, replace(situation, budget=budget))
                    if step.kind == "done":
                        return live.table
                    self.stats.steps[step.kind] = self.stats.steps.get(step.kind, 0) + 1
                    table = await self._execute(step, chunk, state, live)
                    if table is not None:
                        return table
            except BaseExceptionGroup as group_error:
                raise first_error(group_error) from None
            finally:
                self.cap.chunk_ended(pending=chunk.index in self.pending)

    async def _situation(self, chunk: Chunk, state: ChunkState, live: Live) -> Situation:
        has_part = chunk.index in self.parts
        published = None
        if self.publisher is not None and state.collected and has_part:
            job = self._attempt(state.attempt).spec.job_id  # an attempt publishes as its own
            if job not in live.published:
                found = await asyncio.to_thread(self.publisher.published, job, chunk.index)
                live.published[job] = found
            published = live.published[job]
        left = self.clock.left()
        return Situation(
            route=self.spec.route,
            failed=live.failures.keys(),
            uploaded=live.uploaded,
            settled=live.settled,
            may_wait=not self.detach and (left is None or left > 0),
            has_part=has_part,
            published=published,
            retry=self.retry.get(chunk.index, ()),
        )

    async def _execute(
        self, step: Step, chunk: Chunk, state: ChunkState, live: Live
    ) -> pa.Table | None:
        """Perform one step (its I/O) and append its record; a table ends the chunk."""
        attempt = self._attempt(state.attempt)
        attributes: Attributes = {
            "extend.job_id": attempt.spec.job_id,
            "extend.chunk": chunk.index,
            "extend.operation": self.spec.operation,
            "extend.route": self.spec.route,
        }
        with span(f"extend_frames.{step.kind}", attributes):
            if step.kind == "retry":
                await self._retry(chunk.index, state, step.keys)
            elif step.kind == "reconcile":
                await self._reconcile(chunk.index, step.keys, state, live, attempt)
            elif step.kind == "upload":
                await self._upload(chunk, step.keys, live)
            elif step.kind == "submit":
                await self._submit(chunk.index, step.keys, state, live, attempt)
            elif step.kind == "held":
                return await self._held(chunk, state, live, len(step.keys))
            elif step.kind == "detach":
                return await self._pending(chunk, state, live)
            elif step.kind == "collect":
                return await self._collect(chunk, state, live, attempt)
            elif step.kind == "publish":
                await self._publish(chunk.index, state, live)
        return None

    def _attempt(self, n: int) -> Attempt:
        """The spec, poster, collector and reconciler of attempt ``n`` (0: the first run)."""
        if n not in self._attempts:
            spec = replace(self.spec, job_id=attempt_job_id(self.spec.job_id, n))
            client = self.client
            collector = Collector(
                spec, client, clock=self.clock, waiter=self.waiter, polling=self.polling,
                progress=self.progress, stats=self.stats, slots=self._fetch_slots,
            )  # fmt: skip
            reconciler = Reconciler.for_job(client, spec, self.clock, self._policy)
            self._attempts[n] = Attempt(spec, poster_for(spec, client), collector, reconciler)
        return self._attempts[n]

    async def _record(self, index: int, state: str, data: dict[str, Any]) -> None:
        """Append a record, stamped with the job clock's wall time (``at``): to the ledger
        (off the loop) and to the chunk's folded records."""
        at = iso(self.clock.wall())
        data = {**data, lg.AT: at}
        if self.ledger is not None:
            await asyncio.to_thread(self.ledger.record, index, state, **data)
        recs = self.records.setdefault(index, [])
        recs.append({**data, lg.SEQ: len(recs), lg.CHUNK: index, lg.STATE: state, lg.TIME: at})

    # -- the steps -------------------------------------------------------------------------

    async def _retry(self, index: int, state: ChunkState, keys: tuple[str, ...]) -> None:
        """mode="retry": a new attempt of the chunk for ``keys`` (its own metadata job id)."""
        self.retry.pop(index, None)
        await self._record(index, lg.RETRY, {lg.ATTEMPT: state.attempt + 1, lg.KEYS: list(keys)})

    async def _upload(self, chunk: Chunk, keys: tuple[str, ...], live: Live) -> None:
        """Upload local/fsspec files (``jobs/_uploads.py``); a refusal or a failed read is the
        row's failure, never the job's. The file ids are recorded with the next intent."""
        paths = {u.key: u.path for u in chunk.units if u.key in keys and u.path is not None}
        done = await upload_paths(self.client, self.spec, paths, self._upload_slots)
        live.failures.update(done.failures)
        live.files.update(done.files)
        live.uploaded.update(done.files)
        self.read_digests.update(done.digests)

    async def _submit(
        self, index: int, keys: tuple[str, ...], state: ChunkState, live: Live, attempt: Attempt
    ) -> None:
        """Record the intent, POST through the route's poster, record what it created."""
        self.cap.submitting(len(keys))  # before any await: the next budget() counts them
        if live.ambiguous >= 3:
            raise ambiguous_thrice(index)
        for key, file_id in state.file_ids.items():
            live.files.setdefault(key, {"id": file_id})
        uploaded = {k: live.files[k]["id"] for k in keys if k in live.uploaded}
        at, sent = self.clock.wall(), self.clock.now()
        intent = {lg.KEYS: list(keys), lg.FILE_IDS: uploaded, lg.ROUTE: attempt.poster.name}
        await self._record(index, lg.INTENT, intent)
        posted = await attempt.poster.post(keys, live.files)
        settled = posted.created(keys)
        if settled:
            times = [state.suspects[k] for k in keys if k in state.suspects]
            extra = {lg.SUSPECT_SINCE: min(times)} if times else {}
            ids = {lg.BATCH_ID: posted.batch_id} if posted.batch_id else {}
            created = {lg.KEYS: settled, lg.RUN_IDS: posted.run_ids, lg.REFUSED: posted.refused}
            await self._record(index, lg.SUBMITTED, {**created, **ids, **extra})
            self.stats.batches_submitted += posted.batch_id is not None
            self.stats.runs_submitted += len(posted.run_ids)
            self.progress.submitted(len(settled) - len(posted.refused))
        if posted.unknown:
            self.cap.submitting(-len(posted.unknown))
            live.ambiguous += 1
            live.posted_at, live.sent_at, live.late = at, sent, posted.late
            logger.warning(
                "chunk %d: %d submission(s) with an unknown outcome (attempt %d); reconciling "
                "(waiting up to %.0f s for a late commit)",
                index, len(posted.unknown), live.ambiguous, attempt.reconciler.grace,
            )  # fmt: skip
        if posted.errors:  # an error no row can carry (auth, usage blocked, ...): stop the job
            raise posted.errors[0]

    async def _reconcile(
        self, index: int, keys: tuple[str, ...], state: ChunkState, live: Live, attempt: Attempt
    ) -> None:
        """Find the runs an earlier POST of ``keys`` created (waiting out a late commit),
        adopt one per key, record it (closing the intent); only the rest is sent again."""
        self.stats.reconciliations += 1
        suspects = [t for k in keys if (t := parse_time(state.suspects.get(k))) is not None]
        opened = parse_time(state.intent_at) if set(keys) & set(state.open_intent or ()) else None
        since = live.posted_at or min([*suspects, *([opened] if opened else [])], default=None)
        since = since or self.clock.wall()
        resumed = live.sent_at is None  # the POST was made by an earlier process
        sent_at = self.clock.at_wall(since) if resumed else live.sent_at
        found = await attempt.reconciler.settle(
            keys, since, sent_at=sent_at, wait=resumed or live.late
        )
        adopted, extra = split_kept(found)
        # keys still without a run after an outcome that may commit late stay suspect (in the
        # ledger): a resubmission is watched, and a rerun reconciles them again first
        missing = len(adopted) < len(keys) and not resumed and live.late
        suspect = min(suspects, default=None) or (since if missing else None)
        watch = {lg.SUSPECT_SINCE: iso(suspect)} if suspect is not None else {}
        await self._record(index, lg.SUBMITTED, {lg.KEYS: list(keys), lg.RUN_IDS: adopted, **watch})
        self.stats.runs_adopted += len(adopted)
        self.cap.submitting(len(adopted))
        live.settled.update(keys)
        live.sent_at = live.posted_at = None
        if extra:
            await self._flag_duplicates(index, extra, state)
        logger.info(
            "chunk %d: reconciled %d of %d units to existing runs", index, len(adopted), len(keys)
        )

    async def _held(self, chunk: Chunk, state: ChunkState, live: Live, documents: int) -> pa.Table:
        """The spending cap holds the chunk back: its rows come back PENDING (a rerun with a
        higher cap submits them, nothing is sent twice)."""
        self.held.add(chunk.index)
        self.cap.log_held(chunk.index, documents)
        return await self._pending(chunk, state, live)

    async def _pending(self, chunk: Chunk, state: ChunkState, live: Live) -> pa.Table:
        """Submitted, not collected (detach, max_wait or the cap): rows come back PENDING with
        their batch id (batches) or run id (single runs); a later call collects them."""
        self.pending.add(chunk.index)
        batch_of = {k: bid for bid, keys in state.batches for k in keys}
        bodies = failure_bodies(self.spec, units_of(state, chunk), live.failures, state.refused)
        for unit in units_of(state, chunk):
            if unit.key not in bodies:
                run_id = state.adopted_runs.get(unit.key)
                bodies[unit.key] = body(self.spec, unit.key, "PENDING", id=run_id)
        return await self._finish(
            chunk,
            state,
            decode(self.spec, units_of(state, chunk), bodies, batch_of, state.duplicates),
        )

    async def _collect(
        self, chunk: Chunk, state: ChunkState, live: Live, attempt: Attempt
    ) -> pa.Table | None:
        """Wait for the chunk's batches and runs, decode one body per unit, write the part,
        record it collected (with its credits: the spend the cap counts)."""
        wanted = {u.key for u in units_of(state, chunk)}
        bodies = failure_bodies(self.spec, units_of(state, chunk), live.failures, state.refused)
        collector = attempt.collector
        waited = len(wanted)
        in_flight(self.spec.operation, waited)
        try:
            with span("extend_frames.wait", {"extend.chunk": chunk.index}):
                found, statuses, run_ids = await collector.batches(state.batches, wanted)
                if state.adopted_runs:
                    found.update(await collector.runs(state.adopted_runs, wanted))
        except DeadlineReached:
            return await self._pending(chunk, state, live)
        finally:
            in_flight(self.spec.operation, -waited)
        bodies.update(found)
        for bid, keys in state.batches:
            if statuses.get(bid) == "FAILED":
                why = f"batch {bid} failed before this row ran"
                bodies.update(
                    {k: failed(self.spec, k, BATCH_FAILED, why) for k in set(keys) - bodies.keys()}
                )
        if state.watch:
            await self._watch(chunk.index, state, {**state.adopted_runs, **run_ids}, attempt)
            state = self.state(chunk.index)
        for key in wanted - bodies.keys():  # never silently dropped
            bodies[key] = failed(
                self.spec, key, RUN_NOT_FOUND, "no run was found for this row after its batch ended"
            )
        batch_of = {k: bid for bid, keys in state.batches for k in keys}
        live.table = await self._store(chunk, state, bodies, batch_of, len(found))
        return None

    async def _store(
        self,
        chunk: Chunk,
        state: ChunkState,
        bodies: dict[str, bytes],
        batch_of: dict[str, str],
        fetched: int,
    ) -> pa.Table:
        """Decode, finish, count; cache, write the part and record the chunk collected."""
        decoded = decode(self.spec, units_of(state, chunk), bodies, batch_of, state.duplicates)
        credits = float(decoded.get_column("credits").fill_null(0).sum())
        documents = len(state.covered() - set(state.refused))
        table = await self._finish(chunk, state, decoded)
        processed = int((decoded.get_column("status") == "PROCESSED").sum())
        count_collected(self.spec.operation, decoded)
        self.progress.finished(processed, decoded.height - processed, already_fetched=fetched)
        if self.results is not None:  # the result cache keeps what was paid for
            self.results.add(decoded)  # queued: the sink writes off the loop
        if self.ledger is not None:
            await asyncio.to_thread(self.ledger.write_part, chunk.index, table)
        paid = {lg.ROWS: table.num_rows, lg.CREDITS: credits, lg.DOCUMENTS: documents}
        await self._record(chunk.index, lg.COLLECTED, paid)
        self.parts.add(chunk.index)
        self.cap.collected(documents, credits)
        return table

    async def _publish(self, index: int, state: ChunkState, live: Live) -> None:
        """Hand the chunk's stored part to the publisher (one idempotent transaction) under
        the current attempt's job id; a ``mode="retry"`` attempt publishes only its rows."""
        assert self.publisher is not None
        if self.ledger is not None:  # the stored part is what is published
            table = await asyncio.to_thread(self.ledger.read_part, index)
        else:
            assert live.table is not None
            table = live.table
        if state.attempt > 0 and state.retry_keys is not None and self.retried is not None:
            table = self.retried(index, table, state.retry_keys)
        job = self._attempt(state.attempt).spec.job_id
        await asyncio.to_thread(self.publisher.publish, job, index, table)
        live.published[job] = True

    async def _watch(
        self, index: int, state: ChunkState, run_ids: dict[str, str], attempt: Attempt
    ) -> None:
        """After a resubmission: find, cancel and flag late commits (``_duplicates.py``)."""
        for keys, since, last in state.watch:
            known = self.state(index).duplicates
            extra = await late_duplicates(
                attempt.reconciler, self.clock, keys, since, last, run_ids, known
            )
            if extra:
                await self._flag_duplicates(index, extra, self.state(index))

    async def _flag_duplicates(
        self, index: int, extra: dict[str, list[dict[str, Any]]], state: ChunkState
    ) -> None:
        """Rows with more than one run: cancel the extras, record and flag them."""
        cancelled = await cancel_extra(self.client, self.spec.operation, extra)
        ids = {k: [str(r["id"]) for r in runs] for k, runs in extra.items()}
        await self._record(index, lg.DUPLICATES, {lg.RUNS: ids, lg.CANCELLED: cancelled})
        self.stats.possible_duplicates += len([k for k in extra if k not in state.duplicates])
        self.stats.duplicates_cancelled += len(cancelled)
        log_duplicates(index, len(ids), len(cancelled))

    # -- bodies and tables -------------------------------------------------------------------

    async def _finish(self, chunk: Chunk, state: ChunkState, decoded: pl.DataFrame) -> pa.Table:
        """The chunk's table: the finisher's, or (a retry attempt) the stored part with the
        attempt's rows replaced."""
        if state.attempt == 0 or self.merge is None or self.ledger is None:
            return self.finish(chunk.index, decoded)
        part = await asyncio.to_thread(self.ledger.read_part, chunk.index)
        return self.merge(chunk.index, decoded, part)
