"""Time for the api layer: a real clock, and a virtual one that makes every wait instant.

Every wait in the client (rate limiting, retry backoff, Retry-After) goes through one
:class:`Clock`, so tests swap in :class:`VirtualClock` and never really sleep (stamina-style).
"""

from __future__ import annotations

import asyncio
import threading
import time
from typing import Protocol

__all__ = ["Clock", "MonotonicClock", "VirtualClock"]


class Clock(Protocol):
    """A monotonic time source and a matching async sleep (seconds, floats)."""

    def now(self) -> float:
        """Seconds on a monotonic scale."""
        ...

    async def sleep(self, seconds: float) -> None:
        """Wait ``seconds`` (or pretend to)."""
        ...


class MonotonicClock:
    """The real clock: ``time.monotonic`` and ``asyncio.sleep``."""

    __slots__ = ()

    def now(self) -> float:
        return time.monotonic()

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(max(0.0, seconds))

    def __repr__(self) -> str:
        return "MonotonicClock()"


class VirtualClock:
    """A clock whose sleeps return at once and move its time forward instead.

    ``now()`` starts at ``start`` and only advances by sleeping (or :meth:`advance`), so a
    test can check *how long* the client would have waited without waiting. Sleeps yield to
    the event loop once, so other tasks still interleave.
    """

    __slots__ = ("_lock", "_now", "slept")

    def __init__(self, start: float = 1000.0) -> None:
        self._lock = threading.Lock()
        self._now = start
        self.slept: list[float] = []  # every requested sleep, in order (for assertions)

    def now(self) -> float:
        with self._lock:
            return self._now

    def advance(self, seconds: float) -> None:
        """Move time forward by ``seconds`` without sleeping."""
        with self._lock:
            self._now += max(0.0, seconds)

    async def sleep(self, seconds: float) -> None:
        with self._lock:
            self.slept.append(seconds)
            self._now += max(0.0, seconds)
        await asyncio.sleep(0)

    def __repr__(self) -> str:
        return f"VirtualClock(now={self.now():.3f})"
