"""Shared pieces of the benchmarks: an emulator in its own process, sample texts, stats, machine.

The emulator always runs as a subprocess (``python -m extend_frames.cli emulator ...``) so the
CPU it burns never counts against the client being measured, and each contender gets a fresh
emulator so request counters and processing queues start from zero.
"""

from __future__ import annotations

import contextlib
import json
import os
import platform
import random
import shutil
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

import httpx

API_KEY = "bench-key"  # the emulator's own local key; not a secret
API_VERSION = "2026-02-09"
ROOT = Path(__file__).resolve().parent
REPO = ROOT.parent


def peak_rss_mib() -> float:
    """This process's own peak resident set size, in MiB.

    On Linux ``getrusage(...).ru_maxrss`` survives ``execve``: a child started by a large
    parent reports the parent's peak when it is higher. ``VmHWM`` in ``/proc/self/status``
    belongs to the child's own address space; ``ru_maxrss`` is the fallback elsewhere.
    """
    try:
        with open("/proc/self/status") as fh:
            for line in fh:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    import resource

    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / (2**20 if sys.platform == "darwin" else 1024)  # bytes on macOS, KiB elsewhere


def free_port() -> int:
    """A TCP port that was free a moment ago on 127.0.0.1."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass(slots=True)
class EmulatorProcess:
    """A running ``extend-frames emulator`` subprocess."""

    url: str
    process: subprocess.Popen[bytes]

    @property
    def api_key(self) -> str:
        return API_KEY

    def stats(self) -> dict[str, Any]:
        response = httpx.get(f"{self.url}/_emulator/stats", timeout=30)
        response.raise_for_status()
        data: dict[str, Any] = response.json()
        return data

    def cpu_seconds(self) -> float:
        """User + system CPU seconds the emulator process has used so far."""
        import psutil  # the dev extra

        times = psutil.Process(self.process.pid).cpu_times()
        return float(times.user + times.system)

    def create_processor(self, kind: str, config: dict[str, Any], name: str = "bench") -> str:
        response = httpx.post(
            f"{self.url}/{kind}s",
            json={"name": name, "config": config},
            headers=headers(),
            timeout=30,
        )
        response.raise_for_status()
        return str(response.json()["id"])


def headers() -> dict[str, str]:
    return {"Authorization": f"Bearer {API_KEY}", "x-extend-api-version": API_VERSION}


@contextlib.contextmanager
def emulator(*args: str, cpu: int | None = None) -> Iterator[EmulatorProcess]:
    """Start ``python -m extend_frames.cli emulator ARGS`` on a free port; stop it on exit.

    ``cpu`` pins the process to that core with ``taskset`` when the tool exists.
    """
    port = free_port()
    cmd = [sys.executable, "-m", "extend_frames.cli", "emulator", "--port", str(port)]
    if cpu is not None and shutil.which("taskset"):
        cmd = ["taskset", "-c", str(cpu), *cmd]
    cmd += ["--api-key", API_KEY, *args]
    process = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:  # bounded readiness poll: the server answers its stats route
            if process.poll() is not None:
                err = process.stderr.read().decode() if process.stderr else ""
                raise RuntimeError(f"emulator exited early ({process.returncode}): {err[-2000:]}")
            try:
                httpx.get(f"{url}/_emulator/stats", timeout=1).raise_for_status()
                break
            except httpx.HTTPError:
                if time.monotonic() > deadline:
                    raise RuntimeError("emulator did not answer within 30 s") from None
                time.sleep(0.05)
        yield EmulatorProcess(url, process)
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        if process.stderr:
            process.stderr.close()


_VENDORS = ["Acme Corp", "Globex GmbH", "Initech LLC", "Umbrella SA", "Hooli Inc", "Stark Ltd"]
_CURRENCIES = ["USD", "EUR", "GBP", "CHF"]


def sdk_per_file(
    emu: EmulatorProcess,
    ex: str,
    texts: list[str],
    threads: int,
    on_error: Callable[[Exception], None] | None = None,
) -> int:
    """The official SDK's way for one file at a time: ``extract_runs.create_and_poll`` per
    text, on ``threads`` threads. Returns how many came back PROCESSED; a file whose call
    raises (a 429 past the SDK's retries, say) is lost and goes to ``on_error``."""
    from extend_ai import Extend

    client = Extend(token=emu.api_key, base_url=emu.url, extend_api_version="2026-02-09")
    processed = 0
    lock = threading.Lock()

    def one(text: str) -> None:
        nonlocal processed
        try:
            run = client.extract_runs.create_and_poll(file={"text": text}, extractor={"id": ex})
        except Exception as exc:
            if on_error is not None:
                on_error(exc)
            return
        if run.status == "PROCESSED":
            with lock:
                processed += 1

    with ThreadPoolExecutor(max(1, threads)) as pool:
        list(pool.map(one, texts))
    return processed


def invoice_texts(count: int, seed: int = 0) -> list[str]:
    """``count`` distinct short invoice texts (the emulator extracts fields from them)."""
    rng = random.Random(seed)
    out = []
    for index in range(count):
        vendor = rng.choice(_VENDORS)
        amount = rng.randint(100, 999_999) / 100
        out.append(
            f"INVOICE\n{vendor}\n{rng.randint(1, 999)} Market Street\n"
            f"Invoice Number: INV-{index:07d}\n"
            f"Invoice Date: 2025-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}\n"
            f"Bill To: Customer {rng.randint(1, 5000)}\n"
            f"Consulting services {rng.randint(1, 40)} h\n"
            f"Total: {amount:.2f} {rng.choice(_CURRENCIES)}\n"
        )
    return out


def machine_info(command: str) -> dict[str, Any]:
    """CPU model, cores, RAM, Python, package versions, date and the reproducing command."""
    cpu = platform.processor() or platform.machine()
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    ram = 0.0
    with contextlib.suppress(OSError, ValueError, IndexError):
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal"):
                ram = int(line.split()[1]) / 2**20
                break
    versions = {}
    for name in ("extend-frames", "extend-ai", "polars", "pyarrow", "httpx", "pydantic"):
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = "not installed"
    load = os.getloadavg()
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "ram_gib": round(ram, 1),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "packages": versions,
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "load_avg_at_start": [round(x, 2) for x in load],
        "command": command,
    }


def requests_by_category(stats: dict[str, Any]) -> dict[str, Any]:
    """Fold the emulator's per-route counters into GET/RUN/WRITE totals, 429s and by route."""
    totals = {"GET": 0, "RUN": 0, "WRITE": 0}
    limited = 0
    routes: dict[str, int] = {}
    for route, codes in stats["requests"].items():
        if "/_emulator/" in route:
            continue
        count = sum(codes.values())
        routes[route] = count
        limited += codes.get("429", 0)
        method, _, path = route.partition(" ")
        if method == "GET":
            totals["GET"] += count
        elif path.endswith("/batch") or path.rstrip("/") in (
            "/extract_runs",
            "/parse_runs",
            "/classify_runs",
            "/split_runs",
        ):
            totals["RUN"] += count
        else:
            totals["WRITE"] += count
    return {"by_category": totals, "status_429": limited, "by_route": routes}


def run_child(module: str, *args: str) -> dict[str, Any]:
    """Run ``python -m MODULE ARGS`` from the repository root; return its last stdout line as
    JSON (RuntimeError with the end of its stderr if it fails)."""
    done = subprocess.run(
        [sys.executable, "-m", module, *args],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"{module} failed ({done.returncode}): {done.stderr[-3000:]}")
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result
