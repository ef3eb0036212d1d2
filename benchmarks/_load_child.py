"""A minimal HTTP/1.1 keep-alive load generator (the fallback when ``wrk`` is not installed).

    python -m benchmarks._load_child PORT SECONDS CONNECTIONS IDS_FILE

Each connection sends ``GET /extract_runs/{id}`` (ids cycled from IDS_FILE, one per line) and
reads the full response before the next, on raw asyncio streams so the client costs far less
per request than an HTTP library would. Prints one JSON line: requests, non-200s, seconds, rps.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import sys
import time

from benchmarks._common import API_KEY, API_VERSION


async def _connection(
    port: int, ids: itertools.cycle[str], stop_at: float, counts: dict[str, int]
) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    head = (
        f"Host: 127.0.0.1:{port}\r\nAuthorization: Bearer {API_KEY}\r\n"
        f"x-extend-api-version: {API_VERSION}\r\n\r\n"
    ).encode()
    try:
        while time.monotonic() < stop_at:
            writer.write(b"GET /extract_runs/" + next(ids).encode() + b" HTTP/1.1\r\n" + head)
            status_line = await reader.readline()
            length = 0
            while True:
                line = await reader.readline()
                if line in (b"\r\n", b""):
                    break
                name, _, value = line.partition(b":")
                if name.strip().lower() == b"content-length":
                    length = int(value)
            await reader.readexactly(length)
            counts["requests"] += 1
            if b" 200 " not in status_line:
                counts["errors"] += 1
    finally:
        writer.close()


async def _main(port: int, seconds: float, connections: int, ids: list[str]) -> dict[str, float]:
    counts = {"requests": 0, "errors": 0}
    cycle = itertools.cycle(ids)
    started = time.monotonic()
    stop_at = started + seconds
    await asyncio.gather(*(_connection(port, cycle, stop_at, counts) for _ in range(connections)))
    elapsed = time.monotonic() - started
    return {**counts, "seconds": elapsed, "rps": counts["requests"] / elapsed}


def main() -> None:
    port, seconds, connections = int(sys.argv[1]), float(sys.argv[2]), int(sys.argv[3])
    with open(sys.argv[4]) as f:
        ids = [line.strip() for line in f if line.strip()]
    print(json.dumps(asyncio.run(_main(port, seconds, connections, ids))))


if __name__ == "__main__":
    main()
