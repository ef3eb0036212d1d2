"""``xf.read_results`` never returns a wrong table in silence: a missing path or a folder that
is not a job output raises ``StoreError`` naming it; an unfinished job returns every input row,
the unfinished ones ``PENDING`` with their batch id, and says so in a warning."""

from __future__ import annotations

import logging
from pathlib import Path

import polars as pl
import pytest

import extend_frames as xf
from extend_frames.emulator import Emulator

from ..jobs.conftest import FAST, create_processor, make_client

ROWS = 30


def _frame() -> pl.DataFrame:
    return pl.DataFrame(
        {"doc": [f"d{i:02d}" for i in range(ROWS)], "text": [f"Invoice K-{i}" for i in range(ROWS)]}
    )


def _extract(emu: Emulator, output: Path, **extra: object) -> pl.DataFrame:
    return xf.extract(
        _frame(),
        processor=create_processor(emu, "extractor"),
        text_column="text",
        output=str(output),
        batch_size=10,
        client=make_client(emu),
        polling=FAST,
        progress=False,
        **extra,  # type: ignore[arg-type]
    )


def test_a_missing_path_raises_naming_it(tmp_path: Path) -> None:
    missing = tmp_path / "no-such-output"
    with pytest.raises(xf.StoreError, match="does not exist") as info:
        xf.read_results(str(missing))
    assert str(missing) in str(info.value)
    assert not missing.exists()  # reading never creates the folder


def test_a_folder_that_is_not_a_job_output_raises_naming_it(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("not a job")
    with pytest.raises(xf.StoreError, match="not an extend_frames job output") as info:
        xf.read_results(str(tmp_path))
    assert str(tmp_path) in str(info.value)
    with pytest.raises(xf.StoreError):
        xf.read_results(str(tmp_path), lazy=True)


def test_a_detached_job_reads_back_every_row_pending_with_its_batch(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    with Emulator(clock="manual", speed=xf.emulator.Speed(batch_queue_delay=60)) as emu:
        _extract(emu, tmp_path / "out", detach=True, route="batch")
    with caplog.at_level(logging.WARNING, logger="extend_frames"):
        got = xf.read_results(str(tmp_path / "out"))
    assert got.get_column("doc").to_list() == _frame().get_column("doc").to_list()
    assert got.get_column("status").cast(pl.String).unique().to_list() == ["PENDING"]
    assert got.get_column("batch_id").null_count() == 0
    assert got.get_column("batch_id").n_unique() == 3  # three batches of 10
    assert not [c for c in got.columns if c.startswith("__")]
    assert (
        "0 of 30 rows have results; 30 come back PENDING (30 of them submitted, with their"
        in caplog.text
    )
    assert got.xf.summary().by_status == {"PENDING": ROWS}


def test_an_interrupted_job_returns_every_row_with_the_rest_pending(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    out = tmp_path / "out"
    with Emulator() as emu:
        full = _extract(emu, out, route="batch")
    # as if the job had stopped before collecting its second batch
    (out / "_SUCCESS").unlink()
    (out / "part-00001.parquet").unlink()
    with caplog.at_level(logging.WARNING, logger="extend_frames"):
        got = xf.read_results(str(out))
    assert got.height == ROWS
    assert got.columns == full.columns
    assert got.get_column("doc").to_list() == full.get_column("doc").to_list()
    status = got.get_column("status").cast(pl.String).to_list()
    assert status == ["PROCESSED"] * 10 + ["PENDING"] * 10 + ["PROCESSED"] * 10
    assert got.get_column("batch_id").equals(full.get_column("batch_id"))  # from the ledger
    assert got.slice(10, 10).get_column("output").null_count() == 10
    assert got.dtypes == full.dtypes
    assert "20 of 30 rows have results; 10 come back PENDING" in caplog.text
    summary = got.xf.summary()
    assert summary.by_status == {"PROCESSED": 20, "PENDING": 10}
    assert xf.read_results(str(out), lazy=True).collect().equals(got)


def test_a_finished_job_reads_back_as_returned_without_a_warning(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    with Emulator() as emu:
        full = _extract(emu, tmp_path / "out")
    with caplog.at_level(logging.WARNING, logger="extend_frames"):
        assert xf.read_results(str(tmp_path / "out")).equals(full)
    assert "not finished" not in caplog.text


def test_single_routed_pending_rows_carry_their_run_id(tmp_path: Path) -> None:
    with Emulator(clock="manual", speed=xf.emulator.Speed(run_latency=60)) as emu:
        _extract(emu, tmp_path / "out", detach=True, route="single")
    got = xf.read_results(str(tmp_path / "out"))
    assert got.get_column("status").cast(pl.String).unique().to_list() == ["PENDING"]
    assert got.get_column("run_id").null_count() == 0
    assert got.get_column("run_id").n_unique() == ROWS
