"""The Spark side of the ``spark`` scenario, in its own process (its own JVM and RSS).

    python -m benchmarks._spark_child timed URL EXTRACTOR ROWS WORKDIR FILES_PER_MINUTE RATE ROUNDS
    python -m benchmarks._spark_child memory URL EXTRACTOR ROWS WORKDIR

``timed``: one local SparkSession, then ROUNDS pairs of jobs of the same shape on fresh
documents, on the same rate-limited emulator, in ABBA order: plain ``xf.extract`` of a polars
frame (written to Parquet) and ``extend_frames.spark.extract`` of a Spark DataFrame (its
result written by Spark). Session start and a warm-up are outside the timings (a dbt model or
a notebook has paid them already).
``memory``: one Spark job of ROWS references on an unlimited emulator; the peak RSS of this
(the driver's Python) process, and the RSS right before the job (the baseline).
Prints one JSON line.
"""

from __future__ import annotations

import json
import os
import sys
import time
from typing import Any

import polars as pl

import extend_frames as xf
from benchmarks._common import API_KEY, invoice_texts, peak_rss_mib

_CONF = {
    "spark.driver.memory": "1g",
    "spark.driver.host": "127.0.0.1",
    "spark.driver.bindAddress": "127.0.0.1",
    "spark.ui.enabled": "false",
    "spark.ui.showConsoleProgress": "false",
    "spark.sql.shuffle.partitions": "2",
}


def _session() -> Any:
    os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    from pyspark.sql import SparkSession

    builder = SparkSession.builder.master("local[2]").appName("extend_frames benchmark")
    for name, value in _CONF.items():
        builder = builder.config(name, value)
    return builder.getOrCreate()


def _rss_mib() -> float:
    import psutil

    return float(psutil.Process().memory_info().rss) / 2**20


def _frame(rows: int, seed: int) -> pl.DataFrame:
    return pl.DataFrame(
        {"doc_id": [f"s{seed}-{i}" for i in range(rows)], "text": invoice_texts(rows, seed=seed)}
    )


def _options(url: str, polling: xf.Polling, rate: float) -> dict[str, Any]:
    limits = xf.RateLimits(get=rate, write=rate, run=rate)
    return {
        "client": xf.Client(api_key=API_KEY, base_url=url, rate_limits=limits),
        "text_column": "text",
        "key": "doc_id",
        "polling": polling,
        "progress": False,
    }


def _warm_up(session: Any, path: str) -> None:
    """The first Arrow export, Parquet write, read and join of a fresh JVM are slow (class
    loading, JIT); a long-lived session (a notebook, a dbt run) has paid that already."""
    small = session.createDataFrame(_frame(50, seed=1).to_arrow())
    small.select("doc_id").toArrow()
    small.write.mode("overwrite").parquet(path)
    again = session.read.parquet(path).select("doc_id")
    small.join(again, on="doc_id").write.mode("overwrite").parquet(path + "2")


def timed(
    url: str,
    extractor: str,
    rows: int,
    workdir: str,
    files_per_minute: float,
    rate: float,
    rounds: int,
) -> None:
    session = _session()
    compression = files_per_minute / 300  # as the flow scenario scales Extend's timings
    default = xf.Polling()
    polling = xf.Polling(
        initial=default.initial / compression, maximum=default.maximum / compression
    )
    _warm_up(session, f"{workdir}/warm")
    times: dict[str, list[float]] = {"plain": [], "spark": []}
    processed: dict[str, list[int]] = {"plain": [], "spark": []}
    # ABBA order (plain, spark, spark, plain...), fresh documents every job: load drifts and
    # the rate buckets' state hit both contenders alike.
    order = [("plain", "spark")[(i + i // 2) % 2] for i in range(2 * rounds)]
    for n, name in enumerate(order):
        frame = _frame(rows, seed=100 + n)
        job = _plain if name == "plain" else _spark
        seconds, ok = job(session, frame, extractor, f"{workdir}/{n}", _options(url, polling, rate))
        times[name].append(seconds)
        processed[name].append(ok)
        time.sleep(2)  # the emulator's rate buckets refill between jobs
    session.stop()
    plain_s, spark_s = (sum(times[k]) / len(times[k]) for k in ("plain", "spark"))
    print(
        json.dumps(
            {
                "rows": rows,
                "rounds": rounds,
                "plain_s": plain_s,
                "spark_s": spark_s,
                "ratio": spark_s / plain_s,
                "plain_runs_s": times["plain"],
                "spark_runs_s": times["spark"],
                "plain_processed": min(processed["plain"]),
                "spark_processed": min(processed["spark"]),
            }
        )
    )


def _plain(
    session: Any, frame: pl.DataFrame, extractor: str, path: str, options: dict[str, Any]
) -> tuple[float, int]:
    started = time.perf_counter()
    out = xf.extract(frame, processor=extractor, output=f"{path}/job", **options)
    out.write_parquet(f"{path}/result.parquet")
    seconds = time.perf_counter() - started
    return seconds, int((out.get_column("status") == "PROCESSED").sum())


def _spark(
    session: Any, frame: pl.DataFrame, extractor: str, path: str, options: dict[str, Any]
) -> tuple[float, int]:
    from extend_frames import spark as xfs

    sdf = session.createDataFrame(frame.to_arrow())
    sdf.count()  # the input exists before the clock starts, as a table read would
    started = time.perf_counter()
    out = xfs.extract(sdf, processor=extractor, output=f"{path}/job", **options)
    out.write.mode("overwrite").parquet(f"{path}/result")
    seconds = time.perf_counter() - started
    done = session.read.parquet(f"{path}/result").where("status = 'PROCESSED'").count()
    return seconds, int(done)


def memory(url: str, extractor: str, rows: int, workdir: str) -> None:
    from extend_frames import spark as xfs

    session = _session()
    sdf = session.createDataFrame(_frame(rows, seed=9).to_arrow())
    sdf.count()
    baseline = _rss_mib()
    started = time.perf_counter()
    out = xfs.extract(
        sdf,
        processor=extractor,
        output=f"{workdir}/job",
        batch_size=1000,
        **_options(url, xf.Polling.fast(), 5000),
    )
    processed = out.where("status = 'PROCESSED'").count()
    wall = time.perf_counter() - started
    session.stop()
    print(
        json.dumps(
            {
                "rows": rows,
                "processed": processed,
                "wall_s": wall,
                "baseline_rss_mib": baseline,
                "peak_rss_mib": peak_rss_mib(),
            }
        )
    )


def main() -> None:
    mode, url, extractor, rows, workdir = sys.argv[1:6]
    if mode == "timed":
        fpm, rate, rounds = float(sys.argv[6]), float(sys.argv[7]), int(sys.argv[8])
        timed(url, extractor, int(rows), workdir, fpm, rate, rounds)
    else:
        memory(url, extractor, int(rows), workdir)


if __name__ == "__main__":
    main()
