"""Scenario 4, the emulator itself: run GETs per second it serves on one core.

The emulator (instant mode, no rate limits) is pinned to core 0 and the load generator to
core 1 when ``taskset`` exists. The load is ``wrk`` when installed (a Lua script cycles through
the ids of 1,000 real runs), else ``benchmarks._load_child`` (raw asyncio keep-alive sockets).
Every other scenario needs at most a few hundred requests per second from the emulator, so a
figure far above that shows they are not limited by it.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from typing import Any

import httpx

from benchmarks._common import API_KEY, API_VERSION, REPO, emulator, headers, invoice_texts
from extend_frames.emulator.samples import INVOICE_EXTRACTOR_CONFIG

_LUA = """
local ids = {}
for line in io.lines("%s") do ids[#ids + 1] = line end
local i = 0
request = function()
  i = i + 1
  return wrk.format("GET", "/extract_runs/" .. ids[(i %% #ids) + 1])
end
"""


def _pin(cpu: int) -> list[str]:
    return ["taskset", "-c", str(cpu)] if shutil.which("taskset") else []


def run(
    seconds: float, connections: int = 64, runs: int = 1000, *, use_wrk: bool = True
) -> dict[str, Any]:
    """Serve ``runs`` real runs, then load them for ``seconds``; requests per second."""
    with emulator(cpu=0) as emu, tempfile.TemporaryDirectory(prefix="xf-bench-") as tmp:
        http = httpx.Client(base_url=emu.url, headers=headers(), timeout=60)
        ex = emu.create_processor("extractor", INVOICE_EXTRACTOR_CONFIG)
        inputs = [{"file": {"text": t}} for t in invoice_texts(runs, seed=4)]
        batch_id = http.post(
            "/extract_runs/batch", json={"extractor": {"id": ex}, "inputs": inputs}
        ).json()["id"]
        deadline = time.monotonic() + 120
        while http.get(f"/batch_runs/{batch_id}").json()["status"] not in ("PROCESSED", "FAILED"):
            if time.monotonic() > deadline:
                raise RuntimeError("the load batch did not finish within 120 s")
            time.sleep(0.05)
        listed = http.get("/extract_runs", params={"batchId": batch_id, "maxPageSize": 1000})
        ids = [r["id"] for r in listed.json()["data"]]
        body_bytes = len(http.get(f"/extract_runs/{ids[0]}").content)
        http.close()
        ids_path = os.path.join(tmp, "ids.txt")
        with open(ids_path, "w") as f:
            f.write("\n".join(ids) + "\n")
        port = emu.url.rsplit(":", 1)[1]
        cpu_before = emu.cpu_seconds()
        if use_wrk and shutil.which("wrk"):
            script = os.path.join(tmp, "ids.lua")
            with open(script, "w") as f:
                f.write(_LUA % ids_path)
            cmd = [*_pin(1), "wrk", "-t1", f"-c{connections}", f"-d{max(1, round(seconds))}s"]
            cmd += ["-H", f"Authorization: Bearer {API_KEY}"]
            cmd += ["-H", f"x-extend-api-version: {API_VERSION}", "-s", script]
            cmd += ["--latency", emu.url]
            done = subprocess.run(cmd, capture_output=True, text=True, check=True)
            result = _parse_wrk(done.stdout)
            result["tool"] = "wrk"
        else:
            cmd = [*_pin(1), sys.executable, "-m", "benchmarks._load_child", port]
            cmd += [str(seconds), str(connections), ids_path]
            done = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True, check=True)
            result = json.loads(done.stdout.strip().splitlines()[-1])
            result["tool"] = "benchmarks._load_child (raw asyncio sockets)"
        cpu = emu.cpu_seconds() - cpu_before
    result.update(
        connections=connections,
        distinct_runs=len(ids),
        body_bytes=body_bytes,
        emulator_cpu_s=round(cpu, 2),
        pinned=bool(shutil.which("taskset")),
    )
    return {k: round(v, 2) if isinstance(v, float) else v for k, v in result.items()}


def _parse_wrk(text: str) -> dict[str, Any]:
    rps = re.search(r"Requests/sec:\s+([\d.]+)", text)
    total = re.search(r"(\d+) requests in ([\d.]+)(m?s)", text)
    non2xx = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", text)
    p50 = re.search(r"50%\s+([\d.]+)(us|ms|s)", text)
    p99 = re.search(r"99%\s+([\d.]+)(us|ms|s)", text)
    if rps is None or total is None:
        raise RuntimeError(f"could not read wrk's output:\n{text}")
    scale = {"us": 1e-3, "ms": 1.0, "s": 1e3}
    return {
        "requests": int(total.group(1)),
        "errors": int(non2xx.group(1)) if non2xx else 0,
        "rps": float(rps.group(1)),
        "p50_ms": float(p50.group(1)) * scale[p50.group(2)] if p50 else None,
        "p99_ms": float(p99.group(1)) * scale[p99.group(2)] if p99 else None,
    }
