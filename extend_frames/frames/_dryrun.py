"""``xf.plan`` / ``--dry-run``: what a call would do and cost, before paying for it.

The counts come from the same planning the real call runs (keys, dedupe, chunks, cache lookup,
the output's ledger), so they match what it then does. Requests are counted per Extend
rate-limit category: RUN = one batch POST per batch; WRITE = one upload per local/fsspec file
to submit; GET = the processor read, one run GET per document to submit (runs that end FAILED
need none, so this assumes every run succeeds), and per batch at least one status poll and one
page of the run listing (more polls when a batch takes longer). The time is a lower bound:
the slowest of each category's requests at the client's rate, and the documents at the plan's
processing throughput (files per minute).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

#: Extend's processing throughput per plan (files per minute), by the plan's requests/s.
THROUGHPUT = {10.0: 80.0, 25.0: 120.0, 75.0: 300.0}


def files_per_minute(get_rate: float) -> float:
    """The plan throughput that goes with a client's rate limits (the preset it matches, else
    the smallest plan at least that fast, else Enterprise)."""
    for rate in sorted(THROUGHPUT):
        if get_rate <= rate:
            return THROUGHPUT[rate]
    return THROUGHPUT[max(THROUGHPUT)]


@dataclass(frozen=True, slots=True)
class Plan:
    """What a call would do (``xf.plan``); ``print(plan)`` shows it as a small table."""

    operation: str
    processor: str | None
    rows: int
    documents: int  # distinct valid documents
    invalid_rows: int  # rows that come back FAILED (INVALID_INPUT) without any request
    cache_hits: int  # documents answered by the cache
    done_in_output: int  # rows already collected in output= (a resume skips them)
    to_submit: int  # documents to submit
    uploads: int  # of those, local/fsspec files uploaded first
    batches: int
    requests: dict[str, int]  # per rate-limit category: at least this many (see module doc)
    seconds: float  # lower bound on the wall time
    files_per_minute: float
    credits: float | None  # estimate; None when there is no history to estimate from
    credits_basis: str
    retry_rows: int = 0  # mode="retry": rows whose runs will be submitted once more
    notes: tuple[str, ...] = field(default_factory=tuple)

    def __str__(self) -> str:
        head = f"extend {self.operation} plan" + (f" ({self.processor})" if self.processor else "")
        req = " / ".join(f"{k} {v:,}" for k, v in self.requests.items())
        credits = "unknown" if self.credits is None else f"{self.credits:,.1f}"
        per_minute = f"{self.files_per_minute:g} files/min"
        lines = [
            head,
            f"  rows                    {self.rows:,}",
            f"  distinct documents      {self.documents:,}",
            f"  invalid rows            {self.invalid_rows:,}",
            f"  cache hits              {self.cache_hits:,}",
            f"  already done in output  {self.done_in_output:,}",
            f"  documents to submit     {self.to_submit:,} ({self.uploads:,} uploads)",
            f"  batches                 {self.batches:,}",
            f"  requests (at least)     {req}",
            f"  time (lower bound)      {self.seconds:,.1f} s at {per_minute}",
            f"  credits (estimate)      {credits} ({self.credits_basis})",
        ]
        if self.retry_rows:
            lines.insert(7, f"  rows to retry           {self.retry_rows:,}")
        lines.extend(f"  note: {n}" for n in self.notes)
        return "\n".join(lines)


def requests_for(
    *, to_submit: int, uploads: int, batches: int, reads_processor: bool
) -> dict[str, int]:
    """Requests per category a call makes at least (see the module docstring)."""
    pages = batches  # one listing page per batch (batches hold at most 1,000 runs)
    return {
        "GET": int(reads_processor) + to_submit + batches + pages,
        "WRITE": uploads,
        "RUN": batches,
    }


def lower_bound(
    requests: dict[str, int], *, rates: dict[str, float], documents: int, per_minute: float
) -> float:
    """Seconds the call takes at least: its slowest rate-limited category or processing."""
    times = [n / rates[k] for k, n in requests.items() if n and rates.get(k)]
    times.append(documents / (per_minute / 60.0) if documents else 0.0)
    return max(times)


def estimate_credits(
    history: list[float], to_submit: int, processor: str | None
) -> tuple[float | None, str]:
    """Credits for ``to_submit`` documents from the credits of earlier runs (mean per run)."""
    where = f"of {processor}" if processor else "of this operation and config"
    if not history:
        return None, f"no history: no credits recorded {where} in the cache or output"
    mean = math.fsum(history) / len(history)
    return mean * to_submit, f"{mean:g} per document, from {len(history):,} earlier runs {where}"
