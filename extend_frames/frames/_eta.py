"""Where a long job stands, for schedulers: rows done and left, credits, an estimated finish.

:class:`EtaProgress` wraps the progress bar (:class:`~extend_frames.frames._progress.BarProgress`)
and keeps the figures a scheduler's log needs. The estimate uses the observed throughput of
this call (rows with a result per second since it started), never faster than the plan's
limits allow: processing (files per minute) and one run GET per row (requests per second).
Before any row is done it is the limits' rate alone.

When standard error is not a terminal (Airflow, cron, a CI log) nothing is drawn; instead one
line is logged on the ``extend_frames`` logger every ``progress_interval`` seconds (and once at
the end), e.g.::

    extend extract: 412,000 of 1,000,000 rows done (588,000 left), 824,000 credits so far,
    1,216 rows/min observed (limit 300 files/min, 75 GET/s), finish ~2026-12-10 07:12 UTC (in 8h4m)
"""

from __future__ import annotations

import logging
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import IO, Any

import pyarrow as pa
import pyarrow.compute as pc

from extend_frames._columns import CREDITS
from extend_frames.frames._progress import BarProgress
from extend_frames.jobs import NoProgress, Progress

__all__ = ["EtaProgress", "Limits", "make_progress", "note_credits"]

logger = logging.getLogger("extend_frames")


@dataclass(frozen=True, slots=True)
class Limits:
    """The plan's limits that bound a job's pace: processing and run GETs."""

    files_per_minute: float
    get_rate: float  # requests per second

    @property
    def rows_per_second(self) -> float:
        """The fastest rows can finish: every row is processed and its run read once."""
        return min(self.files_per_minute / 60.0, self.get_rate)


def _duration(seconds: float) -> str:
    minutes = int(seconds // 60)
    if minutes >= 60:
        return f"{minutes // 60}h{minutes % 60}m"
    return f"{minutes}m{int(seconds % 60)}s" if minutes else f"{int(seconds)}s"


class EtaProgress:
    """A Progress that also knows the limits and the credits, and logs a line on a schedule
    when standard error is not a terminal (the bar is drawn only when it is)."""

    def __init__(
        self,
        description: str,
        limits: Limits,
        *,
        interval: float = 60.0,
        bar: Progress | None = None,
        stream: IO[str] | None = None,
        clock: Callable[[], float] = time.time,
        credits: float = 0.0,
    ) -> None:
        self.description = description
        self.limits = limits
        self.interval = interval
        self.clock = clock
        out = sys.stderr if stream is None else stream
        self.logging = not (hasattr(out, "isatty") and out.isatty())
        self.bar: Progress = bar if bar is not None else NoProgress()
        self.total = self.initial = self.done = 0
        self.credits = credits
        self.started = self._last = clock()

    # -- the engine's events -------------------------------------------------------------

    def start(self, total: int, *, already_done: int = 0) -> None:
        self.total, self.initial = total, already_done
        self.started = self._last = self.clock()
        self.bar.start(total, already_done=already_done)

    def submitted(self, n: int) -> None:
        self.bar.submitted(n)

    def fetched(self, n: int) -> None:
        self.done += n
        self.bar.fetched(n)
        self.tick()

    def finished(self, processed: int, failed: int, *, already_fetched: int = 0) -> None:
        self.done += max(0, processed + failed - already_fetched)
        self.bar.finished(processed, failed, already_fetched=already_fetched)
        self.tick()

    def credited(self, credits: float) -> None:
        self.credits += credits

    def close(self) -> None:
        self.bar.close()
        if self.logging and self.total:
            logger.info("%s", self.line())

    # -- the figures ---------------------------------------------------------------------

    def tick(self) -> None:
        """Log the line if ``interval`` seconds passed since the last one (not on a terminal)."""
        now = self.clock()
        if self.logging and now - self._last >= self.interval:
            self._last = now
            logger.info("%s", self.line())

    def figures(self) -> dict[str, Any]:
        """rows_done, rows_left, credits, observed rows/s, rate used, eta seconds, finish."""
        now = self.clock()
        done = self.initial + self.done
        left = max(0, self.total - done)
        elapsed = now - self.started
        observed = self.done / elapsed if self.done and elapsed > 0 else None
        cap = self.limits.rows_per_second
        rate = min(observed, cap) if observed else cap
        eta = left / rate if rate > 0 else None
        return {
            "rows_done": done,
            "rows_left": left,
            "credits": self.credits,
            "observed_rows_per_s": observed,
            "rate_rows_per_s": rate,
            "eta_s": eta,
            "finish": None if eta is None else datetime.fromtimestamp(now + eta, UTC),
        }

    def line(self) -> str:
        f = self.figures()
        observed = f["observed_rows_per_s"]
        pace = f"{observed * 60:,.0f} rows/min observed" if observed else "no rows done yet"
        limits = f"limit {self.limits.files_per_minute:g} files/min, {self.limits.get_rate:g} GET/s"
        end = "done"
        if f["rows_left"] and f["finish"] is not None:
            end = f"finish ~{f['finish']:%Y-%m-%d %H:%M} UTC (in {_duration(f['eta_s'])})"
        return (
            f"{self.description}: {f['rows_done']:,} of {self.total:,} rows done "
            f"({f['rows_left']:,} left), {f['credits']:g} credits so far, {pace} ({limits}), "
            f"{end}"
        )


#: Extend's processing throughput per plan (files per minute), by the plan's requests/s.
THROUGHPUT = {10.0: 80.0, 25.0: 120.0, 75.0: 300.0}


def files_per_minute(get_rate: float) -> float:
    """The plan throughput that goes with a client's rate limits (the preset it matches, else
    the smallest plan at least that fast, else Enterprise)."""
    for rate in sorted(THROUGHPUT):
        if get_rate <= rate:
            return THROUGHPUT[rate]
    return THROUGHPUT[max(THROUGHPUT)]


def make_progress(
    description: str, *, show: bool, interval: float, rate_limits: Any, credits: float = 0.0
) -> Progress:
    """The job's progress: nothing (``progress=False``), else an :class:`EtaProgress` that
    draws the bar on a terminal and logs a line every ``interval`` seconds elsewhere."""
    if not show:
        return NoProgress()
    get_rate = float(getattr(rate_limits, "get", 10.0))
    limits = Limits(files_per_minute(get_rate), get_rate)
    eta = EtaProgress(description, limits, interval=interval, credits=credits)
    if not eta.logging:
        eta.bar = BarProgress(description)
    return eta


def note_credits(progress: Progress, table: pa.Table) -> None:
    """Add a collected chunk's credits to the progress (an :class:`EtaProgress` only)."""
    if isinstance(progress, EtaProgress) and CREDITS in table.column_names:
        progress.credited(float(pc.sum(table[CREDITS]).as_py() or 0.0))
