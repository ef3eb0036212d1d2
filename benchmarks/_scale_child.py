"""The client side of scenario 3, run in its own process so its CPU and RSS are the client's.

    python -m benchmarks._scale_child URL ROWS OUTPUT_DIR EXTRACTOR_ID

Runs one ``xf.extract`` of ROWS text inputs against the emulator at URL with ``output=`` on
local disk and prints one JSON line: wall seconds, CPU seconds, peak RSS, the RSS after imports
and input generation (the baseline), and the rows that came back PROCESSED.
"""

from __future__ import annotations

import json
import resource
import sys
import time


def _rss_now_mib() -> float:
    import psutil  # the dev extra

    return float(psutil.Process().memory_info().rss) / 2**20


def main() -> None:
    url, rows, output, processor = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
    import polars as pl

    import extend_frames as xf
    from benchmarks._common import API_KEY, invoice_texts, peak_rss_mib

    frame = pl.DataFrame({"doc_id": range(rows), "text": invoice_texts(rows, seed=3)})
    baseline = _rss_now_mib()
    before = resource.getrusage(resource.RUSAGE_SELF)
    client = xf.Client(
        api_key=API_KEY, base_url=url, rate_limits=xf.RateLimits(get=5000, write=5000, run=5000)
    )
    started = time.perf_counter()
    out = xf.extract(
        frame,
        processor=processor,
        text_column="text",
        client=client,
        output=output,
        polling=xf.Polling.fast(),
        progress=False,
    )
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_SELF)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    processed = int((out.get_column("status") == "PROCESSED").sum())
    print(
        json.dumps(
            {
                "rows": rows,
                "processed": processed,
                "wall_s": wall,
                "cpu_s": cpu,
                "peak_rss_mib": peak_rss_mib(),
                "baseline_rss_mib": baseline,
            }
        )
    )


if __name__ == "__main__":
    main()
