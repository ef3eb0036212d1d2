"""lazy=True: the job runs at its output and returns a LazyFrame over the stored parts, equal
to the frame the same job assembles; never without output= (refused before any request)."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest
from polars.testing import assert_frame_equal

import extend_frames as xf
from extend_frames.emulator import Emulator
from extend_frames.store import JobStore
from tests.jobs.conftest import FAST, create_processor, make_client

TEXTS = [f"Invoice number: L-{i}\nTotal: {i}.50 EUR" for i in range(23)] + ["__FAIL:CORRUPT_FILE"]
FRAME = pl.DataFrame({"doc": [f"d{i}" for i in range(24)], "text": TEXTS})


def _options(emu: Emulator, output: str, **extra: object) -> dict[str, object]:
    base = {"key": "doc", "output": output, "batch_size": 10, "route": "batch"}
    return {**base, "client": make_client(emu), "polling": FAST, "progress": False, **extra}


def test_lazy_equals_the_assembled_frame(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with Emulator() as emu:
        extractor = create_processor(emu, "extractor")
        eager = xf.extract(
            FRAME, processor=extractor, text_column="text", **_options(emu, str(tmp_path / "a"))
        )

        def refuse(self: JobStore) -> pl.DataFrame:
            raise AssertionError("lazy=True must not collect every part")

        monkeypatch.setattr(JobStore, "read", refuse)
        lazy = xf.extract(
            FRAME,
            processor=extractor,
            text_column="text",
            lazy=True,
            **_options(emu, str(tmp_path / "b")),
        )
        assert isinstance(lazy, pl.LazyFrame)
        monkeypatch.undo()
        # the same rows, columns and types (row-level ids and times differ between two jobs)
        varying = ["run_id", "batch_id", "file_id", "created_at", "updated_at"]
        assert_frame_equal(lazy.collect().drop(varying), eager.drop(varying))
        summary = xf.summarize(lazy)
        assert summary.by_status == {"PROCESSED": 23, "FAILED": 1}
        assert summary.credits == xf.summarize(eager).credits
        # collect takes lazy= too: a finished job is read back without a request
        again = xf.collect(str(tmp_path / "b"), client=make_client(emu), lazy=True, progress=False)
        assert isinstance(again, pl.LazyFrame)
        assert_frame_equal(again.collect(), lazy.collect())


def test_lazy_with_pending_rows_reads_them_from_the_kept_input(tmp_path: Path) -> None:
    with Emulator() as emu:
        extractor = create_processor(emu, "extractor")
        options = _options(emu, str(tmp_path / "j"), detach=True, lazy=True)
        lazy = xf.extract(FRAME, processor=extractor, text_column="text", **options)
        assert isinstance(lazy, pl.LazyFrame)
        rows = lazy.collect()
        assert rows.get_column("doc").to_list() == FRAME.get_column("doc").to_list()
        assert set(rows.get_column("status").cast(pl.String)) == {"PENDING"}
        assert rows.get_column("batch_id").null_count() == 0  # submitted, with its batch id
        assert xf.summarize(lazy).by_status == {"PENDING": 24}


def test_lazy_needs_an_output_and_sends_nothing() -> None:
    with Emulator() as emu:
        client = make_client(emu)
        with pytest.raises(xf.InputError, match="lazy=True needs output="):
            xf.extract(FRAME, processor="ex_x", text_column="text", lazy=True, client=client)
        assert emu.stats()["requests_total"] == 0
