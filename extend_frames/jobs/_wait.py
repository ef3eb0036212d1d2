"""Waiting for batches to end: by polling, or by webhook with a slow polling safety net.

A waiter answers one question, "is batch X terminal yet?", as cheaply as it can. Polling asks
``GET /batch_runs/{id}`` with jittered backoff. The webhook waiter sleeps until the receiver's hub
publishes the batch's completion event, and still polls at a low rate, so a lost delivery only
delays a batch, never hangs the job.
"""

from __future__ import annotations

import random
from typing import Any, Protocol

import extend_frames._telemetry as telemetry
from extend_frames._errors import BatchTimeoutError
from extend_frames.api import BatchRun, Client, Clock
from extend_frames.jobs._clock import DeadlineReached, JobClock, clock_of
from extend_frames.jobs._spec import Polling


class Waiter(Protocol):
    """Waits until a batch is terminal; every pause goes through ``clock`` (the job's: its
    sleeps stop at ``max_wait``), or the client's clock when None."""

    async def wait(
        self, client: Client, batch_id: str, *, clock: Clock | None = None
    ) -> BatchRun: ...


class _Hub(Protocol):
    # The hub takes a timeout (not asyncio.timeout) so it can drop the waiter on expiry.
    async def wait(self, batch_id: str, timeout: float) -> dict[str, Any] | None: ...  # noqa: ASYNC109


class _Phases:
    """What polling saw of one batch: its time PENDING (queued) and PROCESSING, as metrics
    (``extend_frames.batch.queue.duration``, ``...processing.duration``). Poll resolution: a
    phase counts from the first poll that saw it; one no poll saw is not recorded."""

    def __init__(self, clock: Clock) -> None:
        self.clock = clock  # the job's one clock
        self.since = clock.now()
        self.status: str | None = None

    def saw(self, batch: BatchRun) -> None:
        now, before = self.clock.now(), self.status
        if batch.status == before:
            return
        if before == "PENDING":
            telemetry.record("extend_frames.batch.queue.duration", now - self.since)
        elif before == "PROCESSING":
            telemetry.record("extend_frames.batch.processing.duration", now - self.since)
        self.status, self.since = batch.status, now


class PollingWaiter:
    """Poll ``GET /batch_runs/{id}`` with jittered exponential backoff until terminal."""

    def __init__(self, polling: Polling, *, seed: int | None = None) -> None:
        self.polling = polling
        self._rng = random.Random(seed)  # noqa: S311 - backoff jitter, not cryptography
        self.polls = 0

    async def wait(self, client: Client, batch_id: str, *, clock: Clock | None = None) -> BatchRun:
        clock = clock or clock_of(client)
        started = clock.now()
        attempt = 0
        phases = _Phases(clock)
        while True:
            batch = await client.get_batch(batch_id)
            self.polls += 1
            phases.saw(batch)
            if batch.is_terminal:
                return batch
            timeout = self.polling.timeout
            if timeout is not None and clock.now() - started > timeout:
                raise BatchTimeoutError(
                    f"batch {batch_id} is still {batch.status} after {timeout:.0f} s; rerun the "
                    "same call with output= to resume waiting, or raise Polling(timeout=...)",
                    batch_id=batch_id,
                )
            elapsed = clock.now() - started
            await clock.sleep(self.polling.delay(attempt, self._rng, elapsed))
            attempt += 1


class WebhookWaiter:
    """Wait on completion events from a webhook hub, reconciling by slow polling.

    ``fallback`` is the polling schedule used between events: a delivery that never arrives
    costs at most one fallback interval per batch, and the batch is still collected.
    """

    def __init__(self, hub: _Hub, fallback: Polling, *, seed: int | None = None) -> None:
        self.hub = hub
        self.fallback = fallback
        self._rng = random.Random(seed)  # noqa: S311 - backoff jitter, not cryptography
        self.polls = 0
        self.woken = 0

    async def wait(self, client: Client, batch_id: str, *, clock: Clock | None = None) -> BatchRun:
        attempt = 0
        while True:
            pause = self.fallback.delay(attempt, self._rng)
            left = clock.left() if isinstance(clock, JobClock) else None
            if left is not None and left <= 0:
                raise DeadlineReached
            event = await self.hub.wait(batch_id, pause if left is None else min(pause, left))
            attempt += 1
            if event is not None:
                self.woken += 1
                batch = BatchRun.from_json(event)
                if batch.is_terminal:
                    return batch
            batch = await client.get_batch(batch_id)
            self.polls += 1
            if batch.is_terminal:
                return batch
