"""What the engine will send for a chunk, by walking the same ``next_step`` over its ledger.

``xf.plan`` / ``--dry-run`` call :func:`forecast` per chunk with the chunk's folded state and
the same :class:`~extend_frames.jobs.Situation` the engine builds, and assume each step
succeeds: a reconcile adopts the keys ``found`` (listed beforehand, read-only), an upload
uploads, a submit creates its batch (or runs), a collect collects. So the plan and the real
call cannot disagree on what is sent: the order and the choice of steps are the engine's own.

Requests per Extend rate-limit category (a lower bound for GET, exact for RUN and WRITE when
no request fails): a reconcile lists once (GET); an upload is one WRITE per file; a batch
submit one RUN, a single-run submit one RUN per document; collecting a batch polls it once,
lists its runs once and GETs each run (GET), a run without a batch is GET at least once.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from extend_frames.api import Client
from extend_frames.jobs._attempts import attempt_job_id
from extend_frames.jobs._clock import clock_of, parse_time
from extend_frames.jobs._reconcile import Reconciler
from extend_frames.jobs._spec import Chunk, JobSpec
from extend_frames.jobs._steps import Situation, next_step, units_of
from extend_frames.store import ChunkState, fold_chunk
from extend_frames.store import ledger as lg

__all__ = ["Forecast", "forecast", "listed_keys"]

_PLANNED = "(planned)"


@dataclass(slots=True)
class Forecast:
    """What a call will do, summed over chunks (``+=`` adds another chunk's)."""

    requests: dict[str, int] = field(default_factory=lambda: {"GET": 0, "WRITE": 0, "RUN": 0})
    to_submit: int = 0  # documents sent (batch inputs or single runs)
    uploads: int = 0
    batches: int = 0  # batch POSTs
    reconciles: int = 0
    adopted: int = 0  # documents a reconcile finds already submitted
    held: int = 0  # documents max_credits holds back
    retried: int = 0  # documents a mode="retry" attempt sends again
    steps: dict[str, int] = field(default_factory=dict)

    def __iadd__(self, other: Forecast) -> Forecast:
        for k, v in other.requests.items():
            self.requests[k] = self.requests.get(k, 0) + v
        for name in ("to_submit", "uploads", "batches", "reconciles", "adopted", "held"):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        self.retried += other.retried
        for k, v in other.steps.items():
            self.steps[k] = self.steps.get(k, 0) + v
        return self


def forecast(
    state: ChunkState, chunk: Chunk, situation: Situation, *, found: Collection[str] = ()
) -> Forecast:
    """The steps ``chunk`` will take from ``state`` and their requests (see module doc)."""
    out = Forecast()
    records = list(state.records)
    for _ in range(64):  # each step moves the chunk on; a loop would be a bug
        now = fold_chunk(records, chunk=chunk.index)
        step = next_step(now, chunk, situation)
        out.steps[step.kind] = out.steps.get(step.kind, 0) + 1
        n = len(step.keys)
        if step.kind in ("done", "detach", "held", "publish"):
            out.held += n if step.kind == "held" else 0
            return out
        if step.kind == "retry":
            out.retried += n
            records.append(_rec(lg.RETRY, attempt=now.attempt + 1, keys=list(step.keys)))
            situation = replace(situation, retry=())
        elif step.kind == "reconcile":
            out.reconciles += 1
            out.requests["GET"] += 1
            adopted = {k: _PLANNED for k in step.keys if k in found}
            out.adopted += len(adopted)
            records.append(_rec(lg.SUBMITTED, keys=list(step.keys), run_ids=adopted))
            situation = replace(situation, settled={*situation.settled, *step.keys})
        elif step.kind == "upload":
            out.uploads += n
            out.requests["WRITE"] += n
            situation = replace(situation, uploaded={*situation.uploaded, *step.keys})
        elif step.kind == "submit":
            out.to_submit += n
            batch = situation.route == "batch"
            out.batches += batch
            out.requests["RUN"] += 1 if batch else n
            ids: dict[str, Any] = {lg.BATCH_ID: _PLANNED}
            if not batch:
                ids = {lg.RUN_IDS: dict.fromkeys(step.keys, _PLANNED)}
            records.append(_rec(lg.SUBMITTED, keys=list(step.keys), **ids))
        elif step.kind == "collect":
            wanted = {u.key for u in units_of(now, chunk)}
            out.requests["GET"] += _collect_gets(now, wanted)
            records.append(_rec(lg.COLLECTED))
            situation = replace(situation, has_part=True)
    raise AssertionError(f"chunk {chunk.index}: the steps did not end")  # pragma: no cover


def _collect_gets(state: ChunkState, wanted: set[str]) -> int:
    """At least: per batch a poll, a listing page and a GET per run; a GET per other run."""
    gets = sum(2 + len(set(keys) & wanted) for _, keys in state.batches)
    return gets + len(set(state.adopted_runs) & wanted)


def _rec(state: str, **data: Any) -> dict[str, Any]:
    return {**data, lg.STATE: state}


async def listed_keys(client: Client, spec: JobSpec, states: Mapping[int, ChunkState]) -> set[str]:
    """The keys of open intents (and suspect keys) that already have a run (one listing per
    such chunk, read only, as the reconcile step lists): what a resume adopts instead of
    sending again."""
    found: set[str] = set()
    for state in states.values():
        keys = {*(state.open_intent or ()), *state.suspects}
        times = [parse_time(state.suspects[k]) for k in state.suspects]
        if state.open_intent:
            times.append(parse_time(state.intent_at))
        since = min((t for t in times if t is not None), default=None)
        if not keys or since is None:
            continue
        attempt = replace(spec, job_id=attempt_job_id(spec.job_id, state.attempt))
        reconciler = Reconciler.for_job(client, attempt, clock_of(client))
        found |= set(await reconciler.runs_for(keys, since))
    return found
