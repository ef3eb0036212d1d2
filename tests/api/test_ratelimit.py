"""Rate limiting: pacing and Retry-After on a virtual clock; throughput and adaptation for real.

The ``slow`` test runs a few seconds of real time against an in-test server that limits with a
token bucket of one second's capacity and answers 429 with an integer ``Retry-After`` (the
shape of the project's emulator), over ``httpx.MockTransport``. Convergence to a limit the
client was not told about is tested against the emulator itself (test_emulator.py).
"""

from __future__ import annotations

import asyncio
import itertools
import math
import threading
import time
from collections.abc import Callable

import httpx
import pytest

from extend_frames.api import (
    Category,
    Client,
    RateLimits,
    RetryBudget,
    RetryPolicy,
    VirtualClock,
    category_for,
)
from extend_frames.api._ratelimit import Pacer

from .conftest import BATCH

MakeClient = Callable[..., Client]


@pytest.mark.parametrize(
    ("method", "path", "category"),
    [
        ("GET", "/extract_runs/exr_1", Category.GET),
        ("POST", "/extract_runs/batch", Category.RUN),
        ("POST", "/parse_runs/batch", Category.RUN),
        ("POST", "/extract_runs", Category.RUN),
        ("POST", "/files/upload", Category.WRITE),
        ("POST", "/webhook_endpoints", Category.WRITE),
        ("DELETE", "/webhook_endpoints/wh_1", Category.WRITE),
        ("POST", "/extract_runs/exr_1/cancel", Category.WRITE),
    ],
)
def test_categories(method: str, path: str, category: Category) -> None:
    assert category_for(method, path) is category


async def test_pacer_spaces_requests(clock: VirtualClock) -> None:
    pacer = Pacer(5.0, clock=clock)
    times = []
    for _ in range(6):
        await pacer.acquire()
        times.append(clock.now())
    gaps = [b - a for a, b in itertools.pairwise(times)]
    assert gaps == pytest.approx([0.2] * 5)


async def test_idle_time_is_not_banked(clock: VirtualClock) -> None:
    pacer = Pacer(2.0, clock=clock)
    await pacer.acquire()
    clock.advance(10.0)
    start = clock.now()
    await pacer.acquire()
    await pacer.acquire()
    assert clock.now() - start == pytest.approx(0.5)  # no burst of 20 saved-up requests


async def test_retry_after_requeues_waiting_requests(clock: VirtualClock) -> None:
    pacer = Pacer(1.0, clock=clock)
    await pacer.acquire()
    started: list[float] = []

    async def one() -> None:
        await pacer.acquire()
        started.append(clock.now())

    task = asyncio.create_task(one())
    await asyncio.sleep(0)  # the task has reserved its slot and is sleeping
    pacer.on_rate_limited(30.0)
    await task
    assert started[0] >= pacer.blocked_until >= 30.0 + 1000.0 - 0.01


def test_adaptive_cut_estimates_the_servers_limit(clock: VirtualClock) -> None:
    pacer = Pacer(100.0, clock=clock)
    pacer._open_window(clock.now(), 1.0)
    # A 20/s server with a one-second bucket accepts 20 * (1 + 0.25) requests in the 0.25 s
    # before its first 429 when sent 100/s.
    for _ in range(25):
        pacer.on_success()
    clock.advance(0.25)
    pacer.on_rate_limited(1.0)
    for _ in range(2):
        # A Retry-After episode is only a hold (it may be a storm): no cut yet...
        assert pacer.estimate is None
        assert pacer.rate == 100.0
        clock.advance(1.0)  # the hold; the server's bucket refills meanwhile
        for _ in range(25):  # ...the same again soon after resuming: a token bucket's rhythm
            pacer.on_success()
        clock.advance(0.25)
        pacer.on_rate_limited(1.0)
    assert pacer.estimate == pytest.approx(20.0)  # the third in a row: a steady limit, measured
    assert 18.0 <= pacer.rate <= 20.0
    assert (pacer.holds, pacer.cuts) == (2, 1)
    clock.advance(60.0)
    assert pacer.rate <= 100.0  # recovers, never above the configured rate


STORMS = ((5.0, 7.0), (10.0, 12.0), (15.0, 17.0))  # three 2-second 429 storms


async def _storm_run(clock: VirtualClock, retry_after: float | None) -> tuple[Pacer, list[float]]:
    """One sender at 50/s for 23 s against a server with no steady limit that answers every
    request 429 during ``STORMS``; returns the pacer and the times of the successes."""
    pacer = Pacer(50.0, clock=clock)
    start = clock.now()
    ok: list[float] = []
    while clock.now() - start < 23.0:
        await pacer.acquire()
        t = clock.now() - start
        if any(a <= t < b for a, b in STORMS):
            pacer.on_rate_limited(retry_after)
        else:
            pacer.on_success()
            ok.append(t)
    return pacer, ok


@pytest.mark.parametrize("retry_after", [1.0, None], ids=["retry-after", "no-retry-after"])
async def test_throughput_recovers_within_seconds_after_429_storms(
    clock: VirtualClock, retry_after: float | None
) -> None:
    pacer, ok = await _storm_run(clock, retry_after)

    def rate(a: float, b: float) -> float:
        return sum(1 for t in ok if a <= t < b) / (b - a)

    before = rate(1.0, 5.0)
    assert before == pytest.approx(50.0, rel=0.05)
    end = STORMS[-1][1]
    # within 5 s of the last storm the rate is back to >= 80 % of the pre-storm rate
    assert rate(end + 2.0, end + 5.0) >= 0.8 * before
    assert rate(end + 5.0, end + 6.0) >= 0.8 * before
    if retry_after is not None:  # storms with Retry-After are holds, not a lower limit
        assert pacer.cuts == 0
        assert pacer.estimate is None
        assert pacer.rate == 50.0
    else:
        assert pacer.cuts > 0  # no pause given: it did slow down, and came back


def test_fixed_pacer_does_not_adapt(clock: VirtualClock) -> None:
    pacer = Pacer(50.0, clock=clock, adaptive=False)
    clock.advance(1.0)
    pacer.on_rate_limited(None)
    assert pacer.rate == 50.0
    assert pacer.estimate is None


async def test_429_without_retry_after_slows_down(
    make_client: MakeClient, clock: VirtualClock
) -> None:
    answers = [httpx.Response(429, json={"message": "slow"}), httpx.Response(200, json=BATCH)]

    def handler(request: httpx.Request) -> httpx.Response:
        return answers.pop(0)

    client = make_client(handler, rate_limits=RateLimits(get=40, write=40, run=40))
    clock.advance(1.0)
    await client.get_batch("bpr_1")
    assert client._pacers[Category.GET].rate < 40.0
    assert client._pacers[Category.RUN].rate == 40.0  # other categories untouched


# -- real time -------------------------------------------------------------------------------


class LimitedServer:
    """A token bucket of ``rate``/s with one second's capacity; 429 + integer Retry-After."""

    def __init__(self, rate: float) -> None:
        self.rate = rate
        self.capacity = max(1.0, rate)
        self.tokens = self.capacity
        self.stamp = time.monotonic()
        self.log: list[tuple[float, int]] = []
        self._lock = threading.Lock()

    def __call__(self, request: httpx.Request) -> httpx.Response:
        with self._lock:
            now = time.monotonic()
            self.tokens = min(self.capacity, self.tokens + (now - self.stamp) * self.rate)
            self.stamp = now
            if self.tokens >= 1.0:
                self.tokens -= 1.0
                self.log.append((now, 200))
                return httpx.Response(200, json=BATCH)
            self.log.append((now, 429))
            wait = max(1, math.ceil((1.0 - self.tokens) / self.rate))
            return httpx.Response(
                429,
                headers={"Retry-After": str(wait)},
                json={"code": "RATE_LIMIT_EXCEEDED", "message": "slow down", "retryable": True},
            )

    def window(self, start: float, end: float) -> tuple[int, int]:
        """(successes, 429s) that arrived in [start, end)."""
        inside = [status for t, status in self.log if start <= t < end]
        return inside.count(200), inside.count(429)


async def _hammer(client: Client, tasks: int, seconds: float) -> tuple[float, int]:
    """``tasks`` concurrent loops of GETs for ``seconds``; returns (start time, errors)."""
    start = time.monotonic()
    errors = 0

    async def loop() -> None:
        nonlocal errors
        while time.monotonic() - start < seconds:
            try:
                await client.get_batch("bpr_1")
            except Exception:
                errors += 1

    await asyncio.gather(*(loop() for _ in range(tasks)))
    await client.aclose()
    return start, errors


def _client(server: LimitedServer, rate: float) -> Client:
    return Client(
        "sk_test",
        base_url="http://127.0.0.1:9",
        transport=httpx.MockTransport(server),
        rate_limits=RateLimits(get=rate, write=rate, run=rate),
        retry=RetryPolicy(budget=RetryBudget()),
    )


@pytest.mark.slow
async def test_shared_client_holds_the_limit_without_429s() -> None:
    server = LimitedServer(100.0)
    client = _client(server, 100.0)
    seconds = 2.5
    start, errors = await _hammer(client, tasks=50, seconds=seconds)
    ok, limited = server.window(start, start + seconds)
    assert errors == 0
    assert ok / seconds >= 95.0, f"only {ok / seconds:.1f} requests/s of 100"
    assert limited <= 0.01 * (ok + limited), f"{limited} of {ok + limited} answers were 429"
