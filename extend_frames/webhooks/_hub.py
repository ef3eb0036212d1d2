"""WebhookHub: hands verified batch events from the receiver's thread to waiting jobs.

The receiver publishes from a uvicorn thread; the engine waits on its own event loop. The hub
is a lock-protected table of finished batches plus, per batch, the futures of those waiting:
``publish`` stores the BatchRun and wakes the futures with ``call_soon_threadsafe``. Finished
batches are kept (bounded, oldest dropped first) so an event that arrives before anyone waits,
which a fast batch makes likely, is not lost. Deliveries are deduplicated on ``eventId``.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import threading
from collections import OrderedDict
from collections.abc import Iterable
from typing import Any

from extend_frames._errors import InputError
from extend_frames.webhooks._events import WebhookEvent

__all__ = ["TERMINAL_BATCH_STATUSES", "WebhookHub", "WebhookStats"]

logger = logging.getLogger("extend_frames.webhooks")

TERMINAL_BATCH_STATUSES = frozenset({"PROCESSED", "FAILED", "CANCELLED"})


@dataclasses.dataclass(frozen=True, slots=True)
class WebhookStats:
    """Counters for observability: deliveries seen by the hub and by receivers feeding it.

    ``received``: events published (duplicates included); ``duplicates``: of those, repeats of
    an eventId already seen; ``rejected``: deliveries a receiver refused (bad signature, stale,
    malformed); ``batches_finished``: distinct batches known to be terminal; ``waiting``: waits
    in progress.
    """

    received: int
    duplicates: int
    rejected: int
    batches_finished: int
    waiting: int


class WebhookHub:
    """Thread-safe meeting point between webhook deliveries and jobs waiting for batches.

        >>> hub = WebhookHub()
        >>> payload = await hub.wait("bpr_123", timeout=60)   # doctest: +SKIP
        >>> # in any thread, e.g. the receiver's: hub.publish(event) wakes the wait above

    ``max_batches`` bounds the finished batches kept for late waiters, ``max_event_ids`` the
    eventIds remembered for deduplication; both drop the oldest entries first. Batches passed
    to :meth:`register` are kept until :meth:`completed` hands them out, whatever the bound.
    """

    def __init__(self, *, max_batches: int = 10_000, max_event_ids: int = 100_000) -> None:
        if max_batches < 1 or max_event_ids < 1:
            raise InputError("WebhookHub: max_batches and max_event_ids must be at least 1")
        self._max_batches = max_batches
        self._max_event_ids = max_event_ids
        self._lock = threading.Lock()
        self._seen: OrderedDict[str, None] = OrderedDict()
        self._finished: OrderedDict[str, dict[str, Any]] = OrderedDict()
        self._registered: set[str] = set()
        self._unclaimed: dict[str, dict[str, Any]] = {}
        self._waiters: dict[str, list[tuple[asyncio.AbstractEventLoop, asyncio.Future[Any]]]] = {}
        self._received = 0
        self._duplicates = 0
        self._rejected = 0
        self._batches_finished = 0

    def __repr__(self) -> str:
        s = self.stats()
        return (
            f"WebhookHub(received={s.received}, duplicates={s.duplicates}, "
            f"rejected={s.rejected}, batches_finished={s.batches_finished}, waiting={s.waiting})"
        )

    def seen(self, event_id: str) -> bool:
        """Whether an event with this eventId was already published."""
        with self._lock:
            return event_id in self._seen

    def publish(self, event: WebhookEvent) -> bool:
        """Record a verified event (from any thread); wake waiters if it ends a batch.

        Returns False for a duplicate eventId (ignored), True otherwise. Only batch events with
        an inline terminal BatchRun (PROCESSED, FAILED, CANCELLED) end a wait; the first terminal
        event of a batch wins, so a late or reordered delivery cannot change the outcome.
        """
        with self._lock:
            self._received += 1
            if event.event_id in self._seen:
                self._duplicates += 1
                return False
            self._seen[event.event_id] = None
            if len(self._seen) > self._max_event_ids:
                self._seen.popitem(last=False)
            batch_id, status = event.batch_id, event.batch_status
            if batch_id is None or status not in TERMINAL_BATCH_STATUSES:
                return True
            if self._lookup(batch_id) is not None:
                return True
            payload = dict(event.payload)
            self._batches_finished += 1
            self._remember(batch_id, payload)
            waiters = self._waiters.pop(batch_id, [])
        for loop, future in waiters:
            try:
                loop.call_soon_threadsafe(_resolve, future, payload)
            except RuntimeError:  # that loop is closed: its waiter is gone
                logger.debug("webhook hub: a waiter's event loop closed before batch %s", batch_id)
        return True

    def record_rejected(self) -> None:
        """Count a delivery a receiver refused (for :meth:`stats`)."""
        with self._lock:
            self._rejected += 1

    def get(self, batch_id: str) -> dict[str, Any] | None:
        """The terminal BatchRun of ``batch_id`` if an event for it arrived, else None (no wait)."""
        with self._lock:
            payload = self._lookup(batch_id)
            return dict(payload) if payload is not None else None

    async def wait(
        self,
        batch_id: str,
        timeout: float | None,  # noqa: ASYNC109 - the engine's contract: wait(batch_id, timeout)
    ) -> dict[str, Any] | None:
        """Wait for the terminal BatchRun of ``batch_id``; None after ``timeout`` seconds.

        Returns at once if the event arrived earlier. ``timeout=0`` only checks; None waits
        forever. Cancelling the wait is safe: the waiter is removed.
        """
        loop = asyncio.get_running_loop()
        with self._lock:
            payload = self._lookup(batch_id)
            if payload is not None:
                return dict(payload)
            if timeout is not None and timeout <= 0:
                return None
            future: asyncio.Future[dict[str, Any]] = loop.create_future()
            entry = (loop, future)
            self._waiters.setdefault(batch_id, []).append(entry)
        try:
            return dict(await asyncio.wait_for(future, timeout))
        except TimeoutError:
            return None
        finally:
            with self._lock:
                waiters = self._waiters.get(batch_id)
                if waiters is not None and entry in waiters:
                    waiters.remove(entry)
                    if not waiters:
                        del self._waiters[batch_id]

    def register(self, batch_ids: Iterable[str]) -> None:
        """Declare batches a caller will collect with :meth:`completed` (kept until then)."""
        with self._lock:
            for batch_id in batch_ids:
                self._registered.add(batch_id)
                payload = self._finished.pop(batch_id, None)
                if payload is not None:
                    self._unclaimed[batch_id] = payload

    def completed(self) -> dict[str, dict[str, Any]]:
        """Hand out the registered batches that finished since the last call (each once).

        A non-blocking, sync-friendly alternative to :meth:`wait`, e.g. for a polling loop
        that also listens to webhooks: ``for batch_id, run in hub.completed().items(): ...``
        """
        with self._lock:
            done = self._unclaimed
            self._unclaimed = {}
            self._registered.difference_update(done)
            for batch_id, payload in done.items():
                self._remember(batch_id, payload)  # still there for a later wait()/get()
        return {batch_id: dict(payload) for batch_id, payload in done.items()}

    def stats(self) -> WebhookStats:
        """A snapshot of the counters."""
        with self._lock:
            return WebhookStats(
                received=self._received,
                duplicates=self._duplicates,
                rejected=self._rejected,
                batches_finished=self._batches_finished,
                waiting=sum(len(w) for w in self._waiters.values()),
            )

    def _lookup(self, batch_id: str) -> dict[str, Any] | None:
        # Caller holds the lock.
        payload = self._unclaimed.get(batch_id)
        return payload if payload is not None else self._finished.get(batch_id)

    def _remember(self, batch_id: str, payload: dict[str, Any]) -> None:
        # Caller holds the lock. Registered batches wait for completed(); others are bounded.
        if batch_id in self._registered:
            self._unclaimed[batch_id] = payload
            return
        self._finished[batch_id] = payload
        if len(self._finished) > self._max_batches:
            self._finished.popitem(last=False)


def _resolve(future: asyncio.Future[Any], payload: dict[str, Any]) -> None:
    if not future.done():  # it may have timed out or been cancelled meanwhile
        future.set_result(payload)
