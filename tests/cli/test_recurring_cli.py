"""The CLI for recurring pipelines: --cache, --dry-run, --max-wait/--detach (exit 4), collect."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import polars as pl

import extend_frames as xf
from extend_frames.emulator import Emulator

from .conftest import FAST, Result, invoices

Cli = Callable[..., Result]


def test_dry_run_then_cache_then_a_day_later_only_new_files(
    cli: Cli, emulator: Emulator, extractor: str, truth: pl.DataFrame, tmp_path: Path
) -> None:
    rows = invoices(truth)
    rows.head(rows.height - 2).write_csv(tmp_path / "day1.csv")
    rows.write_csv(tmp_path / "day2.csv")
    cache = tmp_path / "cache"
    job = ["--processor", extractor, "--key", "id", "--cache", cache]

    res = cli("extract", tmp_path / "day1.csv", *job, "--output", tmp_path / "p", "--dry-run")
    assert res.code == 0, res.err
    assert f"documents to submit     {rows.height - 2}" in res.out
    assert emulator.stats()["inputs_submitted"] == 0  # a plan sends nothing
    assert not (tmp_path / "p").exists()

    res = cli("extract", tmp_path / "day1.csv", *job, "--output", tmp_path / "d1")
    assert res.code == 0, res.err
    res = cli("extract", tmp_path / "day2.csv", *job, "--output", tmp_path / "d2", "--json",
              "--dry-run")  # fmt: skip
    plan = json.loads(res.out)
    assert (plan["cache_hits"], plan["to_submit"]) == (rows.height - 2, 2)
    res = cli("extract", tmp_path / "day2.csv", *job, "--output", tmp_path / "d2", "--json")
    assert res.code == 0, res.err
    summary = json.loads(res.out)
    assert summary["cached"] == rows.height - 2
    assert emulator.stats()["inputs_submitted"] == rows.height  # day 2 sent the 2 new ones


def test_detach_exits_4_and_collect_finishes(
    cli: Cli, emulator: Emulator, extractor: str, truth: pl.DataFrame, tmp_path: Path
) -> None:
    rows = invoices(truth)
    rows.write_csv(tmp_path / "in.csv")
    out = tmp_path / "out"
    res = cli("extract", tmp_path / "in.csv", "--processor", extractor, "--output", out,
              "--detach", "--json")  # fmt: skip
    assert res.code == 4, res.err
    summary = json.loads(res.out)
    assert summary["complete"] is False
    assert summary["by_status"] == {"PENDING": rows.height}
    sent = emulator.stats()["inputs_submitted"]

    res = cli("collect", out, *FAST[:-1])  # collect takes the same API and poll options
    assert res.code == 0, res.err
    assert f"collect: {rows.height} rows ({rows.height} PROCESSED)" in res.out
    assert emulator.stats()["inputs_submitted"] == sent  # collected, not resubmitted
    assert xf.read_results(str(out)).height == rows.height


def test_usage_errors_before_any_request(
    cli: Cli, emulator: Emulator, extractor: str, tmp_path: Path
) -> None:
    pl.DataFrame({"file": ["a.pdf"]}).write_csv(tmp_path / "in.csv")
    res = cli("extract", tmp_path / "in.csv", "--processor", extractor, "--output",
              tmp_path / "o", "--max-wait", "-3")  # fmt: skip
    assert res.code == 2
    assert "--max-wait must be >= 0" in res.err
    res = cli("collect", tmp_path / "nothing-here", *FAST[:-1])
    assert res.code == 1
    assert "no extend_frames job" in res.err
    assert emulator.stats()["inputs_submitted"] == 0
