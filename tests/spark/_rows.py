"""The input rows of the Spark tests (text documents the emulator extracts instantly)."""

from __future__ import annotations

import polars as pl

import extend_frames as xf
from extend_frames.emulator.samples import INVOICE_EXTRACTOR_CONFIG

#: The result columns of an extract job, in order (what the Spark frame adds to the input).
RESULT_COLUMNS = xf.result_schema("extract", INVOICE_EXTRACTOR_CONFIG).names


def rows(n: int, *, fail_every: int = 0) -> pl.DataFrame:
    """``doc`` (the key), ``text`` (the document) and a wide ``notes`` column that must never
    travel to the driver; every ``fail_every``-th row carries an emulator failure marker."""
    texts = [f"Invoice number: K-{i}\nTotal: USD {i}.50" for i in range(n)]
    if fail_every:
        texts = [
            f"__FAIL:CORRUPT_FILE {t}" if i % fail_every == 0 else t for i, t in enumerate(texts)
        ]
    return pl.DataFrame(
        {
            "doc": [f"d{i:05d}" for i in range(n)],
            "text": texts,
            "notes": ["x" * 200] * n,
        }
    )
