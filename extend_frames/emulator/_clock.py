"""Time sources: the system clock, or a manual clock that only moves when a test says so.

Workers never call ``time.sleep``: they wait on a condition with a deadline from the clock,
so the manual clock can wake them when it is advanced.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime


class Clock:
    """Wall-clock seconds; ``wait`` blocks on ``cond`` until notified or ``deadline``."""

    manual = False

    def __init__(self) -> None:
        self._listeners: list[Callable[[], None]] = []

    def now(self) -> float:
        return time.time()

    def wait(self, cond: threading.Condition, deadline: float | None) -> None:
        """Called with ``cond`` held; returns on notify, at ``deadline`` or spuriously."""
        if deadline is None:
            cond.wait()
        else:
            cond.wait(max(0.0, deadline - self.now()))

    def on_advance(self, listener: Callable[[], None]) -> None:
        self._listeners.append(listener)


class ManualClock(Clock):
    """A clock that starts at the current time and moves only through ``advance``."""

    manual = True

    def __init__(self, start: float | None = None) -> None:
        super().__init__()
        self._now = time.time() if start is None else start
        self._lock = threading.Lock()

    def now(self) -> float:
        return self._now

    def wait(self, cond: threading.Condition, deadline: float | None) -> None:
        cond.wait()  # only a notify (new work, advance, stop) can move us

    def advance(self, seconds: float) -> float:
        with self._lock:
            self._now += max(0.0, seconds)
        for listener in self._listeners:
            listener()
        return self._now


def rfc3339(ts: float) -> str:
    """``2026-03-02T10:15:00.000Z`` (UTC, milliseconds), the wire format of timestamps."""
    dt = datetime.fromtimestamp(ts, tz=UTC)
    return dt.strftime("%Y-%m-%dT%H:%M:%S.") + f"{dt.microsecond // 1000:03d}Z"
