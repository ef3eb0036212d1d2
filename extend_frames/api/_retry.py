"""Retry decisions (a pure function), the backoff, the retry budget and Retry-After parsing.

Extend has no idempotency key, so whether a failed request may be sent again depends on
what it does (:class:`RequestKind`) and on whether it provably never reached the server
(:class:`Failure`). :func:`decide` is the whole rule; the client only executes it.
"""

from __future__ import annotations

import enum
import math
import random
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

from extend_frames._errors import InputError
from extend_frames.api._clock import Clock, MonotonicClock

__all__ = [
    "Decision",
    "Failure",
    "RequestKind",
    "RetryBudget",
    "RetryPolicy",
    "decide",
    "parse_retry_after",
]


class RequestKind(enum.Enum):
    """What repeating a request would do."""

    READ = "read"  # GET: repeating is harmless
    DELETE = "delete"  # repeating is harmless (a second DELETE may answer 404)
    REPEATABLE = "repeatable"  # POST whose duplicate is harmless (file upload: an orphan file)
    CREATE = "create"  # POST that creates runs/batches/endpoints: a duplicate costs money or noise


class Failure(enum.Enum):
    """How a request failed without an HTTP response."""

    NOT_SENT = "not_sent"  # connect error/timeout, no free connection: the server never saw it
    AMBIGUOUS = "ambiguous"  # read/write timeout, connection dropped: it may have been processed


class Decision(enum.Enum):
    """What to do after a failed attempt."""

    RETRY = "retry"  # send again (subject to attempts, deadline and budget)
    FAIL = "fail"  # raise the mapped error now
    UNKNOWN = "unknown"  # a create may have been accepted: raise OutcomeUnknownError, never resend


_IDEMPOTENT = (RequestKind.READ, RequestKind.DELETE, RequestKind.REPEATABLE)


def decide(
    kind: RequestKind,
    *,
    status: int | None = None,
    retryable: bool | None = None,
    failure: Failure | None = None,
) -> Decision:
    """The retry rule for one failed attempt: an HTTP error ``status`` or a transport ``failure``.

    ``retryable`` is the error body's flag (``None`` when absent). Rules
    (docs/extend-api.md#retries):

    - not sent (connect error): retry, whatever the request;
    - 429: retry (the server rejected it before doing anything);
    - idempotent requests: retry ambiguous transport failures, 408, 5xx and ``retryable: true``,
      unless the body says ``retryable: false``;
    - creates: any ambiguous failure (dropped connection, timeout, 408, 5xx) is UNKNOWN;
      a 4xx is a rejection, retried only when the body says ``retryable: true``;
    - everything else (400, 401, 402, 403, 404, 422, ...) fails at once.

    >>> decide(RequestKind.CREATE, status=500)
    <Decision.UNKNOWN: 'unknown'>
    """
    if status is None:
        if failure is None:
            raise InputError("decide() needs a status or a failure")
        if failure is Failure.NOT_SENT or kind in _IDEMPOTENT:
            return Decision.RETRY
        return Decision.UNKNOWN
    if status == 429:
        return Decision.RETRY
    ambiguous = status == 408 or 500 <= status <= 599
    if kind is RequestKind.CREATE:
        if ambiguous:
            return Decision.UNKNOWN
        return Decision.RETRY if retryable is True and 400 <= status <= 499 else Decision.FAIL
    if retryable is False:
        return Decision.FAIL
    if ambiguous or retryable is True:
        return Decision.RETRY
    return Decision.FAIL


def parse_retry_after(
    value: str | None, *, now: datetime | None = None, cap: float = 60.0
) -> float | None:
    """Seconds to wait from a ``Retry-After`` value: delay-seconds or an HTTP date.

    Garbage (and negative numbers) gives ``None`` (fall back to backoff); a date in the past
    gives 0; anything above ``cap`` is capped, so a broken header cannot stall a job for hours.
    Fractional seconds are accepted (some servers send them).

    >>> parse_retry_after("2"), parse_retry_after("soon"), parse_retry_after("99999")
    (2.0, None, 60.0)
    """
    if value is None:
        return None
    text = value.strip()
    if not text:
        return None
    try:
        seconds = float(text)
    except ValueError:
        try:
            when = parsedate_to_datetime(text)
        except (TypeError, ValueError, IndexError):
            return None
        if when.tzinfo is None:
            when = when.replace(tzinfo=UTC)
        seconds = (when - (now or datetime.now(UTC))).total_seconds()
        seconds = max(0.0, seconds)
    if not math.isfinite(seconds) or seconds < 0:
        return None
    return min(seconds, cap)


class RetryBudget:
    """A process-wide allowance of retries, so a sick server is not hammered by every task.

    A token bucket: it holds at most ``capacity`` retries, refills ``per_second`` retries per
    second and ``ratio`` of a retry for every first attempt (so busy clients may retry more).
    Each retry spends one token; with none left the failure is raised instead. 429s are paced
    by the rate limiter and do not spend the budget. Thread-safe: one budget may be shared by
    clients on several event loops.
    """

    __slots__ = ("_lock", "_stamp", "_tokens", "capacity", "per_second", "ratio")

    def __init__(
        self, *, capacity: float = 100.0, per_second: float = 5.0, ratio: float = 0.1
    ) -> None:
        if capacity < 1 or per_second < 0 or ratio < 0:
            raise InputError(
                "RetryBudget needs capacity >= 1, per_second >= 0 and ratio >= 0; "
                f"got capacity={capacity}, per_second={per_second}, ratio={ratio}"
            )
        self.capacity = float(capacity)
        self.per_second = float(per_second)
        self.ratio = float(ratio)
        self._lock = threading.Lock()
        self._tokens = float(capacity)
        self._stamp: float | None = None

    def _refill(self, now: float) -> None:
        if self._stamp is not None and now > self._stamp:
            self._tokens = min(self.capacity, self._tokens + (now - self._stamp) * self.per_second)
        if self._stamp is None or now > self._stamp:
            self._stamp = now

    def record_attempt(self, now: float) -> None:
        """A first attempt was made: earn ``ratio`` of a retry."""
        with self._lock:
            self._refill(now)
            self._tokens = min(self.capacity, self._tokens + self.ratio)

    def try_spend(self, now: float) -> bool:
        """Take one retry; ``False`` when the budget is exhausted."""
        with self._lock:
            self._refill(now)
            if self._tokens >= 1.0:
                self._tokens -= 1.0
                return True
            return False

    def available(self, now: float) -> float:
        """Retries currently available (for logs and tests)."""
        with self._lock:
            self._refill(now)
            return self._tokens

    def __repr__(self) -> str:
        return (
            f"RetryBudget(capacity={self.capacity}, per_second={self.per_second}, "
            f"ratio={self.ratio})"
        )


# Why a module global: the budget is "process-wide" by design, shared by every client that
# does not bring its own, so that many clients in one process cannot multiply the retries a
# struggling server sees. It is thread-safe (its own lock) and a RetryPolicy may replace it.
_DEFAULT_BUDGET = RetryBudget()


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """How failed requests are retried: full-jitter exponential backoff under three caps.

    ``attempts`` caps the tries per request (first try included); ``deadline`` caps the seconds
    one operation may spend in total (waits included); ``budget`` caps retries process-wide.
    ``clock`` supplies ``now()`` and ``sleep()`` for every wait of the client (rate limiting
    too): pass :class:`~extend_frames.api.VirtualClock` in tests so nothing really sleeps.
    ``max_retry_after`` caps a server's ``Retry-After``.

    >>> RetryPolicy(attempts=3).backoff(2, rng=lambda: 1.0)
    1.0
    """

    attempts: int = 6
    base: float = 0.5
    cap: float = 30.0
    deadline: float = 300.0
    max_retry_after: float = 60.0
    budget: RetryBudget = field(default_factory=lambda: _DEFAULT_BUDGET)
    clock: Clock = field(default_factory=MonotonicClock)

    def __post_init__(self) -> None:
        if isinstance(self.attempts, bool) or not isinstance(self.attempts, int):
            raise InputError(f"RetryPolicy.attempts must be an int, got {self.attempts!r}")
        if self.attempts < 1:
            raise InputError(f"RetryPolicy.attempts must be >= 1, got {self.attempts}")
        for name in ("base", "cap", "deadline", "max_retry_after"):
            value = getattr(self, name)
            if not (isinstance(value, int | float) and math.isfinite(value) and value >= 0):
                raise InputError(f"RetryPolicy.{name} must be a number >= 0, got {value!r}")

    def backoff(self, attempt: int, *, rng: Callable[[], float] | None = None) -> float:
        """Wait after try ``attempt``: uniform in ``[0, min(cap, base * 2**(attempt-1))]``."""
        ceiling = min(self.cap, self.base * 2.0 ** max(0, attempt - 1))
        draw = rng() if rng is not None else random.random()  # noqa: S311 - jitter, not crypto
        return draw * ceiling
