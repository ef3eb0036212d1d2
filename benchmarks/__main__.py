"""Run the benchmarks: ``python -m benchmarks [--quick] [--only SCENARIO ...] [--json PATH]``.

Scenarios (see each module's docstring): ``flow`` (request economy and wall time against a
rate-limited emulator, extend_frames vs the official SDK two ways), ``decode`` (run JSON to
typed columns), ``scale`` (a large job: CPU and peak memory of the client process) and
``serve`` (run GETs per second the emulator serves on one core), ``extraction`` (the
emulator's extraction accuracy by field on its generated corpus and on real invoices),
``route`` (latency of 1-, 5- and 25-document jobs through single runs, a batch,
``route="auto"`` and the SDK's ``create_and_poll``, against a delayed batch queue),
``cache`` (result cache lookup time and peak memory against the cache's size),
``spark`` (``extend_frames.spark`` against plain ``xf.extract``, and the driver's memory),
``storms`` (the request rate before, during and after 429 storms), ``backfill`` (a job
through the CLI killed at seeded moments and resumed, client memory by size, the resume fold)
and ``tables`` (the cost per batch of publishing to Delta and Iceberg tables against writing
the Parquet part alone).

A full run writes ``benchmarks/results/latest.json`` and ``benchmarks/RESULTS.md``; ``--quick``
(the CI smoke) and ``--only`` write only the ``--json`` file, if given.
"""

from __future__ import annotations

import argparse
import json
import shlex
import sys
import time
from pathlib import Path
from typing import Any

from benchmarks import (
    _backfill,
    _cache,
    _decode,
    _extraction,
    _flow,
    _report,
    _route,
    _scale,
    _serve,
    _spark,
    _storms,
    _tables,
)
from benchmarks._common import ROOT, machine_info

SCENARIOS = (
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
)
#: The scenarios whose ``run`` takes their sizes as one argument.
_MODULES: dict[str, Any] = {
    "flow": _flow,
    "scale": _scale,
    "serve": _serve,
    "route": _route,
    "cache": _cache,
    "spark": _spark,
    "storms": _storms,
    "backfill": _backfill,
    "tables": _tables,
}

#: Sizes per mode. The full flow takes a few minutes per contender; quick runs in seconds.
FULL: dict[str, Any] = {
    "flow": _flow.FlowSetup(files=5000, batch_size=1000, files_per_minute=4800, rate=80),
    "decode": (100_000, 20_000),
    "scale": [25_000, 100_000],
    "serve": 10.0,
    "extraction": 220,  # generated corpus size (the test suite's); the real corpus is fixed
    "route": _route.RouteSetup(sweep=(50, 75, 100)),
    "cache": [10_000, 100_000, 1_000_000],
    "spark": _spark.SparkSetup(rows=3000, files_per_minute=6000, rate=100, memory_rows=100_000),
    "storms": _storms.FULL,
    "backfill": _backfill.FULL,
    "tables": (40, 1000),  # batches, rows per batch: a 40,000-document job
}
QUICK: dict[str, Any] = {
    "flow": _flow.FlowSetup(
        files=200, batch_size=100, files_per_minute=12_000, rate=200, sdk_threads=16
    ),
    "decode": (2_000, 500),
    "scale": [300, 1_000],
    "serve": 1.0,
    # quick: a small generated corpus, and real invoices only if already fetched (no download)
    "extraction": 30,
    "route": _route.RouteSetup(
        sizes=(1, 5), batch_queue_delay=1.0, run_latency=0.0, rate=50.0, pause=0.1
    ),
    "cache": [2_000],
    # quick: one JVM (the timed pair on 100 rows); the 100k-reference memory run is full only
    "spark": _spark.SparkSetup(
        rows=100, files_per_minute=12_000, rate=200, memory_rows=0, rounds=1
    ),
    "storms": _storms.QUICK,
    "backfill": _backfill.QUICK,
    "tables": (3, 100),
}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="small sizes (the CI smoke)")
    parser.add_argument(
        "--only", action="append", choices=SCENARIOS, help="run only this scenario (repeatable)"
    )
    parser.add_argument("--json", type=Path, help="write the results here")
    args = parser.parse_args(argv)
    sizes = QUICK if args.quick else FULL
    chosen = [s for s in SCENARIOS if not args.only or s in args.only]
    command = "python -m benchmarks " + shlex.join(sys.argv[1:] if argv is None else argv)
    results: dict[str, Any] = {
        "mode": "quick" if args.quick else "full",
        "machine": machine_info(command.strip()),
        "scenarios": {},
    }
    started = time.perf_counter()
    for name in chosen:
        print(f"== {name} ...", flush=True)
        t0 = time.perf_counter()
        if name == "decode":
            outcome = _decode.run(*sizes["decode"])
        elif name == "extraction":
            outcome = _extraction.run(sizes["extraction"], fetch=not args.quick)
        else:  # the others take their sizes as they are
            outcome = _MODULES[name].run(sizes[name])
        outcome["scenario_s"] = round(time.perf_counter() - t0, 1)
        results["scenarios"][name] = outcome
        print(_report.section(name, outcome), flush=True)
    results["total_s"] = round(time.perf_counter() - started, 1)
    results["targets"] = _report.targets(results["scenarios"])
    print(_report.targets_table(results["targets"]))
    print(f"total {results['total_s']} s")

    full = not args.quick and not args.only
    json_path = args.json or (ROOT / "results" / "latest.json" if full else None)
    if json_path is not None:
        json_path.parent.mkdir(parents=True, exist_ok=True)
        json_path.write_text(json.dumps(results, indent=2) + "\n")
        print(f"wrote {json_path}")
    if full:
        (ROOT / "RESULTS.md").write_text(_report.markdown(results))
        print(f"wrote {ROOT / 'RESULTS.md'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
