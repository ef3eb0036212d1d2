"""The engine's one clock: monotonic seconds for waits and deadlines, wall time for stamps.

Every wait of a job (batch polls, single-run polls, the reconcile grace, listings retried)
and every time written to the ledger comes from one :class:`JobClock`, built on the client's
clock (``client.retry.clock``, the one its rate limiter, backoff and retry budget use). Tests
give the client a :class:`~extend_frames.api.VirtualClock` and the whole job runs without
sleeping; ``max_wait`` is a deadline on the same clock.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from typing import Any

from extend_frames._errors import ExtendError
from extend_frames.api import Clock, MonotonicClock

__all__ = ["DeadlineReached", "JobClock", "clock_of", "iso", "parse_time"]


class DeadlineReached(ExtendError):  # noqa: N818 - a signal inside the engine
    """A wait reached the job's ``max_wait`` deadline (the engine catches it and leaves the
    chunk pending). Under :class:`ExtendError`, transient, so that if it ever escaped the
    engine it would still read as "rerun the same call later"."""

    TRANSIENT = True


class JobClock:
    """``now()`` (monotonic seconds of ``base``), ``wall()`` (UTC, moving with ``now``) and
    ``sleep()``, which stops at ``deadline`` (on ``now``'s scale) with :class:`DeadlineReached`.

    The wall time is the system's at construction plus the base clock's elapsed seconds, so a
    virtual clock moves the ledger's time stamps exactly as far as it moves its waits.
    """

    __slots__ = ("_origin", "_wall0", "base", "deadline")

    def __init__(self, base: Clock | None = None, *, deadline: float | None = None) -> None:
        self.base: Clock = base or MonotonicClock()
        self.deadline = deadline
        self._origin = self.base.now()
        self._wall0 = datetime.fromtimestamp(time.time(), UTC)

    def now(self) -> float:
        return self.base.now()

    def wall(self) -> datetime:
        return self._wall0 + timedelta(seconds=self.base.now() - self._origin)

    def left(self) -> float | None:
        """Seconds to the deadline (None: no deadline)."""
        return None if self.deadline is None else self.deadline - self.now()

    def at_wall(self, when: datetime) -> float:
        """The ``now()`` value of a wall time (e.g. a POST recorded by an earlier process)."""
        return self.now() - max(0.0, (self.wall() - when).total_seconds())

    async def sleep(self, seconds: float) -> None:
        left = self.left()
        if left is not None and seconds >= left:
            await self.base.sleep(max(0.0, left))
            raise DeadlineReached
        await self.base.sleep(seconds)

    def with_deadline(self, deadline: float | None) -> JobClock:
        clock = JobClock(self.base, deadline=deadline)
        clock._origin, clock._wall0 = self._origin, self._wall0
        return clock

    def __repr__(self) -> str:
        return f"JobClock({self.base!r}, deadline={self.deadline})"


def clock_of(client: Any) -> Clock:
    """The client's clock (its retry policy's), or the real one."""
    return getattr(getattr(client, "retry", None), "clock", None) or MonotonicClock()


def iso(at: datetime) -> str:
    return at.isoformat().replace("+00:00", "Z")


def parse_time(value: Any) -> datetime | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
