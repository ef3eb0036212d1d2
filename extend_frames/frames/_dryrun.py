"""``xf.plan`` / ``--dry-run``: what a call would do and cost, before paying for it.

The counts come from the same code the real call runs: the same preparation (keys, dedupe,
chunks, cache lookup, route, pinned version: ``frames/_prepare.py``), the same folded ledger,
and the engine's own ``next_step`` walked per chunk (``jobs/_forecast.py``), so on any output
(fresh, half-submitted, with open intents, failed rows to retry, cached rows) the plan lists
the steps the call will take. Open intents are listed once (read-only) to see which keys a
resume adopts. Requests are counted per Extend rate-limit category (``jobs/_forecast.py``:
RUN and WRITE exactly, when no request fails; GET at least, plus the processor read). Runs
that end FAILED need no GET, so this assumes every run succeeds. The time is a lower bound:
the slowest of each category's requests at the client's rate, and the documents at the plan's
processing throughput (files per minute).
"""

from __future__ import annotations

import asyncio
import math
from dataclasses import dataclass, field

import polars as pl

from extend_frames._columns import CACHED, CREDITS, ERROR, STATUS, UNIT
from extend_frames.api import Client
from extend_frames.frames._options import Options
from extend_frames.frames._plan import JobPlan
from extend_frames.frames._prepare import Prepared, job_state, prepare
from extend_frames.frames._retry import retry_keys
from extend_frames.jobs import Situation
from extend_frames.jobs._forecast import Forecast, forecast, listed_keys
from extend_frames.store import ChunkState, JobStore, empty_state

#: Extend's processing throughput per plan (files per minute), by the plan's requests/s.
THROUGHPUT = {10.0: 80.0, 25.0: 120.0, 75.0: 300.0}


def files_per_minute(get_rate: float) -> float:
    """The plan throughput that goes with a client's rate limits (the preset it matches, else
    the smallest plan at least that fast, else Enterprise)."""
    for rate in sorted(THROUGHPUT):
        if get_rate <= rate:
            return THROUGHPUT[rate]
    return THROUGHPUT[max(THROUGHPUT)]


@dataclass(frozen=True, slots=True, repr=False)
class Plan:
    """What a call would do (``xf.plan``); its repr (and ``print``) is a small table."""

    operation: str
    processor: str | None
    route: str  # "batch" or "single": the endpoints the call would go through
    rows: int
    documents: int  # distinct valid documents
    invalid_rows: int  # rows that come back FAILED (INVALID_INPUT) without any request
    cache_hits: int  # documents answered by the cache
    done_in_output: int  # rows already collected in output= (a resume skips them)
    to_submit: int  # documents to submit
    uploads: int  # of those, local/fsspec files uploaded first
    batches: int  # 0 on the single route
    requests: dict[str, int]  # per rate-limit category: at least this many (see module doc)
    seconds: float  # lower bound on the wall time
    files_per_minute: float
    credits: float | None  # estimate; None when there is no history to estimate from
    credits_basis: str
    retry_rows: int = 0  # mode="retry": rows whose runs will be submitted once more
    reconciles: int = 0  # open intents a resume settles first (listing the runs they made)
    adopted: int = 0  # of their documents, those already submitted (not sent again)
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
            f"  route                   {self.route}",
            f"  batches                 {self.batches:,}",
            f"  requests (at least)     {req}",
            f"  time (lower bound)      {self.seconds:,.1f} s at {per_minute}",
            f"  credits (estimate)      {credits} ({self.credits_basis})",
        ]
        if self.retry_rows:
            lines.insert(7, f"  rows to retry           {self.retry_rows:,}")
        lines.extend(f"  note: {n}" for n in self.notes)
        return "\n".join(lines)

    def __repr__(self) -> str:
        return str(self)


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


async def dry_run(plan: JobPlan, options: Options, *, files_per_minute: float | None) -> Plan:
    """What ``execute(plan, options)`` would do, reading only the processor, cache and output."""
    client = options.client or Client()
    store = None
    if options.output is not None:
        store = JobStore.open(options.output, storage_options=options.store_options)
    manifest = None
    if store is not None and options.mode != "overwrite":
        manifest = await asyncio.to_thread(store.read_manifest)
    history: dict[int, ChunkState] = {}
    done: set[int] = set()
    retry: dict[int, list[str]] = {}
    past: list[float] = []
    found: set[str] = set()
    try:
        run = await prepare(plan, options, client, manifest=manifest)
        if run.cache is not None:
            run.cache.writer.close()  # nothing queued: a plan writes nothing
        if store is not None and manifest is not None:
            expected = {**plan.identity, "processor_version": run.version}
            await asyncio.to_thread(store.check_manifest, expected)
            history, done = await job_state(run, store)
            if options.mode == "retry":
                retry = await asyncio.to_thread(retry_keys, store, plan.rows, done)
            past = await asyncio.to_thread(_stored_credits, store)
            found = await listed_keys(client, run.spec(str(manifest["job_id"])), history)
    finally:
        await client.aclose()
    steps = Forecast()
    for chunk in run.chunks():
        situation = Situation(
            route=run.route,
            failed={u.key for u in chunk.units if u.failure is not None},
            may_wait=options.wait_seconds != 0,
            has_part=chunk.index in done,
            retry=tuple(retry.get(chunk.index, ())),
        )
        state = history.get(chunk.index) or empty_state(chunk.index)
        steps += forecast(state, chunk, situation, found=found)
    return _count(run, steps, done, retry, past, files_per_minute)


def _count(
    run: Prepared,
    steps: Forecast,
    done: set[int],
    retry: dict[int, list[str]],
    past: list[float],
    per_minute: float | None,
) -> Plan:
    plan = run.plan
    hits = run.cache.hit_units if run.cache is not None else set()
    documents = sum(1 for c in plan.chunks for u in c.units if u.failure is None)
    rows_by_unit = plan.rows.group_by(UNIT).len()
    retry_rows = int(
        rows_by_unit.filter(pl.col(UNIT).is_in([k for ks in retry.values() for k in ks]))
        .get_column("len")
        .sum()
    )
    rates = _rates(run.client)
    requests = dict(steps.requests)
    requests["GET"] += plan.processor_id is not None
    fpm = per_minute or files_per_minute(rates["GET"])
    seconds = lower_bound(requests, rates=rates, documents=steps.to_submit, per_minute=fpm)
    name = f"{plan.processor_id}@{run.version}" if plan.processor_id else None
    cache_credits = run.cache.history() if run.cache is not None else []
    credits, basis = estimate_credits(cache_credits + past, steps.to_submit, name)
    invalid = int(plan.rows.get_column(ERROR).is_not_null().sum())
    return Plan(
        operation=plan.operation,
        processor=name,
        route=run.route,
        rows=plan.rows.height,
        documents=documents,
        invalid_rows=invalid,
        cache_hits=len(hits),
        done_in_output=sum(len(run.rows_by_chunk[i]) for i in done),
        requests=requests,
        seconds=seconds,
        files_per_minute=fpm,
        credits=credits,
        credits_basis=basis,
        retry_rows=retry_rows,
        **{name: getattr(steps, name) for name in _FROM_STEPS},
    )


#: The Plan fields the forecast of the engine's steps gives.
_FROM_STEPS = ("to_submit", "uploads", "batches", "reconciles", "adopted")


def _rates(client: Client) -> dict[str, float]:
    limits = client.rate_limits
    return {"GET": limits.get, "WRITE": limits.write, "RUN": limits.run}


def _stored_credits(store: JobStore) -> list[float]:
    """Credits of the output's PROCESSED rows that this job paid for (not cache hits)."""
    if not store.parts():
        return []
    lazy = store.scan().filter(pl.col(STATUS) == "PROCESSED")
    if CACHED in lazy.collect_schema():
        lazy = lazy.filter(~pl.col(CACHED))
    credits = lazy.select(pl.col(CREDITS).drop_nulls()).collect()
    return [float(c) for c in credits.get_column(CREDITS).to_list()]
