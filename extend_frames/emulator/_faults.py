"""Seeded fault decisions: a pure function of (seed, stream, n), so scenarios replay exactly.

Each concern draws from its own stream ("request", "batch", "run", ...) indexed by a counter
that advances in request or creation order, never by thread timing.
"""

from __future__ import annotations

import asyncio
import hashlib
import heapq
import itertools
import logging
import re
import threading
from collections.abc import Callable
from typing import TypeVar

from ._clock import Clock
from ._config import Faults, Storm
from ._errors import ApiError

T = TypeVar("T")
log = logging.getLogger("extend_frames.emulator")


def chance(seed: int, stream: str, n: int | str) -> float:
    """A uniform number in [0, 1) determined by its arguments."""
    digest = hashlib.blake2b(f"{seed}:{stream}:{n}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") / 2**64


class ErrorRates:
    """Resolves the 5xx share of one request: route key, then category, then the global rate."""

    def __init__(self, faults: Faults) -> None:
        self.default = faults.error_rate
        self.categories: dict[str, float] = {}
        self.routes: list[tuple[str, re.Pattern[str], float]] = []
        for key, rate in faults.error_rates.items():
            if " " in key:
                method, path = key.split(" ", 1)
                pattern = re.compile("^" + re.sub(r"\{[^}]+\}", "[^/]+", path) + "$")
                self.routes.append((method.upper(), pattern, rate))
            else:
                self.categories[key.upper()] = rate
        self.any = bool(self.default or self.categories or self.routes)

    def rate(self, method: str, path: str, category: str) -> float:
        for m, pattern, rate in self.routes:
            if m == method and pattern.match(path):
                return rate
        return self.categories.get(category, self.default)


class Deferred:
    """Runs callbacks at a time on the emulator's clock: a timer thread under the system
    clock, the next ``advance`` past that time under the manual clock."""

    def __init__(self, clock: Clock) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self._due: list[tuple[float, int, Callable[[], None]]] = []
        self._seq = itertools.count()
        self._timers: set[threading.Timer] = set()
        clock.on_advance(self.run_due)

    def at(self, when: float, fn: Callable[[], None]) -> None:
        with self._lock:
            heapq.heappush(self._due, (when, next(self._seq), fn))
        if not self._clock.manual:
            timer = threading.Timer(max(0.0, when - self._clock.now()), self.run_due)
            timer.daemon = True
            with self._lock:
                self._timers.add(timer)
            timer.start()

    def run_due(self) -> None:
        """Run every callback whose time has come (in time order)."""
        while True:
            with self._lock:
                self._timers = {t for t in self._timers if t.is_alive()}
                if not self._due or self._due[0][0] > self._clock.now():
                    return
                _, _, fn = heapq.heappop(self._due)
            try:
                fn()
            except Exception:  # a deferred commit must not kill the timer or the caller
                log.exception("emulator: a deferred callback failed")

    def cancel(self) -> None:
        """Drop what has not run yet (the emulator is stopping)."""
        with self._lock:
            self._due.clear()
            timers, self._timers = self._timers, set()
        for timer in timers:
            timer.cancel()


class LateCommits:
    """The late-commit fault (see :class:`Faults`): decides per create-POST, in arrival order,
    and runs the commit later through :class:`Deferred`."""

    def __init__(self, faults: Faults, clock: Clock, deferred: Deferred) -> None:
        self.faults = faults
        self.clock = clock
        self.deferred = deferred
        self._index = itertools.count()

    def applies(self) -> bool:
        rate = self.faults.late_commit_rate
        return bool(rate) and chance(self.faults.seed, "late", next(self._index)) < rate

    async def commit(self, commit: Callable[[], T]) -> T:
        """Commit later: raise 504 now (``"504"``) or answer once committed (``"hold"``)."""
        when = self.clock.now() + self.faults.late_commit_seconds
        if self.faults.late_commit_answer == "504":

            def later() -> None:
                commit()

            self.deferred.at(when, later)
            raise ApiError(
                504, "GATEWAY_TIMEOUT", "The gateway timed out waiting for the server.",
                retryable=True,
            )  # fmt: skip
        loop = asyncio.get_running_loop()
        answer: asyncio.Future[T] = loop.create_future()

        def resolve(result: T) -> None:
            if not answer.done():  # the handler may have been cancelled meanwhile
                answer.set_result(result)

        def run() -> None:
            loop.call_soon_threadsafe(resolve, commit())

        self.deferred.at(when, run)
        return await answer


class Storms:
    """Which 429 storm (if any) covers a request of ``category`` now."""

    def __init__(self, faults: Faults, clock: Clock) -> None:
        self.storms = faults.storms
        self.clock = clock
        self.started = clock.now()

    def active(self, category: str) -> Storm | None:
        if not self.storms:
            return None
        t = self.clock.now() - self.started
        for storm in self.storms:
            if category in storm.categories and storm.start <= t < storm.start + storm.seconds:
                return storm
        return None
