"""``extend-frames demo``: runs offline, writes one Parquet output per operation, and reports
accuracy against the ground truth that the sample generator knows."""

from __future__ import annotations

import io
import logging
from collections.abc import Callable
from pathlib import Path

import pytest

import extend_frames as xf
from extend_frames.cli._demo import MIN_COUNT, run_demo

from .conftest import Result


def test_demo_command_writes_every_operation_and_summarises(
    cli: Callable[..., Result], tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING)
    res = cli("demo", "--dir", tmp_path / "demo", "--count", "12", "--seed", "3", "--no-progress")
    assert res.code == 0, res.err
    for op in ("parse", "classify", "extract", "split"):
        assert xf.store.ledger_summary(str(tmp_path / "demo" / op)).complete
        assert f"  {op:<9}{tmp_path / 'demo' / op}" in res.out
    assert "Rows by status:" in res.out
    assert "Accuracy against the ground truth:" in res.out
    assert "CORRUPT_FILE" in res.out  # failures shown as rows
    assert (tmp_path / "demo" / "samples" / "ground_truth.parquet").exists()
    # Reading the broken samples does not spam the terminal with pypdf warnings.
    assert not [r for r in caplog.records if r.name.startswith("pypdf")]


def test_demo_results_match_the_ground_truth(tmp_path: Path) -> None:
    buffer = io.StringIO()
    result = run_demo(tmp_path, count=12, seed=4, progress=False, out=buffer)
    for op, (right, total) in result.accuracy.items():
        assert total > 0, op
        assert right >= 0.8 * total, (op, right, total)
    parse = result.frames["parse"]
    assert parse.height == 16  # 12 documents + 4 broken files, every row back
    again = xf.read_results(str(result.outputs["extract"]))
    assert again.height == result.frames["extract"].height


def test_demo_rejects_a_tiny_count(cli: Callable[..., Result], tmp_path: Path) -> None:
    res = cli("demo", "--dir", tmp_path, "--count", "1")
    assert res.code == 2
    assert "--count" in res.err


def test_demo_help(cli: Callable[..., Result]) -> None:
    res = cli("demo", "--help")
    assert res.code == 0
    assert "--count" in res.out


@pytest.mark.parametrize("count", [0, 1, 5, MIN_COUNT - 1])
def test_too_small_a_count_is_a_usage_error_before_anything_is_written(
    cli: Callable[..., Result], tmp_path: Path, count: int
) -> None:
    res = cli("demo", "--dir", tmp_path / "demo", "--count", str(count), "--no-progress")
    assert res.code == 2
    assert f"--count must be at least {MIN_COUNT}, got {count}" in res.err
    assert not (tmp_path / "demo").exists()


def test_every_count_from_the_minimum_has_input_for_every_operation() -> None:
    import random

    from extend_frames.emulator._samples._corpus import _schedule

    for count in range(MIN_COUNT, 401):
        kinds = set(_schedule(random.Random(count), count))
        assert {"invoice", "packet"} <= kinds, count
    assert "packet" not in _schedule(random.Random(0), MIN_COUNT - 1)  # the minimum is tight
