"""``mode="retry"``: which stored rows are submitted once more.

The attempt itself is a step of the engine (``jobs/_steps.py``: a ``retry`` record with the
attempt number and the unit keys, then the chunk's usual steps under the attempt's own
metadata job id, ``jobs/_attempts.py``); its rows replace theirs in the chunk's part
(``Prepared.merge``, one atomic write). An attempt interrupted by a crash is finished by the
next run of the same call before anything new is tried: its ledger says it is open.
"""

from __future__ import annotations

import polars as pl

from extend_frames._columns import CHUNK, ROW, UNIT
from extend_frames.jobs._attempts import retryable
from extend_frames.store import JobStore

__all__ = ["retry_keys"]


def retry_keys(store: JobStore, rows: pl.DataFrame, done: set[int]) -> dict[int, list[str]]:
    """Per collected chunk, the unit keys whose stored rows a retry submits again (blocking:
    reads the parts)."""
    if not done:
        return {}
    stored = store.scan().select(ROW, "status", "failure_reason").filter(retryable()).collect()
    units = stored.join(rows.select(ROW, UNIT, CHUNK), on=ROW, how="inner")
    units = units.filter(pl.col(CHUNK).is_in(sorted(done))).unique(UNIT, maintain_order=True)
    out: dict[int, list[str]] = {}
    for unit, chunk in units.select(UNIT, CHUNK).sort(CHUNK, maintain_order=True).iter_rows():
        out.setdefault(int(chunk), []).append(str(unit))
    return out
