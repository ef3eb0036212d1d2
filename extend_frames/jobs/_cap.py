"""``max_credits=``: the engine never starts a submission that would take the spend past it.

The rule (documented in docs/ARCHITECTURE.md, the jobs section): *spent* is the credits of
every run this job collected (the ledger's ``collected`` records, so a resume counts what
earlier calls paid); the cost of one document is what this job observed, ``spent /
documents collected``. A submit step of ``n`` documents is taken only while ``spent +
cost_per_document * (documents in flight + n) <= max_credits``; otherwise the chunk is *held*:
its rows come back PENDING and the job's summary says the cap stopped it. Before anything was
collected the cost is unknown: one submission at a time goes out to measure it (the first
chunk: a small ``batch_size`` makes the measuring batch small), the others wait for it to be
collected. A spend at or past the cap holds everything. A rerun with a higher cap continues
where the held chunks stopped; nothing submitted is sent again (the ledger says what was).
"""

from __future__ import annotations

import asyncio
import logging
import math
from collections.abc import Iterable

from extend_frames.store import ChunkState

__all__ = ["CreditCap"]

_UNLIMITED = 10**9
logger = logging.getLogger("extend_frames.jobs")


class CreditCap:
    """The spending gate of one job (see the module docstring); ``limit=None``: no cap."""

    def __init__(self, limit: float | None, states: Iterable[ChunkState]) -> None:
        self.limit = limit
        self.spent = 0.0
        self.documents = 0
        self.in_flight = 0
        for state in states:
            self.spent += state.credits
            self.documents += state.documents
            if not state.collected:
                self.in_flight += len(state.covered() - set(state.refused))
        self._changed: asyncio.Event | None = None
        self._stalled = False  # a chunk ended with documents in flight and nothing observed

    @property
    def per_document(self) -> float | None:
        """Credits per document observed in this job (None: nothing collected yet)."""
        return self.spent / self.documents if self.documents else None

    @property
    def per_doc_text(self) -> str:
        cost = self.per_document
        return "unknown" if cost is None else f"{cost:g}"

    async def budget(self) -> int | None:
        """Documents a submission may send now (None without a cap)."""
        if self.limit is None:
            return None
        while True:
            if self.spent >= self.limit:
                return 0
            cost = self.per_document
            if cost is not None:
                if cost <= 0:
                    return _UNLIMITED
                return max(0, math.floor((self.limit - self.spent) / cost) - self.in_flight)
            if self.in_flight == 0:
                return _UNLIMITED  # nothing known and nothing out: this submission measures
            if self._stalled:
                return 0  # the measuring chunk was left pending: nothing to estimate from
            if self._changed is None:
                self._changed = asyncio.Event()
            await self._changed.wait()

    def submitting(self, documents: int) -> None:
        """``documents`` went out (negative: their outcome turned out unknown)."""
        self.in_flight = max(0, self.in_flight + documents)

    def collected(self, documents: int, credits: float) -> None:
        self.spent += credits
        self.documents += documents
        self.in_flight = max(0, self.in_flight - documents)
        self._notify()

    def chunk_ended(self, *, pending: bool) -> None:
        """A chunk stopped running (``pending``: with documents still out, uncollected)."""
        if pending and self.per_document is None and self.in_flight:
            self._stalled = True
        self._notify()

    def log_held(self, chunk: int, documents: int) -> None:
        logger.warning(
            "chunk %d: max_credits=%g holds back %d document(s) (spent %g credits, about %s per "
            "document); rerun with a higher max_credits to continue",
            chunk, self.limit or 0.0, documents, self.spent, self.per_doc_text,
        )  # fmt: skip

    def _notify(self) -> None:
        """Wake every waiting budget() (each waits on the event of its time)."""
        if self._changed is not None:
            self._changed.set()
            self._changed = None
