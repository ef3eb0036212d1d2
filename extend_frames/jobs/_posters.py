"""The two ways a submit step sends its units: one batch POST, or one run POST per unit.

The submit step (``jobs/_engine.py``) records the intent, asks a poster to send, and records
what came back; the poster only sends and sorts the answers into a :class:`Posted`: what was
created (a batch id, or run ids), what the API refused (400/422: no run exists), which keys
had an unknown outcome (and whether that outcome may still commit late), and errors no row can
carry (auth, credits: they stop the job).
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from extend_frames._errors import InvalidRequestError, OutcomeUnknownError
from extend_frames.api import Client
from extend_frames.jobs._reconcile import may_commit_late
from extend_frames.jobs._spec import JobSpec

__all__ = ["BatchPoster", "Posted", "Poster", "SinglePoster", "poster_for"]


@dataclass(slots=True)
class Posted:
    """What one submit step's POST(s) did, key by key."""

    batch_id: str | None = None
    run_ids: dict[str, str] = field(default_factory=dict)
    refused: dict[str, str] = field(default_factory=dict)
    unknown: list[str] = field(default_factory=list)
    late: bool = False  # some unknown outcome may still commit (see may_commit_late)
    errors: list[BaseException] = field(default_factory=list)

    def created(self, keys: Sequence[str]) -> list[str]:
        """The keys the POST(s) settled: created (or refused), not unknown."""
        if self.batch_id is not None:
            return list(keys)
        return [k for k in keys if k in self.run_ids or k in self.refused]


class Poster(Protocol):
    """Sends ``keys`` (with their file objects) and reports what came back."""

    name: str

    async def post(self, keys: Sequence[str], files: Mapping[str, dict[str, Any]]) -> Posted: ...


class BatchPoster:
    """``POST /{operation}_runs/batch``: all keys in one batch."""

    name = "batch"

    def __init__(self, spec: JobSpec, client: Client) -> None:
        self.spec, self.client = spec, client

    async def post(self, keys: Sequence[str], files: Mapping[str, dict[str, Any]]) -> Posted:
        spec = self.spec
        inputs = [{"file": files[k], "metadata": spec.metadata(k)} for k in keys]
        try:
            batch = await self.client.create_batch(
                spec.operation,
                inputs=inputs,
                processor=spec.processor_ref(),
                config=spec.override_config if spec.processor_ref() is None else None,
                priority=spec.priority,
            )
        except OutcomeUnknownError as exc:
            return Posted(unknown=list(keys), late=may_commit_late(exc.status))
        return Posted(batch_id=batch.id)


class SinglePoster:
    """``POST /{operation}_runs`` per key, concurrently (the client's rate limiter paces)."""

    name = "single"

    def __init__(self, spec: JobSpec, client: Client) -> None:
        self.spec, self.client = spec, client

    async def post(self, keys: Sequence[str], files: Mapping[str, dict[str, Any]]) -> Posted:
        outcomes = await asyncio.gather(
            *(self._create_run(files[k], k) for k in keys), return_exceptions=True
        )
        posted = Posted()
        for key, outcome in zip(keys, outcomes, strict=True):
            if isinstance(outcome, str):
                posted.run_ids[key] = outcome
            elif isinstance(outcome, OutcomeUnknownError):
                posted.unknown.append(key)
                posted.late = posted.late or may_commit_late(outcome.status)
            elif isinstance(outcome, InvalidRequestError):
                posted.refused[key] = f"the run was refused: {outcome}"
            else:
                posted.errors.append(outcome)
        return posted

    async def _create_run(self, file: dict[str, Any], key: str) -> str:
        spec = self.spec
        run = await self.client.create_run(
            spec.operation,
            file=file,
            processor=spec.processor_ref(),
            config=spec.override_config if spec.processor_ref() is None else None,
            metadata=spec.metadata(key),
            priority=spec.priority if spec.processor_ref() is not None else None,
        )
        return str(run["id"])


def poster_for(spec: JobSpec, client: Client) -> Poster:
    """The poster of the job's route."""
    return SinglePoster(spec, client) if spec.route == "single" else BatchPoster(spec, client)
