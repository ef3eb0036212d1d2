"""The summary of a job's result frame: rows by status, credits, wall time (``df.xf.summary()``).

Not to be confused with the store's :class:`~extend_frames.store.StoredJobStatus`, which
describes a job's *output path* (batches by ledger state, lock holder) for
``extend-frames status``.
"""

from __future__ import annotations

import html
import weakref
from dataclasses import dataclass, field, replace
from typing import Any

import polars as pl

from extend_frames._columns import CACHED, CREDITS, POSSIBLE_DUPLICATE, STATUS

__all__ = ["JobSummary", "remember", "summarize"]


@dataclass(frozen=True, slots=True)
class JobSummary:
    """Counts by status, credits and wall time of one job (``df.xf.summary()``)."""

    rows: int
    by_status: dict[str, int]
    credits: float
    seconds: float | None = None
    output: str | None = None
    batches: int | None = None
    extra: dict[str, Any] = field(default_factory=dict)
    #: Which endpoints the job went through: ``"single"`` (one run per document, rows have a
    #: null ``batch_id``) or ``"batch"``; None for a frame that is not a job's result.
    route: str | None = None
    cached: int = 0  # rows answered by the result cache (cache=), at 0 credits
    #: rows that may have been paid twice (``possible_duplicate``): see the README
    possible_duplicates: int = 0
    #: ``max_credits=`` held rows back (they are PENDING; rerun with a higher cap)
    capped: bool = False
    #: credits this job has spent (collected runs), counted for ``max_credits=``
    spent: float | None = None

    def __str__(self) -> str:
        parts = ", ".join(f"{k} {v}" for k, v in sorted(self.by_status.items()))
        took = f" in {self.seconds:.1f} s" if self.seconds is not None else ""
        hits = f", {self.cached} from the cache" if self.cached else ""
        twice = (
            f", {self.possible_duplicates} possibly paid twice" if self.possible_duplicates else ""
        )
        cap = f", capped by max_credits after {self.spent or 0:g} credits" if self.capped else ""
        return f"{self.rows} rows ({parts}){hits}, {self.credits:g} credits{twice}{cap}{took}"

    # Jupyter/IPython show these instead of the dataclass repr: the same text as str().
    def _repr_pretty_(self, printer: Any, cycle: bool) -> None:
        printer.text(str(self))

    def _repr_html_(self) -> str:
        """A small table for Jupyter: rows by status, credits, then what is known of the job."""
        cells: list[tuple[str, object]] = [("rows", self.rows)]
        cells += sorted(self.by_status.items())
        cells.append(("credits", f"{self.credits:g}"))
        if self.cached:
            cells.append(("from the cache", self.cached))
        if self.possible_duplicates:
            cells.append(("possibly paid twice", self.possible_duplicates))
        if self.seconds is not None:
            cells.append(("wall time", f"{self.seconds:.1f} s"))
        cells += [(k, v) for k, v in (("route", self.route), ("batches", self.batches)) if v]
        if self.output:
            cells.append(("output", self.output))
        body = "".join(
            f"<tr><th style='text-align:left'>{html.escape(str(k))}</th>"
            f"<td style='text-align:right'>{html.escape(str(v))}</td></tr>"
            for k, v in cells
        )
        return f"<table class='xf-summary'><tbody>{body}</tbody></table>"


#: What a job's own summary adds to the counts of its frame.
_OF_THE_JOB = ("seconds", "output", "batches", "route", "capped", "spent")


def summarize(df: pl.DataFrame | pl.LazyFrame) -> JobSummary:
    """Summary of a result frame: rows by status and total credits (plus the wall time, output
    and batch count if ``df`` is the frame a job just returned). A LazyFrame (``lazy=True``)
    is counted by one aggregation that reads only the columns it needs.

    >>> print(summarize(pl.DataFrame({"status": ["PROCESSED", "FAILED"], "credits": [1.5, None]})))
    2 rows (FAILED 1, PROCESSED 1), 1.5 credits
    """
    counted = _summarize_lazy(df) if isinstance(df, pl.LazyFrame) else _count(df)
    known = _SUMMARIES.get(id(df))
    if known is not None and known.rows == counted.rows:
        return replace(counted, **{name: getattr(known, name) for name in _OF_THE_JOB})
    return counted


def _count(df: pl.DataFrame) -> JobSummary:
    counts = df.get_column(STATUS).cast(pl.String).value_counts()
    by_status = {str(s): int(n) for s, n in counts.iter_rows()}
    credits = float(df.get_column(CREDITS).fill_null(0).sum()) if CREDITS in df else 0.0
    cached = int(df.get_column(CACHED).fill_null(False).sum()) if CACHED in df else 0
    twice = int(df.get_column(POSSIBLE_DUPLICATE).sum()) if POSSIBLE_DUPLICATE in df else 0
    return JobSummary(df.height, by_status, credits, cached=cached, possible_duplicates=twice)


def _summarize_lazy(lf: pl.LazyFrame) -> JobSummary:
    names = lf.collect_schema().names()
    aggs = [pl.len().alias("rows")]
    for name, expr in (
        (CREDITS, pl.col(CREDITS).cast(pl.Float64).fill_null(0).sum()),
        (CACHED, pl.col(CACHED).fill_null(False).cast(pl.Int64).sum()),
        (POSSIBLE_DUPLICATE, pl.col(POSSIBLE_DUPLICATE).fill_null(False).cast(pl.Int64).sum()),
    ):
        if name in names:
            aggs.append(expr.alias(name))
    counts = lf.group_by(pl.col(STATUS).cast(pl.String)).agg(aggs).collect()
    by_status = {str(s): int(n) for s, n in counts.select(STATUS, "rows").iter_rows()}

    def total(name: str) -> float:
        return float(counts.get_column(name).sum()) if name in counts.columns else 0.0

    return JobSummary(
        sum(by_status.values()),
        by_status,
        total(CREDITS),
        cached=int(total(CACHED)),
        possible_duplicates=int(total(POSSIBLE_DUPLICATE)),
    )


# Why a module global: wall time is not a column and a polars DataFrame takes no attributes, yet
# ``df.xf.summary()`` must find it from the frame alone. So each job's summary is kept by its
# result frame's identity for as long as that frame lives (a finalizer drops the entry, so a
# reused id never finds a stale summary). Entries are only added and popped (atomic in CPython).
_SUMMARIES: dict[int, JobSummary] = {}


def remember(result: pl.DataFrame | pl.LazyFrame, summary: JobSummary) -> None:
    """Keep ``summary`` for ``summarize(result)`` while ``result`` lives."""
    key = id(result)
    _SUMMARIES[key] = summary
    weakref.finalize(result, _SUMMARIES.pop, key, None)
