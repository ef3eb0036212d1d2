"""``--table``: the job commands, ``collect`` and ``collect-batch`` publish to a lakehouse table."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import polars as pl
import pytest

import extend_frames as xf
from extend_frames.emulator import Emulator

pytest.importorskip("deltalake")
pytest.importorskip("pyiceberg")


def _frame(n: int, prefix: str = "S") -> pl.DataFrame:
    texts = [f"Invoice number: {prefix}-{i}\nInvoice date: 2026-02-0{1 + i}" for i in range(n)]
    return pl.DataFrame({"id": [f"d{i}" for i in range(n)], "text": texts})


def test_extract_merges_into_a_delta_table_by_key(
    cli: Callable[..., Any], emulator: Emulator, extractor: str, tmp_path: Path
) -> None:
    table = tmp_path / "invoices"
    for day, prefix in enumerate(("S", "T")):
        _frame(4, prefix).write_csv(tmp_path / "in.csv")
        res = cli("extract", tmp_path / "in.csv", "--processor", extractor,
                  "--text-column", "text", "--key", "id", "--output", tmp_path / f"day{day}",
                  "--batch-size", "2", "--route", "batch",
                  "--table", f"delta:{table}", "--table-mode", "merge")  # fmt: skip
        assert res.code == 0, res.err
    rows = xf.read_results(xf.Delta(str(table))).sort("id")
    assert rows.get_column("id").to_list() == ["d0", "d1", "d2", "d3"]
    numbers = rows.select(pl.col("output").struct.field("invoice_number")).to_series()
    assert numbers.to_list() == ["T-0", "T-1", "T-2", "T-3"]


def test_collect_and_collect_batch_publish_to_iceberg_by_catalog_name(
    cli: Callable[..., Any],
    emulator: Emulator,
    extractor: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("PYICEBERG_CATALOG__LOCAL__TYPE", "sql")
    monkeypatch.setenv("PYICEBERG_CATALOG__LOCAL__URI", f"sqlite:///{tmp_path / 'catalog.db'}")
    monkeypatch.setenv("PYICEBERG_CATALOG__LOCAL__WAREHOUSE", (tmp_path / "wh").as_uri())
    # pyiceberg reads the environment once, when imported: an earlier test in this process
    # may have imported it already
    import pyiceberg.catalog
    from pyiceberg.utils.config import Config

    monkeypatch.setattr(pyiceberg.catalog, "_ENV_CONFIG", Config())
    _frame(3).write_csv(tmp_path / "in.csv")
    job = tmp_path / "job"
    res = cli("extract", tmp_path / "in.csv", "--processor", extractor, "--text-column", "text",
              "--key", "id", "--output", job, "--route", "batch", "--detach")  # fmt: skip
    assert res.code == 4, res.err
    res = cli("collect", job, "--table", "iceberg:local/lake.jobs", "--poll-initial", "0.01")
    assert res.code == 0, res.err
    jobs = xf.read_results(xf.Iceberg("lake.jobs", catalog="local"))
    assert sorted(jobs.get_column("id").to_list()) == ["d0", "d1", "d2"]

    batch_id = xf.read_results(job).get_column("batch_id")[0]
    res = cli("collect-batch", batch_id, "--output", tmp_path / "batch",
              "--table", "iceberg:local/lake.batches", "--table-mode", "merge")  # fmt: skip
    assert res.code == 0, res.err
    batches = xf.read_results(xf.Iceberg("lake.batches", catalog="local"))
    assert batches.height == 3
    assert set(batches.get_column("extend_job_id").to_list()) == {batch_id}


def test_table_options_need_a_table_and_a_bad_spelling_is_refused(
    cli: Callable[..., Any], emulator: Emulator, extractor: str, tmp_path: Path
) -> None:
    _frame(1).write_csv(tmp_path / "in.csv")
    base = ("extract", tmp_path / "in.csv", "--processor", extractor, "--text-column", "text",
            "--output", tmp_path / "o")  # fmt: skip
    res = cli(*base, "--table-mode", "merge")
    assert res.code == 1
    assert "need --table" in res.err
    res = cli(*base, "--table", "parquet:/tmp/x")
    assert res.code == 1
    assert "delta:<path or URI> or iceberg:<catalog>/<namespace>.<table>" in res.err
    assert emulator.stats()["inputs_submitted"] == 0
