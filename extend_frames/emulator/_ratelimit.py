"""Per-category token buckets (GET / WRITE / RUN), as Extend limits requests per second.

``/files/upload`` counts as WRITE: it stores a file but starts no processing (Extend does not
say; docs/extend-api.md#unconfirmed). Buckets run on the monotonic clock, even under a manual
emulator clock,
because they model real request pacing.
"""

from __future__ import annotations

import math
import re
import time

from ._config import RateLimits

_RUN_POST = re.compile(r"^/(parse|extract|classify|split)(_runs(/batch)?)?/?$")


def category(method: str, path: str) -> str:
    """GET for reads, RUN for run/batch creation, WRITE for every other mutation."""
    if method in ("GET", "HEAD"):
        return "GET"
    if method == "POST" and _RUN_POST.match(path):
        return "RUN"
    return "WRITE"


class TokenBucket:
    """``rate`` tokens per second, burst of ``max(1, rate)``."""

    def __init__(self, rate: float) -> None:
        self.rate = rate
        self.capacity = max(1.0, rate)
        self.tokens = self.capacity
        self.stamp = time.monotonic()

    def take(self) -> float:
        """0.0 if a token was taken, else the seconds until one is available."""
        now = time.monotonic()
        self.tokens = min(self.capacity, self.tokens + (now - self.stamp) * self.rate)
        self.stamp = now
        if self.tokens >= 1.0:
            self.tokens -= 1.0
            return 0.0
        return (1.0 - self.tokens) / self.rate


class RateLimiter:
    def __init__(self, limits: RateLimits) -> None:
        self.buckets: dict[str, TokenBucket] = {}
        for name, rate in (("GET", limits.get), ("WRITE", limits.write), ("RUN", limits.run)):
            if rate:
                self.buckets[name] = TokenBucket(float(rate))

    def check(self, cat: str) -> int | None:
        """None when allowed, else the Retry-After seconds (at least 1)."""
        bucket = self.buckets.get(cat)
        if bucket is None:
            return None
        wait = bucket.take()
        return None if wait == 0.0 else max(1, math.ceil(wait))
