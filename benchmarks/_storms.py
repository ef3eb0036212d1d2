"""Scenario 6, 429 storms: the request rate before, during and after storms.

An emulator with no steady rate limit answers every GET 429 (``Retry-After: 1``) during a few
storm windows (``--storm START:SECONDS``). A client paced at 50 GET/s keeps 40 tasks busy; the
successes per second are recorded. Two contenders, measured in the same run: the adaptive
pacer (the default) and a fixed-rate pacer (``RateLimits(adaptive=False)``: honours
``Retry-After``, never changes its rate), the baseline a storm-proof pacer should match.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from typing import Any

import httpx

from benchmarks._common import API_KEY, emulator, headers
from extend_frames.api import Client, RateLimits

RATE = 50.0


@dataclass(frozen=True, slots=True)
class StormSetup:
    storms: tuple[tuple[float, float], ...]  # (start, seconds) since the emulator started
    seconds: float  # how long the load runs
    tasks: int = 40


FULL = StormSetup(((4.0, 2.0), (11.0, 2.0), (18.0, 2.0)), 25.0)
QUICK = StormSetup(((2.0, 1.0), (5.0, 1.0)), 8.0)


async def _load(url: str, batch_id: str, adaptive: bool, setup: StormSetup, t0: float) -> Any:
    limits = RateLimits(get=RATE, write=RATE, run=RATE, adaptive=adaptive)
    client = Client(API_KEY, base_url=url, rate_limits=limits)
    ok: list[float] = []
    errors = 0

    async def loop() -> None:
        nonlocal errors
        while time.time() - t0 < setup.seconds:
            try:
                await client.get_batch(batch_id)
            except Exception:
                errors += 1
            else:
                ok.append(time.time() - t0)

    await asyncio.gather(*(loop() for _ in range(setup.tasks)))
    await client.aclose()
    from extend_frames.api import Category

    pacer = client._pacers[Category.GET]
    return ok, errors, pacer.rate, pacer.holds, pacer.cuts


def _rate(ok: list[float], a: float, b: float) -> float:
    return sum(1 for t in ok if a <= t < b) / max(1e-9, b - a)


def _one(setup: StormSetup, adaptive: bool) -> dict[str, Any]:
    args = [a for s, d in setup.storms for a in ("--storm", f"{s}:{d}:GET")]
    with emulator(*args) as emu:
        t0 = time.time()  # the emulator's clock started a little earlier (its start-up)
        http = httpx.Client(base_url=emu.url, headers=headers(), timeout=30)
        batch = http.post("/parse_runs/batch", json={"inputs": [{"file": {"text": "x"}}]})
        ok, errors, final_rate, holds, cuts = asyncio.run(
            _load(emu.url, batch.json()["id"], adaptive, setup, t0)
        )
        http.close()
    first = setup.storms[0][0]
    before = _rate(ok, 1.0, first)
    during = [_rate(ok, s + 0.3, s + d) for s, d in setup.storms]
    after: list[float] = []
    recovered: list[float | None] = []
    for i, (s, d) in enumerate(setup.storms):
        end = s + d
        nxt = setup.storms[i + 1][0] if i + 1 < len(setup.storms) else setup.seconds
        after.append(_rate(ok, end + 0.5, min(end + 5.5, nxt)))
        back = None
        for k in range(int(min(5.0, nxt - end))):  # first 1 s bucket at >= 80 % of before
            if _rate(ok, end + k, end + k + 1) >= 0.8 * before:
                back = float(k + 1)
                break
        recovered.append(back)
    return {
        "before": round(before, 1),
        "during": [round(x, 1) for x in during],
        "after": [round(x, 1) for x in after],
        "recovered_within_s": recovered,
        "final_rate": round(final_rate, 1),
        "holds": holds,
        "cuts": cuts,
        "errors": errors,
    }


def run(setup: StormSetup) -> dict[str, Any]:
    return {
        "setup": {"storms": setup.storms, "seconds": setup.seconds, "rate": RATE},
        "contenders": {"adaptive": _one(setup, True), "fixed_rate": _one(setup, False)},
    }


def render(outcome: dict[str, Any]) -> str:
    lines = [
        "| contender | before (req/s) | during | after (each storm) | back to 80 % within "
        "| final pacer rate | holds / cuts | errors |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for name, c in outcome["contenders"].items():
        back = ", ".join("-" if r is None else f"{r:g} s" for r in c["recovered_within_s"])
        lines.append(
            f"| {name} | {c['before']} | {', '.join(map(str, c['during']))} "
            f"| {', '.join(map(str, c['after']))} | {back} | {c['final_rate']} "
            f"| {c['holds']} / {c['cuts']} | {c['errors']} |"
        )
    storms = ", ".join(f"{d:g} s at {s:g} s" for s, d in outcome["setup"]["storms"])
    lines.append("")
    lines.append(
        f"Storms: {storms}; paced at {outcome['setup']['rate']:g} GET/s, no steady limit. "
        "`fixed_rate` is the baseline: it only honours Retry-After."
    )
    return "\n".join(lines)
