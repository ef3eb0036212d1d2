"""A create-POST committed after the client stopped waiting is never paid twice silently.

The emulator's manual clock and the client's virtual clock move together (every client wait
advances the emulator), so a grace period of minutes costs no real time. The client keeps its
default settings: rate limits, retry policy and the grace derived from its timeouts (only the
read timeout is shortened where the scenario is "the answer outlives the read timeout").
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import polars as pl
import pytest

import extend_frames as xf
from extend_frames.api import VirtualClock
from extend_frames.emulator import Emulator, Faults
from extend_frames.emulator._faults import chance
from extend_frames.store import JobStore

from .conftest import FAST, create_processor

ROWS = 40


class EmulatorTime(VirtualClock):
    """The client's clock, tied to a manual-clock emulator: a client sleep moves both."""

    __slots__ = ("emu",)

    def __init__(self, emu: Emulator) -> None:
        super().__init__()
        self.emu = emu

    async def sleep(self, seconds: float) -> None:
        await super().sleep(seconds)
        if seconds > 0:
            self.emu.advance(seconds)


def _client(emu: Emulator, **kwargs: Any) -> xf.Client:
    return xf.Client(
        api_key=emu.api_key,
        base_url=emu.url,
        retry=xf.RetryPolicy(clock=EmulatorTime(emu)),
        **kwargs,
    )


def _extract(emu: Emulator, client: xf.Client, output: Path, route: str = "batch") -> pl.DataFrame:
    frame = pl.DataFrame({"text": [f"Invoice number: LC-{i}" for i in range(ROWS)]})
    return xf.extract(
        frame,
        processor=create_processor(emu, "extractor"),
        text_column="text",
        output=str(output),
        client=client,
        polling=FAST,
        progress=False,
        route=route,  # type: ignore[arg-type]
    )


def _seed_with(pattern: list[bool], rate: float = 0.5) -> int:
    """A fault seed whose first create-POSTs are late exactly as ``pattern`` says."""
    for seed in range(10_000):
        if [chance(seed, "late", n) < rate for n in range(len(pattern))] == pattern:
            return seed
    raise AssertionError("no seed found")


@pytest.mark.parametrize("route", ["batch", "single"])
def test_504_while_in_flight_is_adopted_not_paid_twice(tmp_path: Path, route: str) -> None:
    # the gateway answers 504 at once; the batch (or each single run) commits 45 s later
    # (default grace: 120 s); single-run create-POSTs go through the same reconciliation
    faults = Faults(late_commit_rate=1.0, late_commit_seconds=45.0)
    with Emulator(faults=faults, clock="manual") as emu:
        out = _extract(emu, _client(emu), tmp_path / "out", route)
        stats = emu.stats()
    assert stats["faults"]["late_commits"] == (1 if route == "batch" else ROWS)
    assert stats["duplicate_inputs"] == 0
    assert stats["inputs_submitted"] == ROWS
    assert out.height == ROWS
    assert (out.get_column("status") == "PROCESSED").all()
    assert not out.get_column("possible_duplicate").any()
    numbers = out.get_column("output").struct.field("invoice_number").to_list()
    assert numbers == [f"LC-{i}" for i in range(ROWS)]


def test_read_timeout_then_commit_is_adopted_not_paid_twice(tmp_path: Path) -> None:
    # the server holds the answer far beyond the client's read timeout, then commits
    # (30 s after the client gave up at 0.5 s; the grace is write + read = 60.5 s)
    faults = Faults(late_commit_rate=1.0, late_commit_seconds=30.0, late_commit_answer="hold")
    with Emulator(faults=faults, clock="manual") as emu:
        client = _client(emu, timeout=xf.Timeouts(read=0.5))
        out = _extract(emu, client, tmp_path / "out")
        stats = emu.stats()
    assert stats["faults"]["late_commits"] == 1
    assert stats["duplicate_inputs"] == 0
    assert stats["inputs_submitted"] == ROWS
    assert (out.get_column("status") == "PROCESSED").all()


def test_a_commit_later_than_the_grace_is_flagged_never_silent(tmp_path: Path) -> None:
    # first POST: 504, committed 150 s later (after the 120 s grace); the resubmit is on time
    faults = Faults(seed=_seed_with([True, False]), late_commit_rate=0.5, late_commit_seconds=150.0)
    with Emulator(faults=faults, clock="manual") as emu:
        out = _extract(emu, _client(emu), tmp_path / "out")
        stats = emu.stats()
    # it was paid twice (the emulator says so) and the job says so too, row by row
    assert stats["duplicate_inputs"] == ROWS
    assert out.height == ROWS
    assert (out.get_column("status") == "PROCESSED").all()
    assert out.get_column("possible_duplicate").all()
    assert xf.summarize(out).possible_duplicates == ROWS
    ledger = JobStore.open(str(tmp_path / "out")).ledger()
    flagged = [r for c in ledger.values() for r in c.records if r["state"] == "duplicates"]
    assert sum(len(r["runs"]) for r in flagged) == ROWS
