"""Scenario 6, Spark: ``extend_frames.spark`` against plain ``xf.extract``, and driver memory.

Wall time: one child process (one JVM) runs the same-size job twice on the same rate-limited
emulator, each on fresh documents: plain ``xf.extract`` of a polars frame, then the Spark
adapter over a Spark DataFrame of the same shape, each writing its result to Parquet (target:
Spark at most 1.1x plain). Memory: another child runs one Spark job of ``memory_rows``
references on an unlimited emulator and reports the peak RSS of the driver's Python process
(the JVM is a separate process): the job holds keys and references, not the result table.

Needs PySpark (extra ``spark``) and Java 17+; without them the scenario reports why it did not
run. ``--quick`` runs only the timed pair, small (one JVM start: ~10-20 s).
"""

from __future__ import annotations

import importlib.util
import shutil
import tempfile
from dataclasses import dataclass
from typing import Any

from benchmarks._common import emulator, run_child
from extend_frames.emulator.samples import INVOICE_EXTRACTOR_CONFIG


@dataclass(frozen=True, slots=True)
class SparkSetup:
    rows: int = 3000
    files_per_minute: float = 6000.0
    rate: float = 100.0
    memory_rows: int = 100_000
    rounds: int = 2  # pairs of (plain, spark) jobs, in ABBA order

    def emulator_args(self) -> list[str]:
        return [
            *("--files-per-minute", f"{self.files_per_minute:g}"),
            *("--rate-limit", f"{self.rate:g}"),  # one number: every category
        ]


def unavailable() -> str | None:
    """Why the scenario cannot run here (None when it can)."""
    if importlib.util.find_spec("pyspark") is None:
        return "PySpark is not installed (pip install 'extend-frames[spark]')"
    if shutil.which("java") is None:
        return "no Java runtime (Spark 4 needs Java 17 or 21)"
    return None


def _child(*args: str) -> dict[str, Any]:
    result = run_child("benchmarks._spark_child", *args)
    return {k: round(v, 3) if isinstance(v, float) else v for k, v in result.items()}


def run(setup: SparkSetup) -> dict[str, Any]:
    reason = unavailable()
    if reason is not None:
        return {"skipped": reason}
    with emulator(*setup.emulator_args()) as emu, tempfile.TemporaryDirectory() as tmp:
        ex = emu.create_processor("extractor", INVOICE_EXTRACTOR_CONFIG)
        fpm = f"{setup.files_per_minute:g}"
        rate, rounds = f"{setup.rate:g}", str(setup.rounds)
        timed = _child("timed", emu.url, ex, str(setup.rows), tmp, fpm, rate, rounds)
    memory: dict[str, Any] | None = None
    if setup.memory_rows:
        with emulator() as emu, tempfile.TemporaryDirectory() as tmp:
            ex = emu.create_processor("extractor", INVOICE_EXTRACTOR_CONFIG)
            memory = _child("memory", emu.url, ex, str(setup.memory_rows), tmp)
        memory["rss_above_baseline_mib"] = round(
            memory["peak_rss_mib"] - memory["baseline_rss_mib"], 1
        )
    return {
        "setup": {
            "rows": setup.rows,
            "files_per_minute": setup.files_per_minute,
            "rate": setup.rate,
            "memory_rows": setup.memory_rows,
            "rounds": setup.rounds,
        },
        "timed": timed,
        "memory": memory,
    }
