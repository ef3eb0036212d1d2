"""Settling create-POSTs whose outcome is unknown, without ever paying twice silently.

Extend has no idempotency key, and a create-POST (a batch, or a single run) can commit *after*
the client stopped waiting: a gateway answers 504 while the request is still travelling, or the
answer outlives the read timeout. Listing the runs at once and finding none proves nothing. So:

1. :meth:`Reconciler.settle` lists the runs created since the POST (matched on our metadata)
   at once, and while some keys are still missing, again every ``interval`` seconds until
   ``grace`` seconds after the POST was sent. Only what is still missing then is resubmitted.
2. After a resubmission, :meth:`Reconciler.duplicates` looks once more, at least twice
   ``grace`` after the resubmission, for runs of the same keys other than the ones kept: a
   request that committed later still. The caller cancels what it can and flags the rows.

One mechanism for batch POSTs (the engine) and single-run create-POSTs: it takes "list the
candidate runs created since t" and "which row key does this run belong to", nothing else.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from extend_frames.api import Client, Clock, Timeouts
from extend_frames.api._models import NON_TERMINAL
from extend_frames.jobs._spec import JobSpec

__all__ = [
    "ListSince",
    "MatchKey",
    "Reconcile",
    "Reconciler",
    "cancellable",
    "may_commit_late",
    "split_kept",
]

#: Run summaries created at or after a time (``Client.list_runs_since`` bound to one operation
#: and processor).
ListSince = Callable[[datetime], AsyncIterator[dict[str, Any]]]
#: The row key a run belongs to (from its metadata), or None when it is not ours.
MatchKey = Callable[[dict[str, Any]], str | None]


@dataclass(frozen=True, slots=True)
class Reconcile:
    """How long to wait for a late commit before concluding that nothing was created.

    ``grace=None`` (the default) derives it from the client's timeouts: ``write + read``
    (120 s with the defaults), the longest the client itself keeps one request open, sending
    and then waiting. A server that is still working on a request the client gave up on is
    assumed to finish (or drop) it within that time again. ``interval`` is the pause between
    two listings while waiting (they stop as soon as every key is found); ``skew`` the seconds
    listed before the POST, for clock skew between the client and the server.
    """

    grace: float | None = None
    interval: float = 5.0
    skew: float = 60.0

    def grace_for(self, timeouts: Timeouts | None) -> float:
        if self.grace is not None:
            return max(0.0, self.grace)
        t = timeouts if timeouts is not None else Timeouts()
        return t.write + t.read


class Reconciler:
    """Finds the runs one job's create-POSTs made, waiting out late commits (module doc)."""

    def __init__(
        self,
        list_since: ListSince,
        match: MatchKey,
        *,
        clock: Clock,
        grace: float,
        interval: float = 5.0,
        skew: float = 60.0,
    ) -> None:
        self.list_since = list_since
        self.match = match
        self.clock = clock
        self.grace = grace
        self.interval = max(0.01, interval)
        self.skew = skew
        self.listings = 0

    @classmethod
    def for_job(
        cls, client: Client, spec: JobSpec, clock: Clock, policy: Reconcile | None = None
    ) -> Reconciler:
        """The reconciler of one job (attempt): its processor's runs, matched on its metadata."""
        policy = policy or Reconcile()
        return cls(
            lambda since: client.list_runs_since(spec.operation, spec.processor_id, since),
            spec.row_of,
            clock=clock,
            grace=policy.grace_for(getattr(client, "timeout", None)),
            interval=policy.interval,
            skew=policy.skew,
        )

    async def runs_for(
        self, keys: Iterable[str], since: datetime
    ) -> dict[str, list[dict[str, Any]]]:
        """Every run created since ``since`` (minus the skew) for ``keys``, oldest first."""
        wanted = set(keys)
        found: dict[str, list[dict[str, Any]]] = {}
        self.listings += 1
        async for run in self.list_since(since - timedelta(seconds=self.skew)):
            key = self.match(run)
            if key in wanted and key is not None:
                found.setdefault(key, []).append(run)
        for runs in found.values():
            runs.sort(key=lambda r: str(r.get("createdAt", "")))
        return found

    async def settle(
        self,
        keys: Iterable[str],
        since: datetime,
        *,
        sent_at: float | None = None,
        wait: bool = True,
    ) -> dict[str, list[dict[str, Any]]]:
        """The runs of the keys that have one (see :meth:`runs_for`); waits until ``grace``
        seconds after ``sent_at`` (the POST's time on :attr:`clock`; ``None``: now) while any
        key is missing (``wait=False``: one listing, see :func:`may_commit_late`). The last
        listing is the one just before the caller resubmits."""
        wanted = set(keys)
        start = self.clock.now() if sent_at is None else sent_at
        deadline = start + (self.grace if wait else 0.0)
        while True:
            found = await self.runs_for(wanted, since)
            left = deadline - self.clock.now()
            if wanted <= found.keys() or left <= 0:
                return found
            await self.clock.sleep(min(self.interval, left))

    async def duplicates(
        self, kept: dict[str, str], since: datetime, *, resubmitted_at: float
    ) -> dict[str, list[dict[str, Any]]]:
        """Runs for the keys of ``kept`` (key -> the run id we keep) that are not the kept one,
        looked for at least twice ``grace`` after ``resubmitted_at`` (on :attr:`clock`): the
        resubmission may itself have had an unknown outcome and commit late (up to twice the
        grace after it is caught)."""
        left = resubmitted_at + 2 * self.grace - self.clock.now()
        if left > 0:
            await self.clock.sleep(left)
        found = await self.runs_for(kept, since)
        extra: dict[str, list[dict[str, Any]]] = {}
        for key, runs in found.items():
            others = [r for r in runs if r.get("id") != kept[key]]
            if others:
                extra[key] = others
        return extra


def may_commit_late(status: int | None) -> bool:
    """Whether a create-POST that failed this way can still commit later.

    No answer at all (a timeout, a dropped connection: ``status`` None) or a gateway's answer
    (408, 502, 503, 504: a proxy gave up while the request may still be travelling) can; an
    answer from the API itself (500 and the other 5xx) came after it handled the request, so
    what it committed is listable at once and nothing more will come.
    """
    return status is None or status in (408, 502, 503, 504)


def split_kept(
    found: dict[str, list[dict[str, Any]]],
) -> tuple[dict[str, str], dict[str, list[dict[str, Any]]]]:
    """One run to keep per key (a processed one, else the oldest) and the others."""
    kept: dict[str, str] = {}
    extra: dict[str, list[dict[str, Any]]] = {}
    for key, runs in found.items():
        keep = _keep(runs)
        kept[key] = str(keep["id"])
        others = [r for r in runs if r is not keep]
        if others:
            extra[key] = others
    return kept, extra


def _keep(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """The run to keep among several for one key: a processed one, else the oldest."""
    processed = [r for r in runs if r.get("status") == "PROCESSED"]
    return (processed or runs)[0]


def cancellable(run: dict[str, Any]) -> bool:
    """Whether a run is not terminal yet (only those can be cancelled)."""
    return run.get("status") in NON_TERMINAL
