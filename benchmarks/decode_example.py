"""Measure decode_runs on 10,000 extract runs shaped like Extend's example (not a test).

Run: ``POLARS_MAX_THREADS=1 python -m benchmarks.decode_example [runs]``. Prints the best of
five wall times and the per-phase split. Each body is ~4.6 KB (config, citations, usage
breakdown), so the run rate is bound by JSON tokenising; a read of only ``id`` is printed as
the floor for comparison.
"""

from __future__ import annotations

import io
import json
import sys
import time
from pathlib import Path

import polars as pl

from extend_frames.frames import _decode
from extend_frames.frames._decode import decode_runs
from extend_frames.frames._schema import output_dtype

EXAMPLES = Path(__file__).resolve().parents[1] / "tests" / "frames" / "examples"


def _bodies(count: int) -> list[bytes]:
    run = json.loads((EXAMPLES / "extract_run.json").read_text())
    out = []
    for index in range(count):
        run["id"] = f"exr_{index:020d}"
        run["metadata"]["extend_frames"]["row"] = f"row-{index}"
        out.append(json.dumps(run, separators=(",", ":")).encode())
    return out


def _best(fn: object, repeat: int = 5) -> float:
    best = float("inf")
    for _ in range(repeat):
        started = time.perf_counter()
        fn()  # type: ignore[operator]
        best = min(best, time.perf_counter() - started)
    return best


def main() -> None:
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 10_000
    config = json.loads((EXAMPLES / "extractor.json").read_text())["draftVersion"]["config"]
    dtype = output_dtype("extract", config)
    bodies = _bodies(count)
    size = sum(map(len, bodies))
    total = _best(lambda: decode_runs("extract", bodies, output_dtype=dtype))
    print(f"{count} runs, {size / 1e6:.1f} MB: {total:.3f} s -> {count / total:,.0f} runs/s")

    ndjson = b"\n".join(bodies)
    conf = pl.Struct(dict.fromkeys(dtype.to_schema(), pl.Float64))  # type: ignore[attr-defined]
    plan = _decode._Plan("extract", dtype, conf, ndjson)
    schema = plan.read_schema("exact")
    raw = _decode._read_arrow(ndjson, schema, longest=max(map(len, bodies)))
    assert raw is not None, "the fast pyarrow path was not taken"
    phases = {
        "join": lambda: b"\n".join(bodies),
        "plan (array index scan)": lambda: _decode._Plan("extract", dtype, conf, ndjson),
        "read (pyarrow json)": lambda: _decode._read_arrow(ndjson, schema, longest=len(bodies[0])),
        "finish (expressions)": lambda: plan.finish(raw, "exact"),
        "floor: polars read of id only": lambda: pl.read_ndjson(
            io.BytesIO(ndjson), schema={"id": pl.String}
        ),
    }
    for name, fn in phases.items():
        print(f"  {name:32s} {_best(fn):.3f} s")


if __name__ == "__main__":
    main()
