"""``--route auto|batch|single`` on the job commands: the chosen endpoints, seen in the
emulator's counters (single-run creates vs batch creates)."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import polars as pl
import pytest

import extend_frames as xf
from extend_frames.emulator import Emulator

from .conftest import Result, invoices

Cli = Callable[..., Result]


@pytest.mark.parametrize(("route", "batches"), [("single", 0), ("batch", 1)])
def test_route_flag_picks_the_endpoints(
    cli: Cli,
    emulator: Emulator,
    extractor: str,
    truth: pl.DataFrame,
    tmp_path: Path,
    route: str,
    batches: int,
) -> None:
    invoices(truth).head(2).write_csv(tmp_path / "in.csv")
    out = tmp_path / route
    res = cli("extract", tmp_path / "in.csv", "--processor", extractor, "--output", out,
              "--route", route, "--json")  # fmt: skip
    assert res.code == 0, res.err
    assert json.loads(res.out)["rows"] == 2
    assert emulator.stats()["batches_created"] == batches
    got = xf.read_results(str(out)).get_column("batch_id")
    assert (got.is_null() if route == "single" else got.is_not_null()).all()


def test_route_flag_rejects_unknown_values(cli: Cli, tmp_path: Path) -> None:
    res = cli("parse", tmp_path / "in.csv", "--output", tmp_path / "o", "--route", "fast")
    assert res.code == 2
    assert "--route" in res.err
