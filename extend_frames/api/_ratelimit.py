"""Client-side rate limiting: one adaptive pacer per Extend rate-limit category.

Each category (GET / WRITE / RUN, SPEC §3) gets a :class:`Pacer`, shared by every task of a
client on every thread and event loop (state behind a ``threading.Lock``; waits through the
injected clock). A pacer spaces requests ``1/rate`` apart (GCRA-style reservations, no burst),
and on a 429:

- honours ``Retry-After``: no request of the category starts before it has passed;
- (adaptive) cuts its rate multiplicatively towards the rate the server actually accepted
  over the last second, so a limit the client was not told about is found in a few seconds;
- then recovers additively: quickly back to 95 % of the rate that triggered the 429, then
  slowly above it (probing whether the limit was raised), never above the configured rate.
"""

from __future__ import annotations

import collections
import enum
import threading

from extend_frames.api._clock import Clock

__all__ = ["Category", "Pacer", "category_for"]

# Seconds between two rate cuts: 429s answering requests sent before a cut are not new news.
_EPISODE = 0.5
# Window over which the accepted rate is measured when a 429 arrives.
_WINDOW = 1.0
_RUN_CREATE_PATHS = frozenset({"/parse_runs", "/extract_runs", "/classify_runs", "/split_runs"})


class Category(enum.Enum):
    """Extend's rate-limit categories."""

    GET = "get"
    WRITE = "write"
    RUN = "run"


def category_for(method: str, path: str) -> Category:
    """The category a request counts against.

    GET -> GET. Requests that submit files for processing (``POST /*_runs/batch`` and single
    run creation) -> RUN. Every other mutation -> WRITE: uploads (they store a file, they do not
    process it; Extend leaves this unconfirmed), webhook endpoints, deletes, and run cancels
    (a cancel stops processing rather than starting it, so it is not RUN).

    >>> category_for("POST", "/extract_runs/batch").value
    'run'
    """
    if method.upper() == "GET":
        return Category.GET
    if method.upper() == "POST" and (path.endswith("/batch") or path in _RUN_CREATE_PATHS):
        return Category.RUN
    return Category.WRITE


class Pacer:
    """Paces one category at ``rate`` requests/s, adapting to 429s (see module docstring)."""

    def __init__(self, rate: float, *, clock: Clock, adaptive: bool = True) -> None:
        self.limit = float(rate)
        self.adaptive = adaptive
        self._clock = clock
        self._lock = threading.Lock()
        self._rate = float(rate)
        self._floor = min(1.0, self.limit)
        self._ceiling: float | None = None  # rate at which the server last said 429
        self._tat = clock.now()  # theoretical arrival time of the next free slot
        self._blocked_until = float("-inf")
        self._epoch = 0  # bumped by every Retry-After: sleepers re-reserve their slot
        self._last_cut = float("-inf")
        self._last_update = clock.now()
        self._successes: collections.deque[float] = collections.deque()

    # -- state, all under the lock -----------------------------------------------------------

    def _recover(self, now: float) -> None:
        dt = max(0.0, now - self._last_update)
        self._last_update = now
        if self._ceiling is None or self._rate >= self.limit:
            return
        knee = 0.95 * self._ceiling
        if self._rate < knee:
            self._rate = min(knee, self._rate + 0.5 * self._ceiling * dt)
        else:
            self._rate += max(0.05 * self._ceiling, 0.1) * dt
        self._rate = min(self._rate, self.limit)

    def _accepted_rate(self, now: float) -> float | None:
        while self._successes and self._successes[0] < now - _WINDOW:
            self._successes.popleft()
        start = max(now - _WINDOW, self._blocked_until)
        span = now - start
        if span < 0.2:
            return None
        return sum(1 for t in self._successes if t >= start) / span

    # -- public -------------------------------------------------------------------------------

    @property
    def rate(self) -> float:
        """The current target rate (requests/s)."""
        with self._lock:
            self._recover(self._clock.now())
            return self._rate

    @property
    def blocked_until(self) -> float:
        """Clock time before which no request of this category starts."""
        with self._lock:
            return self._blocked_until

    async def acquire(self) -> None:
        """Wait for this request's slot (and past any Retry-After that arrives meanwhile)."""
        while True:
            with self._lock:
                now = self._clock.now()
                self._recover(now)
                start = max(self._tat, now, self._blocked_until)
                self._tat = start + 1.0 / self._rate
                epoch = self._epoch
            if start > now:
                await self._clock.sleep(start - now)
            with self._lock:
                if epoch == self._epoch and self._clock.now() >= self._blocked_until:
                    return

    def on_success(self) -> None:
        """A response that was not a 429 (it counts towards the accepted rate)."""
        with self._lock:
            now = self._clock.now()
            self._successes.append(now)
            if len(self._successes) > 4 * self.limit + 64:
                self._successes.popleft()

    def on_rate_limited(self, retry_after: float | None) -> None:
        """A 429: block the category for ``retry_after`` seconds and (adaptive) slow down."""
        with self._lock:
            now = self._clock.now()
            if retry_after is not None and retry_after > 0:
                until = now + retry_after
                if until > self._blocked_until:
                    self._blocked_until = until
                    self._epoch += 1
                    self._tat = until
            if not self.adaptive or now - self._last_cut < _EPISODE:
                return
            self._recover(now)
            accepted = self._accepted_rate(now)
            before = self._rate
            if accepted is not None and accepted > 0:
                self._ceiling = accepted
                cut = min(before * 0.9, 0.95 * accepted)
            else:
                self._ceiling = before
                cut = before * 0.7
            self._rate = max(self._floor, cut)
            self._last_cut = now
            self._last_update = now

    def __repr__(self) -> str:
        return f"Pacer(limit={self.limit}, rate={self.rate:.2f}, adaptive={self.adaptive})"
