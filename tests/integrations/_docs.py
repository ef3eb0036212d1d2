"""Shared by the integration tests: sample invoices as an input table, and an extractor."""

from __future__ import annotations

from pathlib import Path

import polars as pl

from extend_frames.emulator import Emulator
from extend_frames.emulator.samples import generate_samples
from tests.jobs.conftest import create_processor

__all__ = ["create_processor", "invoice_table"]


def invoice_table(folder: Path, count: int, *, seed: int = 1) -> pl.DataFrame:
    """``doc_id`` (unique across folders) and ``url`` (a local path) for ``count`` generated
    documents."""
    samples = generate_samples(folder, count=count, seed=seed)
    paths = pl.read_parquet(samples.ground_truth_path).get_column("path").to_list()
    return pl.DataFrame(
        {
            "doc_id": [f"{folder.name}/{Path(p).stem}" for p in paths],
            "url": [str(samples.directory / p) for p in paths],
        }
    )


def extractor(emu: Emulator) -> str:
    return create_processor(emu, "extractor")
