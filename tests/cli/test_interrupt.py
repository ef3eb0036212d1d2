"""Ctrl-C ends ``extend-frames collect`` like a job command: exit 130, the hint to rerun the
same command, no traceback. A real subprocess, a real SIGINT, an emulator in its own process
whose batches stay PENDING while the signal arrives."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import polars as pl
import pytest

from extend_frames.cli import main
from tests.jobs.conftest import ROOT, RemoteEmulator, create_processor, run_remote_emulator

pytestmark = pytest.mark.realtime(
    reason="a real SIGINT to a real process, against an emulator in another process"
)
API_KEY = "sk_cli_interrupt_test"


@pytest.fixture(scope="module")
def pending_emulator() -> Iterator[tuple[RemoteEmulator, str]]:
    """Batches wait an hour in PENDING: collect polls until it is interrupted."""
    with run_remote_emulator(API_KEY, "--batch-queue-delay", "3600") as emu:
        yield emu, create_processor((emu.url, API_KEY), "extractor")


def _until(predicate: object, seconds: float = 60.0) -> None:
    deadline = time.monotonic() + seconds
    while not predicate():  # type: ignore[operator]
        assert time.monotonic() < deadline, "condition not reached"
        threading.Event().wait(0.02)


@pytest.mark.slow
def test_collect_exits_130_on_sigint_with_the_rerun_hint(
    pending_emulator: tuple[RemoteEmulator, str],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:

    emu, extractor = pending_emulator
    monkeypatch.setenv("EXTEND_API_KEY", API_KEY)
    source, output = tmp_path / "in.csv", str(tmp_path / "out")
    pl.DataFrame({"text": [f"Invoice K-{i}" for i in range(4)]}).write_csv(source)
    api = ["--base-url", emu.url, "--no-progress", "--rate-limit", "2000"]
    detached = main(["extract", str(source), "--processor", extractor, "--text-column", "text",
                     "--route", "batch", "--output", output, "--detach", *api])  # fmt: skip
    assert detached == 4

    polls = ["--poll-initial", "0.05", "--poll-max", "0.05"]
    cmd = [sys.executable, "-m", "extend_frames.cli", "collect", output, *api, *polls]
    env = {**os.environ, "EXTEND_API_KEY": API_KEY}
    before = emu.stats()["requests_total"]
    child = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        _until(lambda: emu.stats()["requests_total"] >= before + 3)  # it is polling the batch
        child.send_signal(signal.SIGINT)
        out, err = child.communicate(timeout=60)
    finally:
        child.kill()
    stderr = err.decode()
    assert child.returncode == 130, stderr
    assert "extend-frames collect: interrupted; rerun the same command to resume" in stderr
    assert "Traceback" not in stderr
    assert out.decode() == ""
