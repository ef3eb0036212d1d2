"""The ETA a scheduler can log: figures from the limits and the observed pace, and one log
line per interval when standard error is not a terminal (a virtual clock: nothing sleeps)."""

from __future__ import annotations

import io
import logging
from datetime import UTC, datetime
from pathlib import Path

import polars as pl
import pytest

import extend_frames as xf
from extend_frames.emulator import Emulator
from extend_frames.frames._eta import EtaProgress, Limits, make_progress
from extend_frames.frames._progress import BarProgress
from tests.jobs.conftest import FAST, create_processor, make_client

T0 = datetime(2026, 12, 8, 0, 0, tzinfo=UTC).timestamp()


class Clock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> float:
        return self.now


class Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


def _eta(clock: Clock, stream: io.StringIO, interval: float = 60.0) -> EtaProgress:
    limits = Limits(files_per_minute=300.0, get_rate=75.0)  # Enterprise: 5 rows/s at most
    return EtaProgress("extend extract", limits, interval=interval, stream=stream, clock=clock)


def test_the_estimate_uses_the_limits_until_rows_are_done_then_the_observed_pace() -> None:
    clock = Clock()
    eta = _eta(clock, io.StringIO())
    eta.start(10_000, already_done=1_000)
    f = eta.figures()
    assert (f["rows_done"], f["rows_left"]) == (1_000, 9_000)
    assert f["rate_rows_per_s"] == 5.0  # 300 files/min
    assert f["eta_s"] == 1_800.0
    clock.now += 100
    eta.finished(200, 0)  # 2 rows/s observed: slower than the limits
    eta.credited(400.0)
    f = eta.figures()
    assert f["rate_rows_per_s"] == 2.0
    assert f["eta_s"] == 8_800 / 2.0
    assert f["finish"] == datetime.fromtimestamp(T0 + 100 + 4_400, UTC)
    assert f["credits"] == 400.0
    clock.now += 10
    eta.fetched(5_000)  # faster than the limits allow: the limits bound the estimate
    assert eta.figures()["rate_rows_per_s"] == 5.0


def test_not_on_a_terminal_one_line_per_interval(caplog: pytest.LogCaptureFixture) -> None:
    clock = Clock()
    eta = _eta(clock, io.StringIO(), interval=60.0)
    caplog.set_level(logging.INFO, logger="extend_frames")
    eta.start(1_000)
    for _ in range(30):  # 30 events, 10 s apart: 300 s -> a line at 60, 120, 180, 240, 300
        clock.now += 10
        eta.fetched(10)
    eta.credited(12.5)
    lines = [r.getMessage() for r in caplog.records if r.name == "extend_frames"]
    assert len(lines) == 5
    assert lines[0].startswith("extend extract: 60 of 1,000 rows done (940 left), 0 credits")
    assert "60 rows/min observed (limit 300 files/min, 75 GET/s)" in lines[0]
    assert "finish ~2026-12-08 00:16 UTC (in 15m40s)" in lines[0]
    eta.close()  # and once at the end, with the same figures
    last = caplog.records[-1].getMessage()
    assert "300 of 1,000 rows done (700 left), 12.5 credits so far" in last


def test_on_a_terminal_nothing_is_logged(caplog: pytest.LogCaptureFixture) -> None:
    clock = Clock()
    eta = _eta(clock, Tty())
    caplog.set_level(logging.INFO, logger="extend_frames")
    eta.start(100)
    clock.now += 3_600
    eta.fetched(50)
    eta.close()
    assert not [r for r in caplog.records if r.name == "extend_frames"]


def test_the_job_draws_a_bar_only_on_a_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    limits = xf.RateLimits.preset("enterprise")
    monkeypatch.setattr("sys.stderr", io.StringIO())
    logged = make_progress("extend parse", show=True, interval=5.0, rate_limits=limits)
    assert isinstance(logged, EtaProgress)
    assert logged.logging
    assert logged.limits == Limits(300.0, 75.0)
    assert not isinstance(logged.bar, BarProgress)
    monkeypatch.setattr("sys.stderr", Tty())
    drawn = make_progress("extend parse", show=True, interval=5.0, rate_limits=limits)
    assert isinstance(drawn, EtaProgress)
    assert isinstance(drawn.bar, BarProgress)


def test_a_job_off_a_terminal_logs_its_figures(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setattr("sys.stderr", io.StringIO())
    caplog.set_level(logging.INFO, logger="extend_frames")
    frame = pl.DataFrame({"text": [f"Invoice number: E-{i}" for i in range(12)]})
    with Emulator() as emu:
        extractor = create_processor(emu, "extractor")
        xf.extract(
            frame,
            processor=extractor,
            text_column="text",
            client=make_client(emu),
            polling=FAST,
            route="batch",
            batch_size=5,
            output=str(tmp_path / "j"),
            progress_interval=3_600.0,
        )
    lines = [r.getMessage() for r in caplog.records if "rows done" in r.getMessage()]
    assert len(lines) == 1  # the interval never passed: only the closing line
    assert lines[0].startswith("extend extract: 12 of 12 rows done (0 left), ")
    assert lines[0].endswith("done")
    with pytest.raises(xf.InputError, match="progress_interval must be a positive number"):
        xf.extract(frame, processor=extractor, text_column="text", progress_interval=0)
