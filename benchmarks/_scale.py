"""Scenario 3, scale and memory: a large extract job on the emulator's instant mode.

The emulator (instant processing, no rate limits) and the client job each run in their own
process; the client's ``getrusage`` gives its CPU seconds and ``VmHWM`` its peak RSS. Two
sizes show how the cost grows: CPU per 1,000 rows should stay flat and peak memory should grow
sub-linearly (results are written part by part to ``output=``; only the returned frame is
whole).
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from typing import Any

from benchmarks._common import REPO, emulator
from extend_frames.emulator.samples import INVOICE_EXTRACTOR_CONFIG


def run_one(rows: int) -> dict[str, Any]:
    with emulator() as emu, tempfile.TemporaryDirectory(prefix="xf-bench-") as tmp:
        ex = emu.create_processor("extractor", INVOICE_EXTRACTOR_CONFIG)
        emu_cpu = emu.cpu_seconds()
        done = subprocess.run(
            [sys.executable, "-m", "benchmarks._scale_child", emu.url, str(rows), tmp + "/out", ex],
            cwd=REPO,
            capture_output=True,
            text=True,
            check=False,
        )
        emu_cpu = emu.cpu_seconds() - emu_cpu
    if done.returncode != 0:
        raise RuntimeError(f"scale child failed ({done.returncode}): {done.stderr[-3000:]}")
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    result["cpu_s_per_1000_rows"] = result["cpu_s"] / rows * 1000
    result["rows_per_s"] = rows / result["wall_s"]
    result["emulator_cpu_s"] = emu_cpu
    return {k: round(v, 3) if isinstance(v, float) else v for k, v in result.items()}


def run(sizes: list[int]) -> dict[str, Any]:
    runs = [run_one(n) for n in sizes]
    small, large = runs[0], runs[-1]
    growth = {
        "rows_ratio": round(large["rows"] / small["rows"], 2),
        "peak_rss_ratio": round(large["peak_rss_mib"] / small["peak_rss_mib"], 2),
        "rss_above_baseline_ratio": round(
            (large["peak_rss_mib"] - large["baseline_rss_mib"])
            / max(1.0, small["peak_rss_mib"] - small["baseline_rss_mib"]),
            2,
        ),
        "cpu_per_row_ratio": round(large["cpu_s_per_1000_rows"] / small["cpu_s_per_1000_rows"], 2),
    }
    return {"runs": runs, "growth": growth}
