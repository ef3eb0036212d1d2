"""The CLI of the backfill scenario in a process that reports its own memory.

    python -m benchmarks._backfill_child extract INPUT ... (the extend-frames arguments)

Runs ``extend_frames.cli.main(argv)`` and prints one JSON line last: the exit code, this
process's peak RSS (VmHWM: its own address space), the RSS after imports (the baseline) and
the input table's own size in memory (``estimated_size()``, read after the peak is taken).
"""

from __future__ import annotations

import json
import sys


def main() -> None:
    import polars as pl

    import extend_frames.cli
    from benchmarks._common import peak_rss_mib

    baseline = peak_rss_mib()
    code = extend_frames.cli.main(sys.argv[1:])
    peak = peak_rss_mib()
    table = pl.read_csv(sys.argv[2]).estimated_size() / 2**20
    print(
        json.dumps(
            {"exit": code, "peak_rss_mib": peak, "baseline_mib": baseline, "input_mib": table}
        )
    )
    sys.exit(code)  # the CLI's own code (4, 130...) for the caller


if __name__ == "__main__":
    main()
