"""Seeded fault decisions: a pure function of (seed, stream, n), so scenarios replay exactly.

Each concern draws from its own stream ("request", "batch", "run", ...) indexed by a counter
that advances in request or creation order, never by thread timing.
"""

from __future__ import annotations

import hashlib
import re

from ._config import Faults


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
