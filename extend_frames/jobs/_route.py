"""Which endpoints a job goes through: one batch per chunk, or one single run per document.

Extend puts batches into a delayed queue with a lower priority than single runs, so a small job
waits for that queue while single runs start at once. Single runs cost one RUN request per
document (a batch: one per 1,000) and one run GET each while they are polled, so past some size
the batch is faster again. Measured on the emulator (``python -m benchmarks --only route``) with
a 5 s batch-queue delay, 1 s per run and PAYG limits (10 requests/s per category): single runs
are faster up to 50 documents (10.4 s vs 12.0 s) and slower from 75 (15.3 s vs 13.9 s; runs
on a loaded machine put the crossover between 50 and 100), and the crossover grows with the
RUN rate (single ~ 2n/rate, batch ~ delay + run time + n/rate).

So ``route="auto"`` sends a job through single runs when it has at most
``ROUTE_SECONDS x RUN rate`` documents to submit (PAYG: 50), capped at ``MAX_SINGLE`` (Scale
and Enterprise: 100; single runs are for small, interactive jobs, and Extend advises batches
for volume), and through batches otherwise.
"""

from __future__ import annotations

import math
from typing import Literal

from extend_frames._errors import InputError

Route = Literal["auto", "batch", "single"]
ROUTES: tuple[Route, ...] = ("auto", "batch", "single")

#: Seconds of RUN requests a job may spend on single-run POSTs under ``route="auto"``.
ROUTE_SECONDS = 5.0
#: The most documents ``route="auto"`` sends through single runs, whatever the plan.
MAX_SINGLE = 100


def single_threshold(run_rate: float) -> int:
    """The most documents ``route="auto"`` sends through single runs at this RUN rate.

    >>> single_threshold(10.0), single_threshold(25.0), single_threshold(0.5)
    (50, 100, 2)
    """
    return max(1, min(MAX_SINGLE, math.floor(ROUTE_SECONDS * run_rate)))


def choose_route(
    route: str, *, documents: int, run_rate: float, operation: str, has_text: bool
) -> Literal["batch", "single"]:
    """The concrete route of a job; InputError (before any request) for an impossible one.

    ``documents`` counts what would be submitted (distinct, valid references). Text inputs
    cannot go through single parse runs (the endpoint takes a URL or a file id only), so
    ``"auto"`` sends such a job through a batch.
    """
    if route not in ROUTES:
        raise InputError(f'route must be "auto", "batch" or "single", got {route!r}')
    text_blocked = has_text and operation == "parse"
    if route == "single":
        if text_blocked:
            raise InputError(
                'route="single" cannot send text to parse: single parse runs take a URL or a '
                'file id; use route="batch" (or "auto"), or pass files instead of text_column'
            )
        return "single"
    if route == "batch" or text_blocked:
        return "batch"
    return "single" if documents <= single_threshold(run_rate) else "batch"
