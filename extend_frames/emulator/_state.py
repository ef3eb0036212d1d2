"""The emulator's in-memory state and the run/batch lifecycle rules.

All mutation happens under ``State.lock`` (handlers on the event loop, the processing worker
and the webhook deliverer share it). A batch's status is derived from its runs: PENDING until
the first run starts, PROCESSING, then PROCESSED once every run is terminal (whatever each
run's own outcome), or FAILED / CANCELLED when a batch-level fault or the emulator-only
cancel ends it early.
"""

from __future__ import annotations

import itertools
import threading
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from ._clock import Clock
from ._config import EmulatorConfig
from ._faults import Deferred, LateCommits, Storms
from ._ids import IdMaker
from ._kinds import RUN_KINDS, TERMINAL
from ._records import BatchRecord, FileRecord, ProcessorRecord, RunRecord, dumps
from ._refusals import Refusals
from ._stats import Stats


@dataclass(frozen=True, slots=True)
class Event:
    """One lifecycle event: its type (``extract_run.processed``), the resource's JSON, the
    resource's id and metadata, and the processor whose subscriptions also receive it."""

    type: str
    payload: bytes
    resource_id: str
    metadata: Any
    processor_id: str | None


class EventSink(Protocol):
    """Receives lifecycle events (the webhook deliverer)."""

    def emit(self, event: Event) -> None: ...


class State:
    def __init__(self, config: EmulatorConfig, clock: Clock) -> None:
        self.config = config
        self.clock = clock
        self.lock = threading.RLock()
        # two id streams: request handlers and background threads never shift each other's ids,
        # so the same requests against the same seed replay the same batch and run ids
        self.ids = IdMaker(config.seed)
        self.worker_ids = IdMaker(f"{config.seed}:worker")
        self.stats = Stats()
        faults = config.faults
        self.refusals = Refusals(faults.seed, faults.refusals, faults.credit_inputs)
        self.deferred = Deferred(clock)  # late commits
        self.late_commits = LateCommits(config.faults, clock, self.deferred)
        self.storms = Storms(config.faults, clock)
        self.files: dict[str, FileRecord] = {}
        self.processors: dict[str, ProcessorRecord] = {}
        self.runs: dict[str, RunRecord] = {}
        self.runs_by_kind: dict[str, dict[str, RunRecord]] = {k: {} for k in RUN_KINDS}
        self.batches: dict[str, BatchRecord] = {}
        self.webhook_endpoints: dict[str, dict[str, Any]] = {}
        self.webhook_secrets: dict[str, str] = {}
        self.webhook_subscriptions: dict[str, dict[str, Any]] = {}
        self.payloads: dict[str, tuple[bytes, float]] = {}  # signed data URLs: body, expiry
        self.events: EventSink | None = None
        self.schedule: Callable[[list[RunRecord], BatchRecord | None], None] | None = None
        self._seq = itertools.count(1)
        self._batch_counter = itertools.count()

    @property
    def null_token(self) -> bool:
        """Whether a list's last page sends ``nextPageToken: null`` (Fidelity switch)."""
        return self.config.fidelity.list_end == "null"

    def next_seq(self) -> int:
        return next(self._seq)

    def next_batch_index(self) -> int:
        return next(self._batch_counter)

    def now(self) -> float:
        return self.clock.now()

    # -- runs --------------------------------------------------------------------------------

    def add_runs(self, runs: list[RunRecord], batch: BatchRecord | None) -> None:
        """Register new runs (and their batch) and hand them to the processing queue."""
        with self.lock:
            if batch is not None:
                self.batches[batch.id] = batch
            for run in runs:
                self.runs[run.id] = run
                self.runs_by_kind[run.kind.name][run.id] = run
                if batch is not None:
                    batch.run_ids.append(run.id)
            self.stats.record_inputs([r.metadata for r in runs], batch=batch is not None)
        if self.schedule is not None:
            self.schedule(runs, batch)

    def start_run(self, run: RunRecord) -> bool:
        """PENDING -> PROCESSING; False when the run was cancelled or deleted meanwhile."""
        with self.lock:
            if run.status in TERMINAL or run.id not in self.runs:
                return False
            if run.status != "PROCESSING":
                run.status = "PROCESSING"
                run.touch(self.now())
            batch = self.batches.get(run.batch_id) if run.batch_id else None
            if batch is not None and not batch.started:
                batch.started = True
                if batch.status == "PENDING":
                    batch.status = "PROCESSING"
            return True

    def finish_run(
        self, run: RunRecord, status: str, reason: str | None, message: str | None
    ) -> None:
        """Move a run to a terminal status (no-op if it already is one)."""
        with self.lock:
            if run.status in TERMINAL:
                return
            run.status = status
            run.failure_reason = reason if status == "FAILED" else None
            run.failure_message = message if status == "FAILED" else None
            run.touch(self.now())
            self._run_event(run)
            self._count_terminal(run)

    def cancel_run(self, run: RunRecord) -> None:
        """CANCELLED; a parse run reads FAILED/CANCELLED by default, as parse's status enum
        has no CANCELLED (``Fidelity(parse_cancel_status=...)``)."""
        if run.kind.name == "parse" and self.config.fidelity.parse_cancel_status == "FAILED":
            self.finish_run(run, "FAILED", "CANCELLED", "The parse run was cancelled.")
        else:
            self.finish_run(run, "CANCELLED", None, None)

    def delete_run(self, run: RunRecord) -> None:
        with self.lock:
            if run.status not in TERMINAL:
                run.status = "CANCELLED"
                self._count_terminal(run)
            self.runs.pop(run.id, None)
            self.runs_by_kind[run.kind.name].pop(run.id, None)

    def _count_terminal(self, run: RunRecord) -> None:
        batch = self.batches.get(run.batch_id) if run.batch_id else None
        if batch is None or batch.status in TERMINAL:
            return
        batch.done += 1
        if batch.done >= len(batch.run_ids):
            self._end_batch(batch, "PROCESSED")
        elif batch.fail_after is not None and batch.done >= batch.fail_after:
            self.fail_batch(batch)

    def fail_batch(self, batch: BatchRecord) -> None:
        """Batch-level failure: unfinished runs become FAILED/INTERNAL_ERROR, batch FAILED."""
        with self.lock:
            self._end_batch(batch, "FAILED")
            for run in self._unfinished(batch):
                run.status = "FAILED"
                run.failure_reason = "INTERNAL_ERROR"
                run.failure_message = f"Batch {batch.id} failed before this run finished."
                run.touch(self.now())
                self._run_event(run)

    def cancel_batch(self, batch: BatchRecord) -> None:
        """Emulator-only: unfinished runs become CANCELLED and the batch CANCELLED."""
        with self.lock:
            self._end_batch(batch, "CANCELLED")
            for run in self._unfinished(batch):
                self.cancel_run(run)

    def _unfinished(self, batch: BatchRecord) -> list[RunRecord]:
        """The batch's runs that are not terminal yet, in submission order."""
        runs = (self.runs.get(run_id) for run_id in batch.run_ids)
        return [run for run in runs if run is not None and run.status not in TERMINAL]

    def _end_batch(self, batch: BatchRecord, status: str) -> None:
        if batch.status in TERMINAL:
            return
        batch.status = status
        if self.events is not None and self.webhook_endpoints and status != "CANCELLED":
            family = "batch_parse_run" if batch.kind.name == "parse" else "batch_processor_run"
            event_type = f"{family}.{status.lower()}"
            payload = dumps(batch.to_json())
            self.events.emit(Event(event_type, payload, batch.id, None, batch.processor_id))

    def _run_event(self, run: RunRecord) -> None:
        if self.events is None or not self.webhook_endpoints:
            return  # nothing to deliver: skip building the payload
        if run.status not in ("PROCESSED", "FAILED"):
            return
        if run.batch_id is not None and not self.config.webhooks.per_run_events:
            return
        payload = dumps(run.status_payload()) if run.kind.name == "parse" else run.full_bytes()
        event_type = f"{run.kind.object}.{run.status.lower()}"
        self.events.emit(Event(event_type, payload, run.id, run.metadata, run.processor_id))

    def run_counts(self) -> dict[str, dict[str, int]]:
        with self.lock:
            counts: dict[str, dict[str, int]] = {}
            for kind, runs in self.runs_by_kind.items():
                by_status: defaultdict[str, int] = defaultdict(int)
                for run in runs.values():
                    by_status[run.status] += 1
                counts[kind] = dict(by_status)
            return counts
