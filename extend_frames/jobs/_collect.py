"""The collect step's I/O: wait for a chunk's batches and runs, fetch one body per unit.

A batch is waited for by the job's :class:`~extend_frames.jobs.Waiter`, then its runs are
listed (matched on our metadata) and the processed ones fetched; runs without a batch
(single-routed, or found by reconciling) are polled one by one. Every wait goes through the
job's clock, so ``max_wait`` (its deadline) stops any of them.
"""

from __future__ import annotations

import asyncio
import json
import random
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import polars as pl

from extend_frames._operations import OPERATIONS
from extend_frames.api import Client
from extend_frames.api._models import NON_TERMINAL
from extend_frames.jobs._clock import JobClock
from extend_frames.jobs._errors import first_error
from extend_frames.jobs._progress import Progress
from extend_frames.jobs._spec import SUBMIT_FAILED, JobSpec, Polling, Unit
from extend_frames.jobs._wait import Waiter

__all__ = ["Collector", "Stats", "body", "decode", "failed", "failure_bodies"]


@dataclass(slots=True)
class Stats:
    """Counters a caller (or a benchmark) can read after a run."""

    batches_submitted: int = 0
    runs_submitted: int = 0  # single-run POSTs answered with a run
    runs_fetched: int = 0
    reconciliations: int = 0
    runs_adopted: int = 0
    chunks_skipped: int = 0
    possible_duplicates: int = 0  # rows with more than one run (a late commit after a resubmit)
    duplicates_cancelled: int = 0
    steps: dict[str, int] = field(default_factory=dict)  # executed steps, by kind


class Collector:
    """Waits for and fetches the run bodies of one job's chunks."""

    def __init__(
        self,
        spec: JobSpec,
        client: Client,
        *,
        clock: JobClock,
        waiter: Waiter,
        polling: Polling,
        progress: Progress,
        stats: Stats,
        slots: asyncio.Semaphore,
    ) -> None:
        self.spec, self.client, self.clock, self.waiter = spec, client, clock, waiter
        self.polling, self.progress, self.stats = polling, progress, stats
        self._slots = slots
        self._rng = random.Random()  # noqa: S311 - backoff jitter, not cryptography

    async def batches(
        self, batches: tuple[tuple[str, tuple[str, ...]], ...], wanted: set[str]
    ) -> tuple[dict[str, bytes], dict[str, str], dict[str, str]]:
        """Bodies (key -> bytes), batch statuses (id -> status), run ids (key -> id)."""
        try:
            async with asyncio.TaskGroup() as group:
                tasks = [group.create_task(self._batch(b, ks, wanted)) for b, ks in batches]
        except BaseExceptionGroup as group_error:
            raise first_error(group_error) from None
        results = [t.result() for t in tasks]
        bodies: dict[str, bytes] = {}
        statuses: dict[str, str] = {}
        run_ids: dict[str, str] = {}
        for (bid, _), (found, status, ids) in zip(batches, results, strict=True):
            bodies.update(found)
            statuses[bid] = status
            run_ids.update(ids)
        return bodies, statuses, run_ids

    async def _batch(
        self, batch_id: str, keys: tuple[str, ...], wanted: set[str]
    ) -> tuple[dict[str, bytes], str, dict[str, str]]:
        batch = await self.waiter.wait(self.client, batch_id, clock=self.clock)
        expected = set(keys) & wanted
        summaries: dict[str, dict[str, Any]] = {}
        for attempt in range(4):
            async for run in self.client.iter_runs(self.spec.operation, batch_id=batch_id):
                key = self.spec.row_of(run)
                if key in expected:
                    summaries[key] = _prefer(summaries.get(key), run)
            if expected <= summaries.keys() or batch.status == "FAILED":
                break
            # The batch is terminal but not every run is listed yet: look again shortly.
            await self.clock.sleep(self.polling.delay(attempt, self._rng))
        ids = {key: str(run["id"]) for key, run in summaries.items()}
        return await self._hydrate(summaries), batch.status, ids

    async def runs(self, runs: Mapping[str, str], wanted: set[str]) -> dict[str, bytes]:
        """Wait for runs with no batch to wait on (single runs, adopted runs) by GETting each."""
        out: dict[str, bytes] = {}

        async def one(key: str, run_id: str) -> None:
            attempt = 1
            started = self.clock.now()
            # a run just created is never done yet: the first look waits one single-run delay
            await self.clock.sleep(self.polling.run_delay(0, self._rng, 0.0))
            while True:
                async with self._slots:
                    raw = await self.client.get_run_bytes(self.spec.operation, run_id)
                self.stats.runs_fetched += 1
                if json.loads(raw).get("status") not in NON_TERMINAL:
                    out[key] = raw
                    self.progress.fetched(1)
                    return
                elapsed = self.clock.now() - started
                await self.clock.sleep(self.polling.run_delay(attempt, self._rng, elapsed))
                attempt += 1

        try:
            async with asyncio.TaskGroup() as group:
                for key, run_id in runs.items():
                    if key in wanted:
                        group.create_task(one(key, run_id))
        except BaseExceptionGroup as group_error:
            raise first_error(group_error) from None
        return out

    async def _hydrate(self, summaries: dict[str, dict[str, Any]]) -> dict[str, bytes]:
        """Full run bodies for processed runs (outputs need a GET); summaries for the rest."""
        out: dict[str, bytes] = {}

        async def fetch(key: str, run_id: str) -> None:
            async with self._slots:
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


def body(spec: JobSpec, key: str, status: str, **fields: Any) -> bytes:
    """A run body the client writes itself: ``PENDING`` (with its run id, if any) for rows
    left pending, ``FAILED`` with ``failureReason``/``failureMessage`` for rows no run
    answers."""
    return json.dumps(
        {
            "object": OPERATIONS[spec.operation].run_object,
            "id": fields.pop("id", None),
            "status": status,
            **fields,
            "metadata": spec.metadata(key),
        }
    ).encode()


def failed(spec: JobSpec, key: str, reason: str, message: str) -> bytes:
    """The body of a row no run answers: FAILED with the client's reason and message."""
    return body(spec, key, "FAILED", failureReason=reason, failureMessage=message)


def failure_bodies(
    spec: JobSpec,
    units: Sequence[Unit],
    failures: Mapping[str, tuple[str, str]],
    refused: Mapping[str, str],
) -> dict[str, bytes]:
    """Rows no run answers: local failures (reason, message), and runs the API refused."""
    wanted = {u.key for u in units}
    out = {k: failed(spec, k, *why) for k, why in failures.items() if k in wanted}
    for key, message in refused.items():
        if key in wanted:
            out[key] = failed(spec, key, SUBMIT_FAILED, message)
    return out


def decode(
    spec: JobSpec,
    units: Sequence[Unit],
    bodies: Mapping[str, bytes],
    batch_of: Mapping[str, str],
    duplicates: Collection[str],
) -> pl.DataFrame:
    """One decoded row per unit (in unit order), with batch ids and the duplicate flag
    (more than one run exists for the row)."""
    decoded = spec.decode([bodies[u.key] for u in units])
    return decoded.with_columns(
        pl.Series("batch_id", [batch_of.get(u.key) for u in units], dtype=pl.String),
        pl.Series("possible_duplicate", [u.key in duplicates for u in units], dtype=pl.Boolean),
    )


def _prefer(old: dict[str, Any] | None, new: dict[str, Any]) -> dict[str, Any]:
    """Two runs for one row (never expected): keep the processed one, else the newer."""
    if old is None:
        return new
    if (old.get("status") == "PROCESSED") != (new.get("status") == "PROCESSED"):
        return old if old.get("status") == "PROCESSED" else new
    return new if str(new.get("createdAt", "")) > str(old.get("createdAt", "")) else old
