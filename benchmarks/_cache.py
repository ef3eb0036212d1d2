"""Scenario 5, result cache: lookup time and peak memory against the cache's size.

For each size, a cache of that many entries is built as a job would build it (one segment of
1,000 entries per collected batch, with an extract-like output struct), then a fresh process
looks up (a) a day's job of 2,300 documents (2,000 present) and (b) every entry at once (a full
rerun of the table). The lookup is one streaming scan of the partition filtered on the wanted
digests, so peak memory should follow what is found, not the cache's size. Then the cache is
compacted (every segment merged into one, in another process) and the day's lookup runs again
on it: the same entries found, from one object instead of one per batch.
"""

from __future__ import annotations

import tempfile
from typing import Any

from benchmarks._common import run_child


def _child(*args: str) -> dict[str, Any]:
    return run_child("benchmarks._cache_child", *args)


def run_one(entries: int) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="xf-bench-cache-") as tmp:
        built = _child("build", tmp, str(entries))
        day = _child("lookup", tmp, str(entries), "day")
        full = _child("lookup", tmp, str(entries), "all")
        compacted = _child("compact", tmp)
        after = _child("lookup", tmp, str(entries), "day")
    if after["found"] != day["found"] or compacted["entries"] != entries:
        raise RuntimeError(f"compaction changed the cache: {compacted}, day lookup {after}")
    return {
        "entries": entries,
        "segments": built["segments"],
        "build_s": round(built["seconds"], 2),
        "bytes_on_disk": built["bytes"],
        "day_wanted": day["wanted"],
        "day_found": day["found"],
        "day_lookup_s": round(day["seconds"], 3),
        "day_peak_rss_mib": round(day["peak_rss_mib"], 1),
        "all_found": full["found"],
        "all_lookup_s": round(full["seconds"], 3),
        "all_peak_rss_mib": round(full["peak_rss_mib"], 1),
        "baseline_rss_mib": round(day["baseline_rss_mib"], 1),
        "compact_s": round(compacted["seconds"], 2),
        "compacted_segments": compacted["segments_after"],
        "compact_peak_rss_mib": round(compacted["peak_rss_mib"], 1),
        "compacted_day_lookup_s": round(after["seconds"], 3),
        "compacted_day_peak_rss_mib": round(after["peak_rss_mib"], 1),
    }


def run(sizes: list[int]) -> dict[str, Any]:
    return {"runs": [run_one(n) for n in sizes]}
