"""Scenario 1, the batch flow: N text inputs through a rate-limited, throughput-limited emulator.

Three contenders, each against a fresh emulator subprocess with the same limits:

- ``extend_frames``: ``xf.extract`` with the limits passed as ``xf.RateLimits`` and the default
  ``Polling()`` and ``Concurrency()`` (what a user gets without tuning).
- ``extend_frames_scaled_polling``: the same with the default ``Polling()`` schedule divided by
  the time compression (the emulator processes ``files_per_minute / 300`` times faster than
  Extend's Enterprise throughput of 300 files/min, so a 2 s..30 s schedule becomes
  proportionally shorter): what the defaults do at real-world time scales.
- ``sdk_per_file``: the official ``extend-ai`` SDK, ``extract_runs.create_and_poll`` per file in
  a thread pool (the common approach; one single run per file, SDK polling and 429 retries).
- ``sdk_batch_script``: a careful hand-written script on the SDK's batch endpoints: chunks of
  1,000 submitted up front, ``batch_runs.get`` every 2 s, ``extract_runs.list(batch_id=...)``
  then ``extract_runs.retrieve`` for each run in a thread pool. No rate-limit knowledge: it
  relies on the SDK's 429 retries (2 retries, then an exception, counted as a lost file).

The lower bound is what the limits impose on any client that must GET every run (outputs are
only in the full run): processing takes ``P = N / files_per_minute``; GETs take
``G = (N + polls + lists) / get_rate`` with the minimum of one poll and one list page per batch.
Neither end of the pipeline can overlap: the first batch must finish before its runs can be
fetched, and the last batch's runs can only be fetched after processing ends. So
``bound = max(P + b / get_rate, G + b / files_per_second)`` with ``b`` the batch size.
"""

from __future__ import annotations

import math
import resource
import threading
import time
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import polars as pl

import extend_frames as xf
from benchmarks._common import (
    EmulatorProcess,
    emulator,
    invoice_texts,
    requests_by_category,
    sdk_per_file,
)
from extend_frames.emulator.samples import INVOICE_EXTRACTOR_CONFIG

Errors = Counter[str]  # exceptions that lost a file, by "Type status"
ENTERPRISE_FILES_PER_MINUTE = 300.0  # Extend's documented Enterprise processor throughput


@dataclass(frozen=True, slots=True)
class FlowSetup:
    """The scenario's size and the (scaled-up) plan limits the emulator enforces."""

    files: int
    batch_size: int = 1000
    files_per_minute: float = 6000.0
    rate: float = 100.0  # requests per second, each of GET / RUN / WRITE
    sdk_threads: int = 64  # per-file contender's thread pool
    fetch_threads: int = 16  # batch script's pool for run GETs

    def emulator_args(self) -> list[str]:
        return [
            *("--files-per-minute", f"{self.files_per_minute:g}"),
            *("--rate-limit", f"{self.rate:g}"),  # one number: every category
        ]

    @property
    def compression(self) -> float:
        """How much faster than Extend's Enterprise throughput (300 files/min) this runs."""
        return self.files_per_minute / ENTERPRISE_FILES_PER_MINUTE

    def scaled_polling(self) -> xf.Polling:
        default = xf.Polling()
        return xf.Polling(
            initial=default.initial / self.compression,
            factor=default.factor,
            maximum=default.maximum / self.compression,
            jitter=default.jitter,
        )

    def lower_bound(self) -> dict[str, float]:
        n, b = self.files, min(self.batch_size, self.files)
        batches = math.ceil(n / b)
        per_second = self.files_per_minute / 60
        processing = n / per_second
        gets = (n + 2 * batches) / self.rate
        bound = max(processing + b / self.rate, gets + b / per_second)
        return {"processing_s": processing, "get_s": gets, "bound_s": bound}


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _run_library(
    emu: EmulatorProcess, ex: str, texts: list[str], setup: FlowSetup, errors: Errors
) -> int:
    return _library(emu, ex, texts, setup, xf.Polling())


def _run_library_scaled(
    emu: EmulatorProcess, ex: str, texts: list[str], setup: FlowSetup, errors: Errors
) -> int:
    return _library(emu, ex, texts, setup, setup.scaled_polling())


def _library(
    emu: EmulatorProcess, ex: str, texts: list[str], setup: FlowSetup, polling: xf.Polling
) -> int:
    client = xf.Client(
        api_key=emu.api_key,
        base_url=emu.url,
        rate_limits=xf.RateLimits(get=setup.rate, write=setup.rate, run=setup.rate),
    )
    out = xf.extract(
        pl.DataFrame({"text": texts}),
        processor=ex,
        text_column="text",
        client=client,
        batch_size=setup.batch_size,
        polling=polling,
        progress=False,
    )
    return int((out.get_column("status") == "PROCESSED").sum())


def _count(errors: Errors, lock: threading.Lock, exc: Exception) -> None:
    """Tally an exception that lost a file, by type and HTTP status (SDK ``ApiError``)."""
    status = getattr(exc, "status_code", None)
    with lock:
        errors[f"{type(exc).__name__} {status}" if status else type(exc).__name__] += 1


def _sdk(emu: EmulatorProcess) -> Any:
    from extend_ai import Extend

    return Extend(token=emu.api_key, base_url=emu.url, extend_api_version="2026-02-09")


def _run_sdk_per_file(
    emu: EmulatorProcess, ex: str, texts: list[str], setup: FlowSetup, errors: Errors
) -> int:
    lock = threading.Lock()
    return sdk_per_file(emu, ex, texts, setup.sdk_threads, lambda exc: _count(errors, lock, exc))


def _run_sdk_batches(
    emu: EmulatorProcess, ex: str, texts: list[str], setup: FlowSetup, errors: Errors
) -> int:
    client = _sdk(emu)
    batch_ids = []
    for start in range(0, len(texts), setup.batch_size):
        inputs = [{"file": {"text": t}} for t in texts[start : start + setup.batch_size]]
        batch_ids.append(client.extract_runs.create_batch(extractor={"id": ex}, inputs=inputs).id)
    processed = 0
    lock = threading.Lock()

    def get(run_id: str) -> str | None:
        try:
            return str(client.extract_runs.retrieve(run_id).status)
        except Exception as exc:
            _count(errors, lock, exc)
            return None

    with ThreadPoolExecutor(setup.fetch_threads) as pool:
        for batch_id in batch_ids:
            while client.batch_runs.get(batch_id).status not in ("PROCESSED", "FAILED"):
                time.sleep(2.0)
            run_ids: list[str] = []
            token = None
            while True:
                page = client.extract_runs.list(
                    batch_id=batch_id, max_page_size=1000, next_page_token=token
                )
                run_ids += [r.id for r in page.data]
                token = page.next_page_token
                if not token:
                    break
            processed += sum(s == "PROCESSED" for s in pool.map(get, run_ids))
    return processed


CONTENDERS: dict[str, Callable[[EmulatorProcess, str, list[str], FlowSetup, Errors], int]] = {
    "extend_frames": _run_library,
    "extend_frames_scaled_polling": _run_library_scaled,
    "sdk_batch_script": _run_sdk_batches,
    "sdk_per_file": _run_sdk_per_file,
}


def run(setup: FlowSetup) -> dict[str, Any]:
    """Every contender on a fresh emulator with the same limits; figures per contender."""
    texts = invoice_texts(setup.files, seed=1)
    bound = setup.lower_bound()
    results: dict[str, Any] = {}
    for name, contender in CONTENDERS.items():
        with emulator(*setup.emulator_args()) as emu:
            ex = emu.create_processor("extractor", INVOICE_EXTRACTOR_CONFIG)
            before = emu.stats()
            emu_cpu = emu.cpu_seconds()
            cpu = _cpu()
            started = time.perf_counter()
            errors: Errors = Counter()
            processed = contender(emu, ex, texts, setup, errors)
            wall = time.perf_counter() - started
            cpu = _cpu() - cpu
            emu_cpu = emu.cpu_seconds() - emu_cpu
            after = emu.stats()
        requests = _diff(requests_by_category(before), requests_by_category(after))
        per_file = {k: v / setup.files for k, v in requests["by_category"].items()}
        total = sum(requests["by_category"].values())
        batches = math.ceil(setup.files / setup.batch_size)
        minimum = setup.files + 3 * batches  # a GET per run; a POST, a poll, a list per batch
        routes = requests["by_route"]
        polls = routes.get("GET /batch_runs/{id}", 0)
        lookups = sum(v for k, v in routes.items() if k.startswith("GET /extractors/"))
        results[name] = {
            "files": setup.files,
            "processed": processed,
            "lost": setup.files - processed,
            "lost_by_error": dict(errors),
            "wall_s": round(wall, 2),
            "bound_ratio": round(wall / bound["bound_s"], 3),
            "client_cpu_s": round(cpu, 2),
            "emulator_cpu_s": round(emu_cpu, 2),
            "requests": requests,
            "requests_per_file": {k: round(v, 4) for k, v in per_file.items()},
            "requests_total": total,
            "requests_beyond_minimum": total - minimum,
            "batch_polls": polls,
            # beyond one GET per run, one POST and one list page per batch, the polls and the
            # processor lookup (the schema for typing): retries, duplicates, 429s
            "wasted_beyond_polling": total - setup.files - 2 * batches - polls - lookups,
            "status_429": requests["status_429"],
        }
    return {
        "setup": {
            "files": setup.files,
            "batch_size": setup.batch_size,
            "files_per_minute": setup.files_per_minute,
            "rate_per_category": setup.rate,
            "sdk_threads": setup.sdk_threads,
            "fetch_threads": setup.fetch_threads,
            "time_compression_vs_enterprise": round(setup.compression, 2),
            "scaled_polling": {
                "initial": round(setup.scaled_polling().initial, 4),
                "maximum": round(setup.scaled_polling().maximum, 4),
            },
            "scaling": (
                f"{setup.files_per_minute:g} files/min and {setup.rate:g} req/s per category "
                "(GET/RUN/WRITE) stand in for a plan's limits scaled up for speed (Extend "
                "Enterprise: 300 files/min, 75 req/s); processing and GET time are balanced "
                "so both limits bind. The ratios to the lower bound are what carry over."
            ),
        },
        "lower_bound": {k: round(v, 2) for k, v in bound.items()},
        "contenders": results,
    }


def _diff(before: dict[str, Any], after: dict[str, Any]) -> dict[str, Any]:
    """Requests made during the contender's run (setup requests excluded)."""
    cats = {k: after["by_category"][k] - before["by_category"][k] for k in after["by_category"]}
    routes = {
        k: v - before["by_route"].get(k, 0)
        for k, v in after["by_route"].items()
        if v - before["by_route"].get(k, 0)
    }
    return {
        "by_category": cats,
        "status_429": after["status_429"] - before["status_429"],
        "by_route": routes,
    }
