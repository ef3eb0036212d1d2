"""The measuring side of scenario 2, in its own process pinned to one core's worth of threads.

    POLARS_MAX_THREADS=1 python -m benchmarks._decode_child SAMPLES.json N SDK_N

SAMPLES.json holds ``{"config": <extractor config>, "runs": [<full run JSON>, ...]}`` taken
from the emulator. They are replicated to N bodies with varied ids and values (so nothing is
a cache hit), then decoded two ways, best of three:

- ``extend_frames``: ``decode_runs`` with the dtype from ``output_dtype`` (typed columns).
- ``sdk_pydantic``: ``ExtractRun.model_validate_json`` per body (the SDK's model), then
  ``pl.DataFrame`` from one dict per run (polars infers the types; dates stay strings).

Also times the floor: pyarrow reading only ``id`` from the same bodies (the JSON must be
tokenised whatever is kept), so the decoder's distance to what one core can parse is known.
Prints one JSON line with runs per second and CPU seconds for each.
"""

from __future__ import annotations

import copy
import json
import random
import resource
import sys
import time
from collections.abc import Callable
from typing import Any


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def replicate(runs: list[dict[str, Any]], count: int, seed: int = 0) -> list[bytes]:
    """``count`` compact run bodies cycling through ``runs`` with fresh ids and values."""
    rng = random.Random(seed)
    out = []
    for index in range(count):
        run = copy.deepcopy(runs[index % len(runs)])
        run["id"] = f"exr_bench{index:012d}"
        value = (run.get("output") or {}).get("value")
        if isinstance(value, dict):
            if "invoice_number" in value:
                value["invoice_number"] = f"INV-{rng.randint(0, 10**7):07d}"
            total = value.get("total")
            if isinstance(total, dict) and "amount" in total:
                total["amount"] = rng.randint(100, 10**7) / 100
            meta = run["output"].get("metadata")
            if isinstance(meta, dict):
                for field in meta.values():
                    if isinstance(field, dict) and "ocrConfidence" in field:
                        field["ocrConfidence"] = round(rng.uniform(0.5, 1.0), 3)
        out.append(json.dumps(run, separators=(",", ":")).encode())
    return out


def _best(fn: Callable[[], object], repeat: int = 3) -> tuple[float, float, object]:
    best_wall, best_cpu, result = float("inf"), float("inf"), None
    for _ in range(repeat):
        cpu = _cpu()
        started = time.perf_counter()
        result = fn()
        wall = time.perf_counter() - started
        if wall < best_wall:
            best_wall, best_cpu = wall, _cpu() - cpu
    return best_wall, best_cpu, result


def main() -> None:
    import pyarrow as pa

    pa.set_cpu_count(1)
    pa.set_io_thread_count(1)
    import polars as pl
    from extend_ai.types.extract_run import ExtractRun

    from extend_frames.frames._decode import decode_runs
    from extend_frames.frames._schema import output_dtype

    with open(sys.argv[1]) as f:
        samples = json.load(f)
    count, sdk_count = int(sys.argv[2]), int(sys.argv[3])
    bodies = replicate(samples["runs"], count)
    dtype = output_dtype("extract", samples["config"])

    def ours() -> pl.DataFrame:
        return decode_runs("extract", bodies, output_dtype=dtype)

    sdk_bodies = bodies[:sdk_count]

    def sdk() -> pl.DataFrame:
        rows = []
        for body in sdk_bodies:
            run = ExtractRun.model_validate_json(body)
            output = run.output
            rows.append(
                {
                    "run_id": run.id,
                    "status": run.status,
                    "failure_reason": run.failure_reason,
                    "failure_message": run.failure_message,
                    "output": getattr(output, "value", None),
                    "created_at": run.created_at,
                    "updated_at": run.updated_at,
                }
            )
        return pl.DataFrame(rows)

    import io

    import pyarrow.json as pa_json

    ndjson = b"\n".join(bodies)
    id_only = pa_json.ParseOptions(
        explicit_schema=pa.schema([("id", pa.string())]), unexpected_field_behavior="ignore"
    )
    read = pa_json.ReadOptions(use_threads=False, block_size=max(64 << 20, max(map(len, bodies))))

    def floor() -> object:
        return pa_json.read_json(io.BytesIO(ndjson), read_options=read, parse_options=id_only)

    floor_wall, _, _ = _best(floor)
    wall, cpu, frame = _best(ours)
    assert isinstance(frame, pl.DataFrame)
    assert frame.height == count
    typed = frame.schema["output"] == dtype
    sdk_wall, sdk_cpu, sdk_frame = _best(sdk, repeat=2)
    assert isinstance(sdk_frame, pl.DataFrame)
    assert sdk_frame.height == sdk_count
    ours_rate, sdk_rate = round(count / wall), round(sdk_count / sdk_wall)
    result: dict[str, Any] = {
        "runs": count,
        "mean_body_bytes": round(sum(map(len, bodies)) / count),
        "floor_id_only_runs_per_s": round(count / floor_wall),
        "extend_frames": {
            "runs": count,
            "wall_s": round(wall, 4),
            "cpu_s": round(cpu, 4),
            "runs_per_s": ours_rate,
            "typed_output": typed,
        },
        "sdk_pydantic": {
            "runs": sdk_count,
            "wall_s": round(sdk_wall, 4),
            "cpu_s": round(sdk_cpu, 4),
            "runs_per_s": sdk_rate,
            "typed_output": False,
        },
        "speedup": round(ours_rate / sdk_rate, 1),
    }
    print(json.dumps(result))


if __name__ == "__main__":
    main()
