"""Fixtures for end-to-end job tests: a sample corpus served over loopback HTTP, an emulator,
and a client tuned for the emulator (high rate limits, fast polling)."""

from __future__ import annotations

import contextlib
import functools
import http.server
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import polars as pl
import pytest

import extend_frames as xf
from extend_frames.emulator import Emulator
from extend_frames.emulator.samples import (
    CLASSIFIER_CONFIG,
    INVOICE_EXTRACTOR_CONFIG,
    SPLITTER_CONFIG,
    SampleSet,
    generate_samples,
)

FAST = xf.Polling.fast()
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="session")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> SampleSet:
    return generate_samples(tmp_path_factory.mktemp("corpus"), count=60, seed=11)


@pytest.fixture(scope="session")
def truth(corpus: SampleSet) -> pl.DataFrame:
    return pl.read_parquet(corpus.ground_truth_path).with_columns(
        pl.concat_str(pl.lit(str(corpus.directory) + "/"), pl.col("path")).alias("local_path")
    )


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture(scope="session")
def corpus_url(corpus: SampleSet) -> Iterator[str]:
    """The corpus folder served over HTTP on 127.0.0.1 (URL inputs the emulator downloads)."""
    handler = functools.partial(_Quiet, directory=str(corpus.directory))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def make_client(emu: Emulator) -> xf.Client:
    fast = xf.RateLimits(get=2000, write=2000, run=2000)
    return xf.Client(api_key=emu.api_key, base_url=emu.url, rate_limits=fast)


def create_processor(emu: Emulator | tuple[str, str], kind: str) -> str:
    """Create an extractor/classifier/splitter from the corpus configs; return its id.

    ``emu`` is an in-process Emulator or the (url, api_key) of one in another process.
    """
    import httpx

    url, key = (emu.url, emu.api_key) if isinstance(emu, Emulator) else emu

    config = {
        "extractor": INVOICE_EXTRACTOR_CONFIG,
        "classifier": CLASSIFIER_CONFIG,
        "splitter": SPLITTER_CONFIG,
    }[kind]
    response = httpx.post(
        f"{url}/{kind}s",
        json={"name": f"test {kind}", "config": config},
        headers={"Authorization": f"Bearer {key}", "x-extend-api-version": "2026-02-09"},
        timeout=60.0,  # httpx's 5 s default is not enough on a busy CI machine
    )
    response.raise_for_status()
    return str(response.json()["id"])


@pytest.fixture
def emulator() -> Iterator[Emulator]:
    with Emulator() as emu:
        yield emu


@dataclass
class RemoteEmulator:
    """An emulator in its own process (``extend-frames emulator``), as a user's would run."""

    url: str
    api_key: str
    process: subprocess.Popen[bytes]

    def stats(self) -> dict[str, Any]:
        return dict(httpx.get(f"{self.url}/_emulator/stats", timeout=60.0).json())


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextlib.contextmanager
def run_remote_emulator(api_key: str, *args: str) -> Iterator[RemoteEmulator]:
    """Start ``extend-frames emulator`` (plus ``args``, e.g. speed flags), wait until it
    answers (bounded), stop it afterwards."""
    port = _free_port()
    cmd = [sys.executable, "-m", "extend_frames.cli", "emulator", "--port", str(port)]
    cmd += ["--api-key", api_key, *args]
    process = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    # Readiness of another process can only be polled: tests using this are marked realtime.
    while True:  # readiness: bounded poll of the operator endpoint
        try:
            httpx.get(f"{url}/_emulator/stats", timeout=1).raise_for_status()
            break
        except httpx.HTTPError:
            if process.poll() is not None or time.monotonic() > deadline:
                process.kill()
                raise RuntimeError(f"emulator did not start: {process.stderr}") from None
            time.sleep(0.05)
    try:
        yield RemoteEmulator(url, api_key, process)
    finally:
        process.terminate()
        process.wait(timeout=30)
