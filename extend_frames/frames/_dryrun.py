"""``xf.plan`` / ``--dry-run``: what a call would do and cost, before paying for it.

The counts come from the same planning the real call runs (keys, dedupe, chunks, cache lookup,
the output's ledger, and the route ``jobs/_route.py`` picks through the same ``_route`` call),
so they match what it then does. Requests are counted per Extend rate-limit category, by route.
Batches: RUN = one batch POST per batch; GET = the processor read, one run GET per document to
submit (runs that end FAILED need none, so this assumes every run succeeds), and per batch at
least one status poll and one page of the run listing (more polls when a batch takes longer).
Single runs: RUN = one run POST per document; GET = the processor read and at least one poll
per run (its last poll is the run's body), no batch and no listing. Both: WRITE = one upload
per local/fsspec file to submit. The time is a lower bound:
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
from extend_frames.frames._plan import Plan as JobPlan
from extend_frames.frames._retry import retry_keys
from extend_frames.frames._run import _Run, prepare, state
from extend_frames.jobs import ChunkHistory
from extend_frames.store import JobStore

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


def requests_for(
    *, route: str, to_submit: int, uploads: int, batches: int, reads_processor: bool
) -> dict[str, int]:
    """Requests per category a call makes at least (see the module docstring)."""
    if route == "single":
        return {"GET": int(reads_processor) + to_submit, "WRITE": uploads, "RUN": to_submit}
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


async def dry_run(plan: JobPlan, options: Options, *, files_per_minute: float | None) -> Plan:
    """What ``execute(plan, options)`` would do, reading only the processor, cache and output."""
    client = options.client or Client()
    try:
        run = await prepare(plan, options, client)
    finally:
        await client.aclose()
    if run.cache is not None:
        run.cache.writer.close()  # nothing queued: a plan writes nothing
    history: dict[int, ChunkHistory] = {}
    done: set[int] = set()
    retry: dict[int, list[str]] = {}
    past: list[float] = []
    store = (
        None
        if options.output is None
        else JobStore.open(options.output, storage_options=options.store_options)
    )
    if store is not None and options.mode != "overwrite" and store.read_manifest() is not None:
        store.check_manifest({**plan.identity, "processor_version": run.version})
        history, done = await state(run, store)
        if options.mode == "retry":
            retry = await asyncio.to_thread(retry_keys, store, plan.rows, done)
        past = _stored_credits(store)
    return _count(run, history, done, retry, past, files_per_minute)


def _count(
    run: _Run,
    history: dict[int, ChunkHistory],
    done: set[int],
    retry: dict[int, list[str]],
    past: list[float],
    per_minute: float | None,
) -> Plan:
    plan = run.plan
    hits = run.cache.hit_units if run.cache is not None else set()
    documents = sum(1 for c in plan.chunks for u in c.units if u.failure is None)
    to_submit = uploads = batches = waiting = waited_runs = 0
    for chunk in run.chunks():
        if chunk.index in done:
            continue
        h = history.get(chunk.index, ChunkHistory())
        covered = h.covered()
        todo = [u for u in chunk.units if u.failure is None and u.key not in covered]
        to_submit += len(todo)
        uploads += sum(1 for u in todo if u.path is not None and u.key not in h.file_ids)
        batches += bool(todo) and run.route == "batch"
        waiting += len(h.batches)
        waited_runs += len(covered)
    retry_docs = sum(map(len, retry.values()))
    rows_by_unit = plan.rows.group_by(UNIT).len()
    retry_rows = int(
        rows_by_unit.filter(pl.col(UNIT).is_in([k for ks in retry.values() for k in ks]))
        .get_column("len")
        .sum()
    )
    rates = _rates(run.client)
    if run.route == "batch":
        batches += len(retry)
    requests = requests_for(
        route=run.route,
        to_submit=to_submit + retry_docs,
        uploads=uploads,
        batches=batches,
        reads_processor=plan.processor_id is not None,
    )
    requests["GET"] += waited_runs + 2 * waiting
    fpm = per_minute or files_per_minute(rates["GET"])
    seconds = lower_bound(requests, rates=rates, documents=to_submit + retry_docs, per_minute=fpm)
    name = f"{plan.processor_id}@{run.version}" if plan.processor_id else None
    cache_credits = run.cache.history() if run.cache is not None else []
    credits, basis = estimate_credits(cache_credits + past, to_submit + retry_docs, name)
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
        to_submit=to_submit + retry_docs,
        uploads=uploads,
        batches=batches,
        requests=requests,
        seconds=seconds,
        files_per_minute=fpm,
        credits=credits,
        credits_basis=basis,
        retry_rows=retry_rows,
    )


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
