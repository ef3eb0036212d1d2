"""A script that calls the *sync* API from inside ``asyncio.run`` (as a notebook cell would run
it inside the kernel's loop), for the interrupt test; the parent sends it SIGINT.

Usage: python -m tests.jobs._interrupt_child BASE_URL API_KEY EXTRACTOR OUTPUT ROWS BATCH_SIZE
Prints one JSON line: ``{"interrupted": true}`` when the call raised KeyboardInterrupt, else
``{"rows": N}``.
"""

from __future__ import annotations

import asyncio
import json
import sys

import polars as pl

import extend_frames as xf


async def main(url: str, key: str, extractor: str, output: str, rows: int, size: int) -> int:
    frame = pl.DataFrame(
        {"doc": [f"d{i:04d}" for i in range(rows)], "text": [f"Invoice K-{i}" for i in range(rows)]}
    )
    client = xf.Client(
        api_key=key, base_url=url, rate_limits=xf.RateLimits(get=2000, write=2000, run=2000)
    )
    out = xf.extract(  # the sync API, blocking this running loop
        frame,
        processor=extractor,
        text_column="text",
        output=output,
        batch_size=size,
        client=client,
        polling=xf.Polling.fast(),
        progress=False,
    )
    return out.height


if __name__ == "__main__":
    url, key, extractor, output, rows, size = sys.argv[1:7]
    try:
        height = asyncio.run(main(url, key, extractor, output, int(rows), int(size)))
    except KeyboardInterrupt:
        print(json.dumps({"interrupted": True}), flush=True)
        sys.exit(130)
    print(json.dumps({"rows": height}), flush=True)
