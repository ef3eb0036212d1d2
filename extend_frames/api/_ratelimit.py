"""Client-side rate limiting: one adaptive pacer per Extend rate-limit category.

Each category (GET / WRITE / RUN, docs/extend-api.md#rate-limits) gets a :class:`Pacer`, shared by
every task of a
client on every thread and event loop (state behind a ``threading.Lock``; waits through the
injected clock). A pacer spaces requests ``1/rate`` apart (GCRA-style reservations, no
burst). A 429 can mean two different things, and the pacer keeps them apart:

- **"wait"**: a ``Retry-After`` *hold*. No request of the category starts before it has passed
  (requests already waiting for a slot re-queue behind it). A hold alone is not evidence that
  the server's steady limit is below our rate: an overloaded or restarting server (a *429
  storm*) answers every request 429 for a while, then accepts the full rate again. So the
  first 429 episode with a ``Retry-After`` only holds; so does any 429 to the first requests
  after a hold (nothing got through: the server is refusing everything, not metering us).
- **"slow down"**: the server's steady limit is lower than our rate. Evidence: a 429 without
  ``Retry-After``, or a second ``Retry-After`` episode that comes soon after sending resumed
  (within ``_SUSTAINED`` seconds) and after some requests got through, as a token bucket does.
  Then (adaptive) the pacer estimates the limit and cuts its rate to just below it. A server
  that limits with a token bucket of one second's capacity accepts ``limit * (T + b)``
  requests in the ``T`` seconds from the start of a sending window to its first 429, where
  ``b`` is how full its bucket was (one second after an idle period or a long enough pause).
  So the estimate is ``successes / (T + b)``; the cut is kept within 20-90 % of the rate that
  was too fast, so a server of another shape still converges, only in more steps. A 429
  without ``Retry-After`` and with nothing to measure (no success, or a window that ran at
  our rate for more than ``_SUSTAINED`` seconds) cuts by 30 %.

After a cut the rate recovers along a cubic curve (TCP CUBIC, botocore's adaptive mode): fast
and concave back to the last good rate ``w_max`` (the estimate after a measured cut, the rate
before the cut otherwise) within about a second, then convex probing above it, faster the
longer no 429 came, never above the configured rate.
"""

from __future__ import annotations

import enum
import threading

from extend_frames._operations import OPERATIONS
from extend_frames.api._clock import Clock

__all__ = ["Category", "Pacer", "category_for"]

# Seconds between two rate cuts: 429s answering requests sent before a cut are not news.
_EPISODE = 0.5
# Idle this long, the server's bucket is full again: start a new measuring window.
_IDLE = 1.0
# Retry-After episodes this soon after sending resumed (with successes in between), _CONFIRM
# of them in a row, show a steady limit: a token bucket refills during each hold, accepts a
# burst and refuses again; a storm does not behave like that for long.
_SUSTAINED = 3.0
_CONFIRM = 3
# The cubic's scale: the return to w_max takes cbrt((1 - beta) / _CUBIC) seconds (< 1.3 s).
_CUBIC = 0.4
_RUN_CREATE_PATHS = frozenset(spec.run_path for spec in OPERATIONS.values())


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
        now = clock.now()
        self._rate = float(rate)
        self._floor = min(1.0, self.limit)
        self._estimate: float | None = None  # the server's limit, as last measured
        self._tat = now  # theoretical arrival time of the next free slot
        self._blocked_until = float("-inf")
        self._epoch = 0  # bumped by every Retry-After: sleepers re-reserve their slot
        self._last_cut = float("-inf")
        self._last_episode = float("-inf")
        self._last_update = now
        self._w_max: float | None = None  # the last good rate the cubic returns to
        self._knee = 0.0  # seconds after the last cut at which the cubic reaches w_max
        self._strikes = 0  # Retry-After episodes in a row that only held, awaiting confirmation
        self.holds = 0  # Retry-After episodes that only held (no cut): storms, mostly
        self.cuts = 0  # rate cuts: evidence of a lower steady limit
        # the current measuring window: since when, how full the server's bucket was, successes
        self._window_start: float | None = None
        self._window_fill = 1.0
        self._window_ok = 0

    # -- state, all under the lock -----------------------------------------------------------

    def _recover(self, now: float) -> None:
        dt = max(0.0, now - self._last_update)
        self._last_update = now
        w_max = self._w_max
        if w_max is None or self._rate >= self.limit:
            return
        tau = now - self._last_cut
        if tau < self._knee:  # concave: fast return towards the last good rate
            self._rate = w_max * (1.0 + _CUBIC * (tau - self._knee) ** 3)
        else:  # convex: probe above it, faster the longer the server stayed happy
            calm = tau - self._knee
            self._rate = max(self._rate, w_max)
            self._rate += max(0.01 * w_max, 0.02) * (1.0 + calm / 10.0) * dt
        self._rate = max(self._floor, min(self._rate, self.limit))

    def _open_window(self, now: float, fill: float) -> None:
        self._window_start = now
        self._window_fill = fill
        self._window_ok = 0

    # -- public -------------------------------------------------------------------------------

    @property
    def rate(self) -> float:
        """The current target rate (requests/s)."""
        with self._lock:
            self._recover(self._clock.now())
            return self._rate

    @property
    def estimate(self) -> float | None:
        """The server's limit as last estimated from a 429 (``None`` before any cut)."""
        with self._lock:
            return self._estimate

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
                if self._window_start is None or self._tat < now - _IDLE:
                    self._open_window(max(now, self._blocked_until), 1.0)
                start = max(self._tat, now, self._blocked_until)
                self._tat = start + 1.0 / self._rate
                epoch = self._epoch
            if start > now:
                await self._clock.sleep(start - now)
            with self._lock:
                if epoch == self._epoch and self._clock.now() >= self._blocked_until:
                    return

    def on_success(self) -> None:
        """A response that was not a 429."""
        with self._lock:
            self._window_ok += 1

    def on_rate_limited(self, retry_after: float | None) -> None:
        """A 429: hold the category for ``retry_after`` seconds; (adaptive) slow down only on
        evidence of a lower steady limit (see the module docstring)."""
        with self._lock:
            now = self._clock.now()
            new_episode = now >= self._blocked_until and now - self._last_episode >= _EPISODE
            pause = retry_after if retry_after is not None and retry_after > 0 else 0.0
            if new_episode:
                self._last_episode = now
                if self.adaptive:
                    self._judge(now, held=pause > 0)
            if now + pause > self._blocked_until and pause > 0:
                self._blocked_until = now + pause
                self._epoch += 1
                self._tat = self._blocked_until
            if new_episode:
                # the next window starts when sending resumes; the server refills meanwhile
                self._open_window(max(now, self._blocked_until), min(1.0, pause))

    def _judge(self, now: float, *, held: bool) -> None:
        """One new 429 episode: a hold only, or a cut (the "wait" / "slow down" split)."""
        start = self._window_start if self._window_start is not None else now
        elapsed = max(0.0, now - start)
        if not held:  # no Retry-After: the server gives no pause, so we must slow down
            self._strikes = 0
            self._cut(now, elapsed)
        elif self._window_ok == 0:  # nothing got through since the hold: a storm, not a limit
            self._strikes = 0
            self.holds += 1
        elif elapsed >= _SUSTAINED:  # the server took our rate for a while: a fresh suspicion
            self._strikes = 1
            self.holds += 1
        else:  # limited again soon after resuming, with successes in between
            self._strikes += 1
            if self._strikes >= _CONFIRM:
                self._strikes = 0
                self._cut(now, elapsed)
            else:
                self.holds += 1

    def _cut(self, now: float, elapsed: float) -> None:
        self._recover(now)
        before = self._rate
        span = elapsed + self._window_fill
        measured = self._window_ok / span if span > 0 else 0.0
        if measured > 0 and elapsed < _SUSTAINED:
            # a 429 soon after sending started: the server's accepted rate is its limit;
            # settle just below it, then probe
            self._estimate = min(measured, before)
            self._rate = max(self._floor, min(0.9 * before, max(0.2 * before, 0.95 * measured)))
            self._w_max = self._rate
        else:
            # nothing to measure, or a long healthy window (the server took our rate for
            # seconds: no steady limit below it): back off 30 %, return along the cubic
            self._estimate = 0.7 * before
            self._rate = max(self._floor, 0.7 * before)
            self._w_max = before
        self._knee = ((1.0 - self._rate / self._w_max) / _CUBIC) ** (1.0 / 3.0)
        self.cuts += 1
        self._last_cut = now
        self._last_update = now

    def __repr__(self) -> str:
        return f"Pacer(limit={self.limit}, rate={self.rate:.2f}, adaptive={self.adaptive})"
