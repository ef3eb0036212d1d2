"""Values that describe a job: what to run, on which units, and how to wait.

Everything here is a frozen, slotted dataclass: plain data that moves between the planner, the
engine and the ledger, and that tests can build by hand.
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import polars as pl

from extend_frames._operations import OPERATIONS, Operation
from extend_frames.jobs._sources import ReadPolicy

# The namespace our join key lives under in each input's `metadata` (docs/extend-api.md#metadata).
METADATA_NAMESPACE = "extend_frames"

#: Client-side failure reasons: rows that never became an Extend run, or whose run was lost.
INVALID_INPUT = "INVALID_INPUT"
FILE_NOT_READABLE = "FILE_NOT_READABLE"
FILE_SIZE_TOO_LARGE = "FILE_SIZE_TOO_LARGE"  # Extend's own reason, given before any upload
REFERENCE_NOT_ALLOWED = "REFERENCE_NOT_ALLOWED"  # a scheme or path the client may not read
RUN_NOT_FOUND = "RUN_NOT_FOUND"
BATCH_FAILED = "BATCH_FAILED"
SUBMIT_FAILED = "SUBMIT_FAILED"

Decoder = Callable[[Sequence[bytes]], pl.DataFrame]


@dataclass(frozen=True, slots=True)
class Unit:
    """One distinct document to submit; several input rows may share it.

    ``file`` is the Extend file object to send (``{"url": ...}``, ``{"id": ...}``,
    ``{"text": ...}``), or ``None`` when ``path`` names a local/fsspec file to upload first.
    A unit with ``failure`` (reason, message) is never submitted: its row comes back FAILED.
    """

    key: str
    file: dict[str, Any] | None = None
    path: str | None = None
    failure: tuple[str, str] | None = None


@dataclass(frozen=True, slots=True)
class Chunk:
    """At most 1,000 units submitted together as one batch."""

    index: int
    units: tuple[Unit, ...]

    @property
    def keys(self) -> tuple[str, ...]:
        return tuple(u.key for u in self.units)


@dataclass(frozen=True, slots=True)
class JobSpec:
    """What the engine runs: one operation with one processor/config over many chunks."""

    operation: Operation
    job_id: str
    decode: Decoder
    processor_id: str | None = None
    processor_version: str | None = None
    override_config: dict[str, Any] | None = None  # overrideConfig (processors) / config (parse)
    priority: int | None = None
    storage_options: dict[str, Any] | None = field(default=None, repr=False)
    route: Literal["batch", "single"] = "batch"  # single: one POST /{operation}_runs per unit
    reads: ReadPolicy = field(default_factory=ReadPolicy)  # what local/fsspec reads may touch

    def processor_ref(self) -> dict[str, Any] | None:
        if OPERATIONS[self.operation].kind is None:
            return None
        ref: dict[str, Any] = {"id": self.processor_id}
        if self.processor_version:
            ref["version"] = self.processor_version
        if self.override_config:
            ref["overrideConfig"] = self.override_config
        return ref

    def metadata(self, key: str) -> dict[str, Any]:
        return {METADATA_NAMESPACE: {"job": self.job_id, "row": key}}

    def row_of(self, run: dict[str, Any]) -> str | None:
        """The row key of one of this job's runs (from its metadata), else None."""
        meta = run.get("metadata") or {}
        ours = meta.get(METADATA_NAMESPACE) if isinstance(meta, dict) else None
        if isinstance(ours, dict) and ours.get("job") == self.job_id:
            row = ours.get("row")
            return str(row) if row is not None else None
        return None


@dataclass(frozen=True, slots=True)
class Polling:
    """How often to ask ``GET /batch_runs/{id}``: jittered exponential backoff.

    The defaults follow Extend's guidance for batches (start at 2 s, grow to 30 s), with one
    more rule: never wait longer than ``lateness`` times the time already spent waiting, so a
    batch is noticed at most ~5% late however long it queued (plain backoff to 30 s can add
    up to 30 s to a job whose last batch was quick; measured in benchmarks/). The cost is a
    few more polls per batch, cheap beside its 1,000 run GETs.
    ``Polling.fast()`` is the zero-wait mode for tests and the local emulator.
    """

    initial: float = 2.0
    factor: float = 1.5
    maximum: float = 30.0
    jitter: float = 0.2
    timeout: float | None = None  # give up waiting on one batch after this many seconds
    lateness: float = 0.05

    def delay(self, attempt: int, rng: random.Random, elapsed: float | None = None) -> float:
        base = min(self.maximum, self.initial * self.factor**attempt)
        if elapsed is not None and self.lateness > 0:
            base = min(base, max(self.initial, self.lateness * elapsed))
        return base * (1 + rng.uniform(-self.jitter, self.jitter))

    def run_delay(self, attempt: int, rng: random.Random, elapsed: float) -> float:
        """The wait before asking ``GET /{kind}_runs/{id}`` again for a single run: starting at
        an eighth of ``initial`` (single runs skip the batch queue and often end in a second
        or two), then the batch schedule's growth, cap and lateness rule (floor ``initial``)."""
        base = min(self.maximum, self.initial / 8 * self.factor**attempt)
        if self.lateness > 0:
            base = min(base, max(self.initial, self.lateness * elapsed))
        return base * (1 + rng.uniform(-self.jitter, self.jitter))

    @classmethod
    def fast(cls) -> Polling:
        return cls(initial=0.02, factor=1.5, maximum=0.25, jitter=0.0)


@dataclass(frozen=True, slots=True)
class Concurrency:
    """How much the engine does at once.

    ``batches``: batches in flight (submitted and not yet collected); collecting batch k overlaps
    the processing of batch k+1. ``fetches``: run GETs in flight per job (the client's rate
    limiter paces them; this only bounds memory and sockets). ``uploads``: concurrent uploads.
    """

    batches: int = 4
    fetches: int | None = None  # None: sized from the client's GET rate (see fetch_slots)
    uploads: int = 8

    def fetch_slots(self, get_rate: float) -> int:
        """Run GETs worth keeping in flight: about half a second of the GET rate (enough to
        cover a slow response), 4 to 32. More open connections only cost client CPU."""
        if self.fetches is not None:
            return self.fetches
        return max(4, min(32, math.ceil(get_rate / 2)))
