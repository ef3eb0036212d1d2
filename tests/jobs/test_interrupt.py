"""An interrupt stops the job: no batch is submitted after it, the call raises promptly, and a
rerun with the same ``output=`` resumes without submitting any input twice.

The job runs in a real subprocess that calls the sync API inside ``asyncio.run`` (the shape of
a notebook cell), against an emulator in another process whose queue delay keeps each batch
PENDING for a while; the signal is a real SIGINT.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import polars as pl
import pytest

import extend_frames as xf
from extend_frames.emulator import Emulator, Speed

from .conftest import (
    FAST,
    ROOT,
    RemoteEmulator,
    create_processor,
    make_client,
    run_remote_emulator,
)

pytestmark = pytest.mark.realtime(
    reason="real SIGINTs to real processes; the emulator's threads are polled"
)
API_KEY = "sk_interrupt_test"
BATCHES = 15
BATCH_SIZE = 10
ROWS = BATCHES * BATCH_SIZE
FAST_LIMITS = xf.RateLimits(get=2000, write=2000, run=2000)


def _frame(rows: int) -> pl.DataFrame:
    return pl.DataFrame(
        {"doc": [f"d{i:04d}" for i in range(rows)], "text": [f"Invoice K-{i}" for i in range(rows)]}
    )


def _until(predicate: object, seconds: float = 60.0) -> None:
    """Bounded wait on a condition another process changes."""
    deadline = time.monotonic() + seconds
    while not predicate():  # type: ignore[operator]
        assert time.monotonic() < deadline, "condition not reached"
        threading.Event().wait(0.02)


@pytest.fixture(scope="module")
def slow_emulator() -> Iterator[tuple[RemoteEmulator, str]]:
    """An emulator in its own process whose batches wait 2 s in PENDING (4 in flight: a
    15-batch job takes ~8 s uninterrupted), and an extractor on it."""
    with run_remote_emulator(API_KEY, "--batch-queue-delay", "2") as emu:
        yield emu, create_processor((emu.url, API_KEY), "extractor")


@dataclass
class Interrupted:
    returncode: int
    stdout: str
    stderr: str
    took: float  # seconds from the signal to the exit
    at_signal: int  # batches the job had created when the signal was sent


def _interrupt(emu: RemoteEmulator, cmd: list[str]) -> Interrupted:
    """Start ``cmd``, send it SIGINT 1.5 s after its first batch was created."""
    base = emu.stats()["batches_created"]
    env = {**os.environ, "EXTEND_API_KEY": API_KEY}
    child = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        _until(lambda: emu.stats()["batches_created"] > base)
        threading.Event().wait(1.5)  # the scenario: the signal 1.5 s into the job
        child.send_signal(signal.SIGINT)
        signalled = time.monotonic()
        at_signal = emu.stats()["batches_created"]
        out, err = child.communicate(timeout=60)
        took = time.monotonic() - signalled
    finally:
        child.kill()
    return Interrupted(child.returncode, out.decode(), err.decode(), took, at_signal - base)


@pytest.mark.slow
def test_sigint_under_a_running_loop_stops_submitting_and_a_rerun_resumes(
    slow_emulator: tuple[RemoteEmulator, str], tmp_path: Path
) -> None:
    emu, extractor = slow_emulator
    output = str(tmp_path / "out")
    before = emu.stats()
    cmd = [sys.executable, "-m", "tests.jobs._interrupt_child", emu.url, API_KEY]
    cmd += [extractor, output, str(ROWS), str(BATCH_SIZE)]
    got = _interrupt(emu, cmd)
    print(f"\ninterrupted child exited {got.took:.2f} s after SIGINT")
    assert json.loads(got.stdout.strip().splitlines()[-1]) == {"interrupted": True}, got.stderr
    assert got.returncode == 130
    assert got.took < 3.0, f"exited {got.took:.1f} s after the signal"
    assert 1 <= got.at_signal < BATCHES
    after = emu.stats()
    assert after["batches_created"] - before["batches_created"] == got.at_signal  # none after

    rerun = xf.extract(
        _frame(ROWS),
        processor=extractor,
        text_column="text",
        output=output,
        batch_size=BATCH_SIZE,
        client=xf.Client(api_key=API_KEY, base_url=emu.url, rate_limits=FAST_LIMITS),
        polling=FAST,
        progress=False,
    )
    stats = emu.stats()
    assert rerun.get_column("doc").to_list() == [f"d{i:04d}" for i in range(ROWS)]
    assert (rerun.get_column("status") == "PROCESSED").all()
    assert stats["duplicate_inputs"] == 0
    assert stats["inputs_submitted"] - before["inputs_submitted"] == ROWS


@pytest.mark.slow
def test_the_cli_exits_130_on_sigint_and_submits_nothing_after_it(
    slow_emulator: tuple[RemoteEmulator, str], tmp_path: Path
) -> None:

    emu, extractor = slow_emulator
    source = tmp_path / "in.csv"
    _frame(ROWS).write_csv(source)
    cmd = [sys.executable, "-m", "extend_frames.cli", "extract", str(source)]
    cmd += ["--processor", extractor, "--text-column", "text", "--batch-size", str(BATCH_SIZE)]
    cmd += ["--output", str(tmp_path / "out"), "--base-url", emu.url, "--no-progress"]
    before = emu.stats()["batches_created"]
    got = _interrupt(emu, cmd)
    assert got.returncode == 130, got.stderr
    assert "interrupted; rerun the same command to resume" in got.stderr
    assert "Traceback" not in got.stderr
    assert emu.stats()["batches_created"] - before == got.at_signal


async def test_a_cancelled_async_twin_stops_submitting_and_resumes(tmp_path: Path) -> None:
    output = str(tmp_path / "out")
    with Emulator(clock="manual", speed=Speed(batch_queue_delay=30.0)) as emu:
        extractor = create_processor(emu, "extractor")
        kwargs: dict[str, Any] = {
            "processor": extractor,
            "text_column": "text",
            "output": output,
            "batch_size": BATCH_SIZE,
            "polling": FAST,
            "progress": False,
            "route": "batch",  # 60 rows would go through single runs under route="auto"
        }
        rows = 6 * BATCH_SIZE
        task = asyncio.ensure_future(xf.aextract(_frame(rows), client=make_client(emu), **kwargs))
        deadline = time.monotonic() + 60
        while emu.stats()["batches_created"] < 4:  # the first wave is in flight, then waits
            assert time.monotonic() < deadline
            assert not task.done()
            await asyncio.sleep(0.01)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        assert emu.stats()["batches_created"] == 4  # nothing more was submitted

        rerun = asyncio.ensure_future(xf.aextract(_frame(rows), client=make_client(emu), **kwargs))
        while not rerun.done():  # the manual clock moves only when told to
            emu.advance(60)
            await asyncio.sleep(0.01)
        result = rerun.result()
        stats = emu.stats()
    assert result.height == rows
    assert (result.get_column("status") == "PROCESSED").all()
    assert stats["duplicate_inputs"] == 0
    assert stats["inputs_submitted"] == rows
    assert stats["batches_created"] == 6
