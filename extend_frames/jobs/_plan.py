"""Partition units into chunks: pure, deterministic, so a rerun plans the same chunks."""

from __future__ import annotations

from collections.abc import Sequence

from extend_frames._errors import InputError
from extend_frames._operations import MAX_BATCH_INPUTS
from extend_frames.jobs._spec import Chunk, Unit


def plan_chunks(units: Sequence[Unit], batch_size: int = MAX_BATCH_INPUTS) -> list[Chunk]:
    """Split ``units`` (in first-occurrence order) into chunks of at most ``batch_size``.

    >>> [len(c.units) for c in plan_chunks([Unit(str(i), {"text": "x"}) for i in range(5)], 2)]
    [2, 2, 1]
    """
    if not 1 <= batch_size <= MAX_BATCH_INPUTS:
        raise InputError(
            f"batch_size must be between 1 and {MAX_BATCH_INPUTS}, got {batch_size}; "
            f"Extend accepts at most {MAX_BATCH_INPUTS} inputs per batch"
        )
    return [
        Chunk(index=i // batch_size, units=tuple(units[i : i + batch_size]))
        for i in range(0, len(units), batch_size)
    ]
