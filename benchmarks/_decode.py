"""Scenario 2, decode speed: N full extract run JSONs into typed columns on one core.

Sample runs come from the emulator (a small extract job over invoice texts, each run fetched
with ``GET /extract_runs/{id}``); the measuring happens in ``benchmarks._decode_child`` with
``POLARS_MAX_THREADS=1`` and pyarrow's pools set to one thread.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from typing import Any

import httpx

from benchmarks._common import REPO, emulator, headers, invoice_texts
from extend_frames.emulator.samples import INVOICE_EXTRACTOR_CONFIG


def sample_runs(count: int = 40) -> list[dict[str, Any]]:
    """Full run JSONs of a small extract job on a fresh emulator."""
    with emulator() as emu, httpx.Client(base_url=emu.url, headers=headers(), timeout=60) as http:
        ex = emu.create_processor("extractor", INVOICE_EXTRACTOR_CONFIG)
        inputs = [{"file": {"text": t}} for t in invoice_texts(count, seed=2)]
        batch = http.post("/extract_runs/batch", json={"extractor": {"id": ex}, "inputs": inputs})
        batch.raise_for_status()
        batch_id = batch.json()["id"]
        deadline = time.monotonic() + 60
        while http.get(f"/batch_runs/{batch_id}").json()["status"] not in ("PROCESSED", "FAILED"):
            if time.monotonic() > deadline:
                raise RuntimeError("sample batch did not finish within 60 s")
            time.sleep(0.05)
        listed = http.get("/extract_runs", params={"batchId": batch_id, "maxPageSize": 1000})
        runs = [http.get(f"/extract_runs/{s['id']}").json() for s in listed.json()["data"]]
    if not runs:
        raise RuntimeError("the emulator returned no runs for the sample batch")
    return runs


def run(count: int, sdk_count: int) -> dict[str, Any]:
    runs = sample_runs()
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as f:
        json.dump({"config": INVOICE_EXTRACTOR_CONFIG, "runs": runs}, f)
        path = f.name
    try:
        env = dict(os.environ, POLARS_MAX_THREADS="1", OMP_NUM_THREADS="1")
        done = subprocess.run(
            [sys.executable, "-m", "benchmarks._decode_child", path, str(count), str(sdk_count)],
            cwd=REPO,
            env=env,
            capture_output=True,
            text=True,
            check=False,
        )
    finally:
        os.unlink(path)
    if done.returncode != 0:
        raise RuntimeError(f"decode child failed ({done.returncode}): {done.stderr[-3000:]}")
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result
