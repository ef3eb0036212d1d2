"""Scenario 5, small jobs by route: latency of an n-document extract through single runs,
through a batch, through ``route="auto"``, and with the SDK's ``create_and_poll`` per file.

One emulator subprocess per job size, with Extend's delayed batch queue (``--batch-queue-delay``),
a per-run processing time (``--run-latency``) and the PAYG plan's rate limits (10 requests/s per
category), so the single route pays one RUN request per document while a batch pays the queue
delay once. Contenders run one after the other on the same emulator, each on fresh documents,
with a one-second pause between them so the rate limiter's bucket refills.

The ``sweep`` sizes (full run only) measure where the two routes cross: the rule of
``route="auto"`` (``jobs/_route.py``) is derived from that crossover.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any, Literal, cast

import polars as pl

import extend_frames as xf
from benchmarks._common import EmulatorProcess, emulator, invoice_texts, sdk_per_file
from extend_frames.emulator.samples import INVOICE_EXTRACTOR_CONFIG


@dataclass(frozen=True, slots=True)
class RouteSetup:
    sizes: tuple[int, ...] = (1, 5, 25)
    sweep: tuple[int, ...] = ()  # extra sizes for the crossover (single vs batch only)
    batch_queue_delay: float = 5.0
    run_latency: float = 1.0
    rate: float = 10.0  # requests per second per category (PAYG)
    contenders: tuple[str, ...] = ("auto", "single", "batch", "sdk_create_and_poll")
    pause: float = 1.0

    def emulator_args(self) -> list[str]:
        return [
            *("--batch-queue-delay", f"{self.batch_queue_delay:g}"),
            *("--run-latency", f"{self.run_latency:g}"),
            *("--rate-limit", f"{self.rate:g}"),  # one number: every category
        ]


@dataclass(slots=True)
class _Texts:
    """Fresh, distinct documents for every job (no run is ever reused)."""

    offset: int = 0
    pool: list[str] = field(default_factory=list)

    def take(self, n: int) -> list[str]:
        if self.offset + n > len(self.pool):
            self.pool = invoice_texts(self.offset + n + 500, seed=5)
        out = self.pool[self.offset : self.offset + n]
        self.offset += n
        return out


def _library(emu: EmulatorProcess, ex: str, texts: list[str], route: str, rate: float) -> int:
    client = xf.Client(
        api_key=emu.api_key,
        base_url=emu.url,
        rate_limits=xf.RateLimits(get=rate, write=rate, run=rate),
    )
    out = xf.extract(
        pl.DataFrame({"text": texts}),
        processor=ex,
        text_column="text",
        client=client,
        progress=False,
        route=cast(Literal["auto", "batch", "single"], route),
    )
    return int((out.get_column("status") == "PROCESSED").sum())


def _job(emu: EmulatorProcess, ex: str, texts: list[str], contender: str, rate: float) -> int:
    if contender == "sdk_create_and_poll":
        return sdk_per_file(emu, ex, texts, threads=len(texts))
    return _library(emu, ex, texts, contender, rate)


def run(setup: RouteSetup) -> dict[str, Any]:
    """Wall seconds per (size, contender), and the single/batch crossover."""
    texts = _Texts()
    rows: list[dict[str, Any]] = []
    for n in sorted({*setup.sizes, *setup.sweep}):
        contenders = setup.contenders if n in setup.sizes else ("single", "batch")
        with emulator(*setup.emulator_args()) as emu:
            ex = emu.create_processor("extractor", INVOICE_EXTRACTOR_CONFIG)
            for contender in contenders:
                time.sleep(setup.pause)  # the rate limiter's bucket refills between jobs
                before = emu.stats()
                started = time.perf_counter()
                processed = _job(emu, ex, texts.take(n), contender, setup.rate)
                wall = time.perf_counter() - started
                after = emu.stats()
                rows.append(
                    {
                        "documents": n,
                        "contender": contender,
                        "wall_s": round(wall, 2),
                        "processed": processed,
                        "lost": n - processed,
                        "batches": after["batches_created"] - before["batches_created"],
                        "requests": after["requests_total"] - before["requests_total"],
                    }
                )
    return {
        "setup": {
            "sizes": list(setup.sizes),
            "sweep": list(setup.sweep),
            "batch_queue_delay_s": setup.batch_queue_delay,
            "run_latency_s": setup.run_latency,
            "rate_per_category": setup.rate,
        },
        "jobs": rows,
        "crossover": crossover(rows),
    }


def crossover(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """The largest size at which single runs still beat a batch, and the first they do not."""
    wall = {(r["documents"], r["contender"]): r["wall_s"] for r in rows}
    sizes = sorted({n for n, c in wall if c == "single" and (n, "batch") in wall})
    faster = [n for n in sizes if wall[(n, "single")] < wall[(n, "batch")]]
    slower = [n for n in sizes if wall[(n, "single")] >= wall[(n, "batch")]]
    return {
        "single_faster_up_to": max(faster) if faster else None,
        "batch_faster_from": min(
            (n for n in slower if not faster or n > max(faster)), default=None
        ),
    }
