"""frames.run_stored: a stored job run to the end without its result assembled in memory."""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl
import pytest

import extend_frames as xf
from extend_frames.emulator import Emulator
from extend_frames.emulator.samples import INVOICE_EXTRACTOR_CONFIG
from extend_frames.frames import run_stored
from extend_frames.store import JobStore
from tests.jobs.conftest import FAST, create_processor, make_client


def test_run_stored_never_reads_the_whole_result(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def refuse(self: JobStore) -> pl.DataFrame:
        raise AssertionError("the stored path must not collect every part")

    monkeypatch.setattr(JobStore, "read", refuse)
    texts = [f"Invoice number: S-{i}" for i in range(25)] + ["__FAIL:CORRUPT_FILE x"]
    frame = pl.DataFrame({"doc": [f"d{i}" for i in range(26)], "text": texts})
    output = str(tmp_path / "job")
    with Emulator() as emu:
        extractor = create_processor(emu, "extractor")
        options = {
            "key": "doc",
            "output": output,
            "batch_size": 10,
            "route": "batch",  # three batches of ten (auto would send 26 documents one by one)
            "client": make_client(emu),
            "polling": FAST,
            "progress": False,
        }
        done = run_stored(
            "extract", frame, processor=extractor, text_column="text", options=options
        )
        again = run_stored(
            "extract", frame, processor=extractor, text_column="text", options=options
        )
        assert emu.stats()["inputs_submitted"] == 26  # the rerun resumed: nothing resent
    assert done.summary.rows == again.summary.rows == 26
    assert done.summary.by_status == {"PROCESSED": 25, "FAILED": 1}
    assert done.summary.batches == 3
    # What types the parts: the pinned version's effective config (the emulator adds its
    # effective-config defaults such as baseVersion around the schema the extractor was made with).
    assert done.processor_config is not None
    assert done.processor_config["schema"] == INVOICE_EXTRACTOR_CONFIG["schema"]
    success = json.loads((tmp_path / "job" / "_SUCCESS").read_text())
    assert success["summary"]["by_status"] == done.summary.by_status

    monkeypatch.undo()
    stored = xf.read_results(output)
    assert stored.height == 26
    assert stored.get_column("doc").to_list() == frame.get_column("doc").to_list()


def test_run_stored_needs_an_output() -> None:
    frame = pl.DataFrame({"text": ["a"]})
    with pytest.raises(xf.InputError, match="needs output="):
        run_stored("parse", frame, text_column="text", options={"progress": False})
