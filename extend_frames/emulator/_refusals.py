"""Seeded 4xx refusals (402 USAGE_BLOCKED, 403, 422) and an organisation credit balance.

``Faults(refusals={"402": 0.1, "403 GET": 0.5, "422 POST /extract_runs/batch": 1.0})`` answers
that share of requests (all, one category, or one route) with that status, drawn from the
fault seed like every other fault. ``Faults(credit_inputs=N)`` models an organisation that runs
out of credits: once N inputs (batch inputs plus single runs) were accepted, every RUN request
(run and batch creation) answers 402 USAGE_BLOCKED until credits are added with
``Emulator.add_credits()`` or ``POST /_emulator/credits``. A refused request creates nothing.
The codes on 403 and 422 are not documented by Extend (docs/extend-api.md#unconfirmed): FORBIDDEN
and
INVALID_REQUEST are the emulator's choice.
"""

from __future__ import annotations

import itertools
import re
import threading
from collections.abc import Mapping

from ._errors import ApiError
from ._faults import chance

_BODIES: dict[int, tuple[str, str]] = {
    402: (
        "USAGE_BLOCKED",
        "Organization usage is blocked due to insufficient credits. Add credits to continue.",
    ),
    403: ("FORBIDDEN", "This API key is not allowed to perform this request."),
    422: ("INVALID_REQUEST", "The request could not be processed."),
}


def refusal(status: int) -> ApiError:
    code, message = _BODIES[status]
    return ApiError(status, code, message)


class Refusals:
    """Decides, per request, whether to refuse it; thread-safe (the gate and operator use it)."""

    def __init__(self, seed: int, rates: Mapping[str, float], credit_inputs: int | None) -> None:
        self._seed = seed
        self._rules: list[tuple[int, str | None, re.Pattern[str] | None, float]] = []
        for key, rate in rates.items():
            status_text, _, scope = key.partition(" ")
            status = int(status_text)
            if status not in _BODIES:
                raise ValueError(f"refusals: status {status} is not one of {sorted(_BODIES)}")
            method, _, path = scope.partition(" ")
            if path:
                pattern = re.compile("^" + re.sub(r"\{[^}]+\}", "[^/]+", path) + "$")
                self._rules.append((status, method.upper(), pattern, rate))
            else:
                self._rules.append((status, method.upper() or None, None, rate))
        self._limit = credit_inputs
        self._lock = threading.Lock()
        self._index = itertools.count()
        self.any = bool(self._rules) or credit_inputs is not None

    def add_credits(self, inputs: int | None, accepted: int) -> int | None:
        """Allow ``inputs`` more inputs after the ``accepted`` ones (None: no limit again)."""
        with self._lock:
            self._limit = None if inputs is None else accepted + inputs
            return self._limit

    def check(self, method: str, path: str, category: str, accepted: int) -> ApiError | None:
        """The refusal for this request, or None; ``accepted`` = inputs accepted so far."""
        with self._lock:
            if category == "RUN" and self._limit is not None and accepted >= self._limit:
                return refusal(402)
        if not self._rules:
            return None
        n = next(self._index)
        for status, scope, pattern, rate in self._rules:
            if pattern is not None:
                applies = scope == method and bool(pattern.match(path))
            else:
                applies = scope is None or scope in (category, method)
            if applies and chance(self._seed, f"refuse-{status}", n) < rate:
                return refusal(status)
        return None
