"""Smoke test of the benchmark harness: ``python -m benchmarks --quick`` runs end to end.

A benchmark, not a test of speed: this only checks that every scenario ran and reported its
figures (the emulator and the client each in their own process, on 127.0.0.1 only).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent


# The spark scenario starts a JVM: share the Spark tests' worker, so two never start at once.
@pytest.mark.xdist_group("spark")
@pytest.mark.timeout(600)
def test_quick_benchmark_runs_every_scenario(tmp_path: Path) -> None:
    out = tmp_path / "quick.json"
    done = subprocess.run(
        [sys.executable, "-m", "benchmarks", "--quick", "--json", str(out)],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=420,  # seven scenarios, each child a fresh interpreter, on a busy 2-core machine
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    results = json.loads(out.read_text())
    assert results["mode"] == "quick"
    scenarios = results["scenarios"]
    assert set(scenarios) == {
        "flow",
        "decode",
        "scale",
        "serve",
        "extraction",
        "route",
        "cache",
        "spark",
        "storms",
        "backfill",
        "tables",
    }

    flow = scenarios["flow"]
    files = flow["setup"]["files"]
    for name in ("extend_frames", "sdk_batch_script", "sdk_per_file"):
        contender = flow["contenders"][name]
        assert contender["processed"] == files, name  # every file came back processed
        assert contender["requests"]["by_category"]["GET"] >= files  # one GET per run at least
    ours = flow["contenders"]["extend_frames"]
    assert ours["requests"]["by_category"]["RUN"] == -(-files // flow["setup"]["batch_size"])

    decode = scenarios["decode"]
    assert decode["extend_frames"]["typed_output"] is True
    assert decode["extend_frames"]["runs_per_s"] > 0
    assert decode["sdk_pydantic"]["runs_per_s"] > 0

    scale = scenarios["scale"]["runs"]
    assert [r["processed"] for r in scale] == [r["rows"] for r in scale]
    assert all(r["peak_rss_mib"] > 0 for r in scale)

    serve = scenarios["serve"]
    assert serve["requests"] > 0
    assert serve["errors"] == 0

    extraction = scenarios["extraction"]
    assert extraction["generated"]["documents"] > 0
    assert set(extraction["generated"]["accuracy"]) >= {"invoice_number", "total_amount"}
    assert "real" in extraction  # measured, or the reason it was not (quick never downloads)

    tables = scenarios["tables"]
    for name in ("parquet_part", "delta_append", "delta_merge", "iceberg_append", "iceberg_merge"):
        assert tables[name]["median_ms"] > 0, name

    route = scenarios["route"]
    by = {(j["documents"], j["contender"]): j for j in route["jobs"]}
    for n in route["setup"]["sizes"]:
        for contender in ("auto", "single", "batch", "sdk_create_and_poll"):
            assert by[(n, contender)]["processed"] == n, (n, contender)
        assert by[(n, "batch")]["batches"] == 1
        assert by[(n, "single")]["batches"] == by[(n, "auto")]["batches"] == 0
        # the batch waited out the queue delay; single runs did not wait for it
        assert by[(n, "batch")]["wall_s"] >= route["setup"]["batch_queue_delay_s"]
    storms = scenarios["storms"]["contenders"]
    for name in ("adaptive", "fixed_rate"):
        assert storms[name]["before"] > 0, name
        assert len(storms[name]["after"]) == len(scenarios["storms"]["setup"]["storms"])
        assert storms[name]["errors"] == 0, name

    cache = scenarios["cache"]["runs"]
    assert [r["day_found"] for r in cache] == [min(2000, r["entries"]) for r in cache]
    assert [r["all_found"] for r in cache] == [r["entries"] for r in cache]
    assert all(r["day_peak_rss_mib"] > 0 for r in cache)
    assert all(r["compact_s"] > 0 and r["compacted_day_lookup_s"] > 0 for r in cache)

    spark = scenarios["spark"]  # measured, or the reason it could not run (no PySpark / Java)
    if "skipped" not in spark:
        rows = spark["timed"]["rows"]
        assert spark["timed"]["plain_processed"] == spark["timed"]["spark_processed"] == rows
        assert spark["timed"]["ratio"] > 0

    assert results["targets"], "the targets table is empty"
    assert "flow" in done.stdout  # the tables were printed


def test_lower_bound_takes_the_slower_limit_plus_one_batch_at_the_ends() -> None:
    from benchmarks._flow import FlowSetup

    # 5,000 files at 100 files/s and 100 GETs/s: 50 s each way, + 10 s for the first or
    # last batch of 1,000 that cannot overlap; GETs are one per run + a poll and a list each.
    bound = FlowSetup(files=5000, batch_size=1000, files_per_minute=6000, rate=100).lower_bound()
    assert bound["processing_s"] == 50.0
    assert bound["get_s"] == (5000 + 2 * 5) / 100
    assert bound["bound_s"] == bound["get_s"] + 10.0
    # GET-bound: half the GET rate doubles the GET time, the batch tail is processing's.
    slow = FlowSetup(files=5000, batch_size=1000, files_per_minute=6000, rate=50).lower_bound()
    assert slow["bound_s"] == (5000 + 10) / 50 + 10.0


def test_request_counts_fold_into_extend_rate_limit_categories() -> None:
    from benchmarks._common import requests_by_category

    stats = {
        "requests": {
            "POST /extract_runs/batch": {"200": 2, "429": 1},
            "POST /extract_runs": {"200": 4},
            "GET /extract_runs/{id}": {"200": 10, "429": 3},
            "GET /batch_runs/{id}": {"200": 5},
            "POST /files/upload": {"200": 7},
            "GET /_emulator/stats": {"200": 9},
        }
    }
    folded = requests_by_category(stats)
    assert folded["by_category"] == {"GET": 18, "RUN": 7, "WRITE": 7}
    assert folded["status_429"] == 4
    assert "GET /_emulator/stats" not in folded["by_route"]
