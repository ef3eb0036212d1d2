"""The chunk lifecycle as one pure function: ``next_step(state, chunk, situation) -> Step``.

``state`` is the chunk's ledger folded by ``store.fold_chunk`` (the one fold); ``situation``
is what the ledger cannot know (the route, the rows that failed locally, the files uploaded
in this process, whether the job may still wait, whether the part exists and is published,
what the spending cap allows). No I/O, no clock, no randomness: the engine's executor
performs the step and appends its record, then asks again; ``xf.plan`` asks the same
function over the same fold and counts the requests each step would make.

The order of the steps, for a chunk (batch route) or a single-routed unit set alike::

    (publish?) -> retry? -> reconcile (open intents) -> upload -> submit | held -> (detach)
           -> collect -> publish -> done

(A collected chunk the table lacks is published before a ``mode="retry"`` attempt of it
starts: the attempt then publishes only its own rows, under its own job id.)
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from typing import Literal

from extend_frames.jobs._spec import Chunk, Unit
from extend_frames.store import ChunkState

__all__ = ["Situation", "Step", "StepKind", "next_step", "units_of"]

StepKind = Literal[
    "retry", "reconcile", "upload", "submit", "held", "detach", "collect", "publish", "done"
]


@dataclass(frozen=True, slots=True)
class Step:
    """What to do next for one chunk; ``keys`` are the unit keys the step is about."""

    kind: StepKind
    keys: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Situation:
    """What the engine knows about a chunk besides its ledger (plain values, see module doc).

    ``failed``: keys that come back FAILED without a request (invalid input, a refused or
    unreadable file). ``uploaded``: keys uploaded by this process (the ledger records file
    ids with the next intent). ``may_wait``: not detached and before ``max_wait``.
    ``settled``: suspect keys (an earlier POST may still have committed) this process
    already reconciled. ``has_part``: the chunk's part exists. ``published``: None without
    a publisher, else whether the table holds the chunk. ``retry``: the keys a
    ``mode="retry"`` attempt submits again (empty: none). ``budget``: documents the spending
    cap lets this chunk submit now (None: no cap).
    """

    route: Literal["batch", "single"] = "batch"
    failed: Collection[str] = frozenset()
    uploaded: Collection[str] = frozenset()
    settled: Collection[str] = frozenset()
    may_wait: bool = True
    has_part: bool = False
    published: bool | None = None
    retry: tuple[str, ...] = ()
    budget: int | None = None


def units_of(state: ChunkState, chunk: Chunk) -> tuple[Unit, ...]:
    """The units the chunk's current attempt is about: all of them, or a retry's keys."""
    if state.attempt > 0 and state.retry_keys is not None:
        wanted = set(state.retry_keys)
        return tuple(u for u in chunk.units if u.key in wanted)
    return chunk.units


def next_step(state: ChunkState, chunk: Chunk, situation: Situation) -> Step:
    """The next step of ``chunk`` (see the module docstring for the order)."""
    if state.collected and situation.has_part:
        if situation.published is False:  # before a retry: the attempt publishes only its rows
            return Step("publish")
        if situation.retry:
            return Step("retry", situation.retry)
        return Step("done")
    units = units_of(state, chunk)
    covered = state.covered()
    todo = [u for u in units if u.key not in covered and u.key not in situation.failed]
    open_keys = set(state.open_intent or ())
    open_keys |= {k for k in state.suspects if k not in situation.settled}
    unsettled = tuple(u.key for u in todo if u.key in open_keys)
    if unsettled:  # an earlier POST of these keys may have created runs: find them first
        return Step("reconcile", unsettled)
    ready = set(state.file_ids) | set(situation.uploaded)
    upload = tuple(u.key for u in todo if u.file is None and u.key not in ready)
    if upload:
        return Step("upload", upload)
    keys = tuple(u.key for u in todo)
    if keys:
        held = situation.budget is not None and situation.budget < len(keys)
        return Step("held" if held else "submit", keys)
    if (state.batches or state.adopted_runs) and not situation.may_wait:
        return Step("detach")
    return Step("collect")
