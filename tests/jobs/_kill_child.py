"""A job run in its own process by the kill tests; it SIGKILLs itself at a chosen point.

Usage: python -m tests.jobs._kill_child BASE_URL API_KEY OUTPUT ROWS CRASH [STORAGE_OPTIONS_JSON]

CRASH is ``none`` or ``<point>:<n>``, the n-th time the job reaches the point:
  ``before-submit``  after the ledger's intent, before the batch POST is sent
  ``after-submit``   after the server committed the batch, before the ledger saw its id
  ``fetch``          while fetching runs
  ``write``          halfway through writing a Parquet part (local disk), or just before its
                     single PUT (object stores)
The kill is a real SIGKILL: no cleanup, no finally blocks, no flushing.
"""

from __future__ import annotations

import json
import os
import signal
import sys
from typing import Any

import polars as pl

import extend_frames as xf
from extend_frames.api import Client
from extend_frames.store import _backend


def rows(n: int) -> pl.DataFrame:
    return pl.DataFrame(
        {
            "doc": [f"d{i:05d}" for i in range(n)],
            "text": [f"Invoice number: K-{i}\nTotal: USD {i}.50" for i in range(n)],
        }
    )


def die() -> None:
    os.kill(os.getpid(), signal.SIGKILL)


def arm(point: str, nth: int) -> None:
    seen = {"n": 0}

    def hit() -> bool:
        seen["n"] += 1
        return seen["n"] == nth

    if point in ("before-submit", "after-submit"):
        original = Client.create_batch

        async def create_batch(self: Client, *args: Any, **kwargs: Any) -> Any:
            if point == "before-submit" and hit():
                die()
            batch = await original(self, *args, **kwargs)
            if point == "after-submit" and hit():
                die()
            return batch

        Client.create_batch = create_batch  # type: ignore[method-assign]
    elif point == "fetch":
        original_get = Client.get_run_bytes

        async def get_run_bytes(self: Client, *args: Any, **kwargs: Any) -> bytes:
            if hit():
                die()
            return await original_get(self, *args, **kwargs)

        Client.get_run_bytes = get_run_bytes  # type: ignore[method-assign]
    elif point == "write":
        original_write = _backend._write_bytes
        original_pipe = _backend.Backend.write_atomic

        def write_bytes(fd: int, data: bytes) -> None:
            if data[:4] == b"PAR1" and hit():
                original_write(fd, data[: len(data) // 2])
                os.fsync(fd)
                die()
            original_write(fd, data)

        def write_atomic(self: _backend.Backend, data: bytes, *names: str) -> None:
            if not self.local and data[:4] == b"PAR1" and hit():
                die()
            original_pipe(self, data, *names)

        _backend._write_bytes = write_bytes
        _backend.Backend.write_atomic = write_atomic  # type: ignore[method-assign]
    else:
        raise SystemExit(f"unknown crash point {point!r}")


def main() -> None:
    base_url, api_key, output, n, crash = sys.argv[1:6]
    storage = json.loads(sys.argv[6]) if len(sys.argv) > 6 else None
    if crash != "none":
        point, nth = crash.split(":")
        arm(point, int(nth))
    client = xf.Client(
        api_key=api_key,
        base_url=base_url,
        rate_limits=xf.RateLimits(get=2000, write=2000, run=2000),
        # short timeouts bound the late-commit grace (write + read = 10 s): a run killed
        # between its intent and the POST's answer resumes after 10 s of listing, not 120 s
        timeout=xf.Timeouts(read=5.0, write=5.0),
    )
    ex = os.environ["KILL_TEST_EXTRACTOR"]
    out = xf.extract(
        rows(int(n)),
        processor=ex,
        text_column="text",
        key="doc",
        batch_size=100,
        output=output,
        storage_options=storage,
        client=client,
        polling=xf.Polling.fast(),
        concurrency=xf.Concurrency(batches=3),
        progress=False,
    )
    print(json.dumps({"rows": out.height}))


if __name__ == "__main__":
    main()
