"""``df.xf``: the four operations and the summary as a polars DataFrame namespace.

The design asked for ``df.extend``, but ``DataFrame.extend`` is a built-in polars method (append
rows in place) and polars refuses to shadow it, so the namespace is named after the import
alias users already type: ``import extend_frames as xf`` -> ``df.xf.extract(...)``.

>>> import polars as pl, extend_frames  # doctest: +SKIP
>>> pl.DataFrame({"file": ["https://..."]}).xf.extract(processor="ex_...")  # doctest: +SKIP
"""

from __future__ import annotations

from typing import Any

import polars as pl

from extend_frames.frames._ops import JobSummary, summarize
from extend_frames.frames._public import classify, extract, parse, split


@pl.api.register_dataframe_namespace("xf")
class ExtendNamespace:
    """Same arguments as ``xf.parse`` / ``xf.extract`` / ``xf.classify`` / ``xf.split``."""

    def __init__(self, df: pl.DataFrame) -> None:
        self._df = df

    def parse(self, **kwargs: Any) -> pl.DataFrame:
        return parse(self._df, **kwargs)

    def extract(self, **kwargs: Any) -> pl.DataFrame:
        return extract(self._df, **kwargs)

    def classify(self, **kwargs: Any) -> pl.DataFrame:
        return classify(self._df, **kwargs)

    def split(self, **kwargs: Any) -> pl.DataFrame:
        return split(self._df, **kwargs)

    def summary(self) -> JobSummary:
        """Rows by status, credits, and (for a frame just returned by a job) its wall time."""
        return summarize(self._df)
