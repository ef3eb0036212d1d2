"""The processes of scenario 5 (see ``benchmarks/_cache.py``)::

    python -m benchmarks._cache_child build DIR ENTRIES
    python -m benchmarks._cache_child lookup DIR ENTRIES day|all
    python -m benchmarks._cache_child compact DIR

Each prints one JSON line. ``lookup`` measures its own peak RSS (``VmHWM``), after
imports and building the wanted digests (the baseline).
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
import time

from benchmarks._common import peak_rss_mib

SEGMENT = 1_000
PART_ARGS = ("extract", "ex_bench", "1.0", "c" * 64)


def _digest(i: int) -> str:
    return "file:" + hashlib.sha256(str(i).encode()).hexdigest()


def build(root: str, entries: int) -> dict[str, object]:
    import polars as pl

    from extend_frames.store._cache import DIGEST, Cache, Partition

    cache, part = Cache(root), Partition(*PART_ARGS)
    started = time.perf_counter()
    for start in range(0, entries, SEGMENT):
        n = min(SEGMENT, entries - start)
        ids = range(start, start + n)
        frame = pl.DataFrame(
            {
                DIGEST: [_digest(i) for i in ids],
                "run_id": [f"exr_{i:024d}" for i in ids],
                "status": ["PROCESSED"] * n,
                "output": [
                    {
                        "invoice_number": f"INV-{i}",
                        "vendor_name": "Acme Corporation Ltd",
                        "total_amount": float(i % 9973),
                        "line_items": [{"description": "widget", "amount": 1.5}] * 3,
                    }
                    for i in ids
                ],
                "credits": [1.0] * n,
            }
        )
        cache.add(part, frame)
    seconds = time.perf_counter() - started
    size = sum(os.path.getsize(p) for p in cache.segments(part))
    return {"segments": len(cache.segments(part)), "seconds": seconds, "bytes": size}


def lookup(root: str, entries: int, which: str) -> dict[str, object]:
    import psutil

    from extend_frames.store._cache import Cache, Partition

    if which == "day":  # 2,000 known documents spread over the cache + 300 new ones
        step = max(1, entries // 2000)
        wanted = [_digest(i) for i in range(0, entries, step)][:2000]
        wanted += [f"file:new-{i}" for i in range(300)]
    else:
        wanted = [_digest(i) for i in range(entries)]
    baseline = psutil.Process().memory_info().rss / 2**20
    cache, part = Cache(root), Partition(*PART_ARGS)
    started = time.perf_counter()
    found = cache.lookup(part, wanted)
    seconds = time.perf_counter() - started
    peak = peak_rss_mib()
    return {
        "wanted": len(wanted),
        "found": found.height,
        "seconds": seconds,
        "peak_rss_mib": peak,
        "baseline_rss_mib": baseline,
    }


def compact(root: str) -> dict[str, object]:
    from extend_frames.store._cache import Cache, Partition

    cache, part = Cache(root), Partition(*PART_ARGS)
    started = time.perf_counter()
    done = cache.compact(part)
    seconds = time.perf_counter() - started
    return {
        "segments_before": done.segments_before,
        "segments_after": len(cache.segments(part)),
        "entries": done.entries,
        "seconds": seconds,
        "peak_rss_mib": peak_rss_mib(),
    }


def main() -> None:
    mode, root = sys.argv[1], sys.argv[2]
    if mode == "compact":
        out = compact(root)
    elif mode == "build":
        out = build(root, int(sys.argv[3]))
    else:
        out = lookup(root, int(sys.argv[3]), sys.argv[4])
    print(json.dumps(out))


if __name__ == "__main__":
    main()
