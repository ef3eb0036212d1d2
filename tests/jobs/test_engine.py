"""The engine's decisions, against a scripted fake client: what it submits, what it refuses to
submit twice, and how it accounts for every unit whatever the server does."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import polars as pl
import pyarrow as pa
import pytest

from extend_frames._errors import OutcomeUnknownError
from extend_frames.api import BatchRun, RetryPolicy, Timeouts, VirtualClock
from extend_frames.frames._decode import decode_runs
from extend_frames.frames._schema import CLASSIFY_DTYPE
from extend_frames.jobs import (
    Chunk,
    Engine,
    JobSpec,
    Polling,
    Reconcile,
    Unit,
    plan_chunks,
)
from extend_frames.store import fold_chunk

JOB = "job1"


def spec() -> JobSpec:
    return JobSpec(
        operation="classify",
        job_id=JOB,
        processor_id="cl_1",
        decode=lambda bodies: decode_runs("classify", bodies, output_dtype=CLASSIFY_DTYPE),
    )


def run(key: str, status: str = "PROCESSED", run_id: str | None = None) -> dict[str, Any]:
    return {
        "object": "classify_run",
        "id": run_id or f"clr_{key}",
        "status": status,
        "metadata": {"extend_frames": {"job": JOB, "row": key}},
        "createdAt": "2026-01-01T00:00:00Z",
        "updatedAt": datetime.now(UTC).isoformat(),
        "output": {"id": "inv", "type": "invoice", "confidence": 0.9, "insights": []}
        if status == "PROCESSED"
        else None,
    }


class FakeClient:
    """Accepts batches, answers lists and GETs from memory; faults are scripted per call."""

    def __init__(self, *, unknown_outcomes: int = 0, commit_unknown: bool = True) -> None:
        self.runs: dict[str, dict[str, Any]] = {}
        self.batches: dict[str, list[str]] = {}
        self.posts: list[list[str]] = []
        self.unknown_outcomes = unknown_outcomes
        self.commit_unknown = commit_unknown
        self.hide_from_list: set[str] = set()
        self.batch_status = "PROCESSED"
        self.retry = RetryPolicy(clock=VirtualClock())  # the grace waits on a virtual clock
        self.unknown_status: int | None = 500
        self.cancelled: list[str] = []

    async def cancel_run(self, operation: str, run_id: str) -> dict[str, Any]:
        self.cancelled.append(run_id)
        return {"id": run_id, "status": "CANCELLED"}

    async def create_batch(
        self, operation: str, *, inputs: list[dict[str, Any]], **_: Any
    ) -> BatchRun:
        keys = [i["metadata"]["extend_frames"]["row"] for i in inputs]
        self.posts.append(keys)
        bid = f"bpr_{len(self.posts)}"
        if self.unknown_outcomes == 0 or self.commit_unknown:
            self.batches[bid] = keys
            for key in keys:
                self.runs[key] = run(key)
        if self.unknown_outcomes:
            self.unknown_outcomes -= 1
            raise OutcomeUnknownError("lost answer", status=self.unknown_status)
        return BatchRun(id=bid, status="PENDING", run_count=len(keys), created_at=None)

    async def get_batch(self, batch_id: str) -> BatchRun:
        return BatchRun(id=batch_id, status=self.batch_status, run_count=0, created_at=None)

    async def iter_runs(
        self, operation: str, *, batch_id: str | None = None, **_: Any
    ) -> AsyncIterator[dict[str, Any]]:
        for key in self.batches.get(batch_id or "", []):
            if key not in self.hide_from_list:
                yield {k: v for k, v in self.runs[key].items() if k != "output"}

    async def list_runs_since(
        self, operation: str, processor_id: str | None, created_after: datetime
    ) -> AsyncIterator[dict[str, Any]]:
        for r in self.runs.values():
            yield {k: v for k, v in r.items() if k != "output"}

    async def get_run_bytes(self, operation: str, run_id: str) -> bytes:
        return json.dumps(next(r for r in self.runs.values() if r["id"] == run_id)).encode()


def finish(index: int, decoded: pl.DataFrame) -> pa.Table:
    return decoded.to_arrow()


def engine(client: FakeClient, **kwargs: Any) -> Engine:
    return Engine(spec(), client, finish=finish, polling=Polling.fast(), **kwargs)  # type: ignore[arg-type]


def chunk(n: int, index: int = 0) -> Chunk:
    return Chunk(index, tuple(Unit(key=f"k{i}", file={"text": f"doc {i}"}) for i in range(n)))


async def test_one_batch_per_chunk_and_every_unit_back() -> None:
    client = FakeClient()
    table = await engine(client).run_chunk(chunk(5))
    assert client.posts == [["k0", "k1", "k2", "k3", "k4"]]
    out = pl.from_arrow(table)
    assert isinstance(out, pl.DataFrame)
    assert out.get_column("metadata_row").to_list() == ["k0", "k1", "k2", "k3", "k4"]
    assert out.get_column("batch_id").to_list() == ["bpr_1"] * 5
    assert (out.get_column("status") == "PROCESSED").all()


async def test_unknown_outcome_that_was_committed_is_adopted_not_resubmitted() -> None:
    client = FakeClient(unknown_outcomes=1, commit_unknown=True)
    eng = engine(client)
    out = pl.from_arrow(await eng.run_chunk(chunk(4)))
    assert isinstance(out, pl.DataFrame)
    assert len(client.posts) == 1  # never a second POST
    assert eng.stats.runs_adopted == 4
    assert (out.get_column("status") == "PROCESSED").all()


async def test_unknown_outcome_that_was_not_committed_is_submitted_again() -> None:
    client = FakeClient(unknown_outcomes=1, commit_unknown=False)
    out = pl.from_arrow(await engine(client).run_chunk(chunk(3)))
    assert isinstance(out, pl.DataFrame)
    assert len(client.posts) == 2
    assert (out.get_column("status") == "PROCESSED").all()


async def test_three_ambiguous_failures_stop_without_a_duplicate() -> None:
    client = FakeClient(unknown_outcomes=3, commit_unknown=False)
    with pytest.raises(OutcomeUnknownError, match="ambiguously 3 times"):
        await engine(client).run([chunk(2)])
    assert len(client.posts) == 3
    assert not client.runs  # nothing was ever accepted, so nothing is paid twice


async def test_a_unit_missing_from_the_list_comes_back_failed_not_dropped() -> None:
    client = FakeClient()
    client.hide_from_list = {"k1"}
    out = pl.from_arrow(await engine(client).run_chunk(chunk(3)))
    assert isinstance(out, pl.DataFrame)
    assert out.get_column("status").to_list() == ["PROCESSED", "FAILED", "PROCESSED"]
    assert out.get_column("failure_reason").to_list() == [None, "RUN_NOT_FOUND", None]


async def test_units_with_client_side_failures_are_never_sent() -> None:
    client = FakeClient()
    units = (
        Unit(key="good", file={"text": "x"}),
        Unit(key="bad", failure=("INVALID_INPUT", "empty file reference")),
        Unit(key="unreadable", path="/nonexistent/file.pdf"),
    )
    out = pl.from_arrow(await engine(client).run_chunk(Chunk(0, units)))
    assert isinstance(out, pl.DataFrame)
    assert client.posts == [["good"]]
    assert out.get_column("failure_reason").to_list() == [
        None,
        "INVALID_INPUT",
        "FILE_NOT_READABLE",
    ]


async def test_resume_skips_what_the_ledger_says_was_submitted() -> None:
    client = FakeClient()
    first = engine(client)
    await first.run_chunk(chunk(3))
    history = {
        0: fold_chunk([{"state": "submitted", "batch_id": "bpr_1", "keys": ["k0", "k1", "k2"]}])
    }
    again = engine(client, history=history)
    out = pl.from_arrow(await again.run_chunk(chunk(3)))
    assert isinstance(out, pl.DataFrame)
    assert len(client.posts) == 1  # waited on and collected, not resubmitted
    assert (out.get_column("status") == "PROCESSED").all()


def test_ledger_records_fold_into_history() -> None:
    records = [
        {
            "state": "intent",
            "keys": ["a", "b"],
            "time": "2026-01-01T00:00:00Z",
            "file_ids": {"a": "file_1"},
        },
        {"state": "submitted", "batch_id": "bpr_9", "keys": ["a", "b"]},
        {"state": "intent", "keys": ["c"], "time": "2026-01-01T00:01:00Z"},
    ]
    h = fold_chunk(records)
    assert h.batches == (("bpr_9", ("a", "b")),)
    assert h.open_intent == ("c",)  # crashed between intent and outcome: reconcile c
    assert h.file_ids == {"a": "file_1"}
    assert h.covered() == {"a", "b"}
    assert not h.collected
    assert fold_chunk([*records, {"state": "collected"}]).collected


def test_a_retry_record_starts_a_new_attempt_of_the_chunk() -> None:
    first = [
        {"state": "intent", "keys": ["a", "b"], "time": "2026-01-01T00:00:00Z"},
        {"state": "submitted", "batch_id": "bpr_1", "keys": ["a", "b"]},
        {"state": "collected"},
    ]
    retry = {"state": "retry", "attempt": 1, "keys": ["b"]}
    h = fold_chunk([*first, retry])
    assert (h.attempt, h.retry_keys) == (1, ("b",))
    assert not h.collected  # the chunk must be collected again
    assert h.batches == ()  # the first attempt's batch is not collected again
    resumed = fold_chunk(
        [*first, retry, {"state": "submitted", "batch_id": "bpr_2", "keys": ["b"]}]
    )
    assert resumed.batches == (("bpr_2", ("b",)),)
    assert resumed.attempt == 1


def test_plan_chunks_is_deterministic_and_bounded() -> None:
    units = [Unit(key=str(i), file={"text": "x"}) for i in range(2_501)]
    chunks = plan_chunks(units, 1000)
    assert [len(c.units) for c in chunks] == [1000, 1000, 501]
    assert [c.index for c in chunks] == [0, 1, 2]
    assert plan_chunks(units, 1000) == chunks
    with pytest.raises(ValueError, match="batch_size"):
        plan_chunks(units, 1001)


def test_polling_backs_off_but_is_never_much_later_than_the_wait_so_far() -> None:
    import random

    polling = Polling(jitter=0.0)
    rng = random.Random(0)
    assert polling.delay(0, rng) == 2.0
    assert polling.delay(10, rng) == 30.0  # plain backoff reaches the maximum
    # 60 s into a wait, the next poll comes within 5% (3 s), not 30 s later.
    assert polling.delay(10, rng, elapsed=60.0) == 3.0
    assert polling.delay(10, rng, elapsed=10_000.0) == 30.0  # still capped by the maximum
    assert polling.delay(0, rng, elapsed=0.0) == 2.0  # never below the first interval


def test_fetch_concurrency_follows_the_get_rate() -> None:
    from extend_frames.jobs import Concurrency

    assert Concurrency().fetch_slots(10.0) == 5  # PAYG: half a second of GETs
    assert Concurrency().fetch_slots(75.0) == 32
    assert Concurrency().fetch_slots(1.0) == 4
    assert Concurrency(fetches=7).fetch_slots(75.0) == 7


class LateClient(FakeClient):
    """The first POST answers "unknown" and commits nothing until ``commit_late()``."""

    def __init__(self) -> None:
        super().__init__(unknown_outcomes=1, commit_unknown=False)
        self.unknown_status = 504  # a gateway gave up: the request may still commit
        self.late: list[str] = []

    async def create_batch(
        self, operation: str, *, inputs: list[dict[str, Any]], **kw: Any
    ) -> BatchRun:
        if self.unknown_outcomes:
            self.late = [i["metadata"]["extend_frames"]["row"] for i in inputs]
        return await super().create_batch(operation, inputs=inputs, **kw)

    async def list_runs_since(
        self, operation: str, processor_id: str | None, created_after: datetime
    ) -> AsyncIterator[dict[str, Any]]:
        if self.retry.clock.now() > 1000.0 + 200.0 and self.late:  # commits after the grace
            for key in self.late:
                self.runs[f"late-{key}"] = run(key, status="PENDING", run_id=f"clr_late_{key}")
            self.late = []
        async for r in super().list_runs_since(operation, processor_id, created_after):
            yield r


async def test_late_duplicate_after_a_resubmit_is_cancelled_and_flagged() -> None:
    client = LateClient()
    eng = engine(client, reconcile=Reconcile(grace=150.0))
    out = pl.from_arrow(await eng.run_chunk(chunk(3)))
    assert isinstance(out, pl.DataFrame)
    assert len(client.posts) == 2  # nothing found during the grace: submitted once more
    assert (out.get_column("status") == "PROCESSED").all()  # the resubmitted runs are kept
    assert out.get_column("possible_duplicate").to_list() == [True, True, True]
    assert sorted(client.cancelled) == ["clr_late_k0", "clr_late_k1", "clr_late_k2"]
    assert (eng.stats.possible_duplicates, eng.stats.duplicates_cancelled) == (3, 3)
    assert client.retry.clock.now() >= 1000.0 + 2 * 150.0 - 0.1  # grace, then a watch as long


async def test_grace_is_bounded_by_the_clients_timeouts() -> None:
    assert Reconcile().grace_for(Timeouts()) == 120.0  # write + read with the defaults
    assert Reconcile().grace_for(Timeouts(read=7.0, write=3.0)) == 10.0
    assert Reconcile(grace=2.5).grace_for(Timeouts()) == 2.5


async def test_an_answered_500_is_listed_once_not_waited_for() -> None:
    """A 500 comes from the API after it handled the request: nothing can commit later, so
    the engine lists once and resubmits without waiting the grace."""
    client = FakeClient(unknown_outcomes=1, commit_unknown=False)
    eng = engine(client)
    await eng.run_chunk(chunk(2))
    assert len(client.posts) == 2
    assert client.retry.clock.now() < 1000.0 + 1.0  # no grace waited
    assert eng.stats.possible_duplicates == 0
