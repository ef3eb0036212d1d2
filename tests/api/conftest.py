"""Fixtures for the api tests: clients over httpx.MockTransport on a virtual clock."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest

from extend_frames.api import Client, RateLimits, RetryBudget, RetryPolicy, VirtualClock

API_KEY = "sk_test_SECRET_4f9a1c2e7b"
BASE = "http://127.0.0.1:9"  # never contacted: every test injects a transport

Handler = Callable[[httpx.Request], httpx.Response]

BATCH = {
    "object": "batch_run",
    "id": "bpr_7kQm2vXz9LpR4tYw1NcB3",
    "status": "PENDING",
    "runCount": 1,
    "createdAt": "2026-03-02T10:15:00.000Z",
}


@pytest.fixture
def clock() -> VirtualClock:
    return VirtualClock()


@pytest.fixture
def make_client(clock: VirtualClock) -> Iterator[Callable[..., Client]]:
    """``make_client(handler, **Client kwargs)``: a fast client with its own retry budget."""
    made: list[Client] = []

    def make(handler: Handler, **kwargs: Any) -> Client:
        retry = kwargs.pop(
            "retry",
            RetryPolicy(clock=clock, budget=RetryBudget(capacity=1000), base=0.5, cap=8.0),
        )
        kwargs.setdefault("rate_limits", RateLimits(get=1000, write=1000, run=1000))
        client = Client(
            kwargs.pop("api_key", API_KEY),
            base_url=kwargs.pop("base_url", BASE),
            transport=httpx.MockTransport(handler),
            retry=retry,
            **kwargs,
        )
        made.append(client)
        return client

    yield make
    for client in made:
        client.close()


def error(status: int, **body: Any) -> httpx.Response:
    return httpx.Response(status, json=body)
