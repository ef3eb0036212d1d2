"""The chunk state machine: ``next_step`` over the folded ledger (pure), and the steps the
executor adds on top of submit/collect: publish and the spending cap."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import polars as pl
import pyarrow as pa
import pytest

import extend_frames as xf
from extend_frames.emulator import Emulator
from extend_frames.jobs import Chunk, Situation, Step, Unit, next_step
from extend_frames.jobs._cap import CreditCap
from extend_frames.jobs._forecast import forecast
from extend_frames.store import empty_state, fold_chunk

from .conftest import FAST, create_processor, make_client
from .test_engine import FakeClient, chunk, engine

TEXT = Chunk(0, (Unit("a", file={"text": "x"}), Unit("b", file={"text": "y"})))
PATHS = Chunk(0, (Unit("a", path="/tmp/a.pdf"), Unit("b", path="/tmp/b.pdf")))


def step(records: list[dict[str, Any]], c: Chunk = TEXT, **situation: Any) -> Step:
    return next_step(fold_chunk(records), c, Situation(**situation))


def test_a_fresh_chunk_is_submitted_and_a_path_uploaded_first() -> None:
    assert step([]) == Step("submit", ("a", "b"))
    assert step([], PATHS) == Step("upload", ("a", "b"))
    assert step([], PATHS, uploaded={"a", "b"}) == Step("submit", ("a", "b"))
    # an upload recorded with an intent is not uploaded again
    intent = {"state": "intent", "keys": ["a"], "file_ids": {"a": "file_1"}}
    closed = {"state": "submitted", "keys": ["a"], "run_ids": {"a": "r1"}}
    assert step([intent, closed], PATHS) == Step("upload", ("b",))


def test_an_open_intent_is_reconciled_before_anything_is_sent_again() -> None:
    intent = {"state": "intent", "keys": ["a", "b"], "time": "2026-01-01T00:00:00Z"}
    assert step([intent]) == Step("reconcile", ("a", "b"))
    # single runs: "a" was created, "b"'s outcome is unknown: only "b" is reconciled
    created = {"state": "submitted", "keys": ["a"], "run_ids": {"a": "r1"}}
    assert step([intent, created]) == Step("reconcile", ("b",))
    # a reconcile that found nothing still closes the intent: then "b" is sent again
    nothing = {"state": "submitted", "keys": ["b"], "run_ids": {}}
    assert step([intent, created, nothing]) == Step("submit", ("b",))


def test_submitted_chunks_are_collected_or_left_pending_then_published() -> None:
    sent = [{"state": "submitted", "keys": ["a", "b"], "batch_id": "bpr_1"}]
    assert step(sent) == Step("collect")
    assert step(sent, may_wait=False) == Step("detach")
    done = [*sent, {"state": "collected", "rows": 2}]
    assert step(done, has_part=True) == Step("done")
    assert step(done, has_part=False) == Step("collect")  # the part was lost: collect again
    assert step(done, has_part=True, published=False) == Step("publish")
    assert step(done, has_part=True, retry=("b",)) == Step("retry", ("b",))
    # a part the table lacks is published before a retry attempt (which publishes its rows)
    assert step(done, has_part=True, published=False, retry=("b",)) == Step("publish")


def test_failed_and_refused_rows_are_never_sent_and_the_cap_holds_back() -> None:
    assert step([], failed={"a"}) == Step("submit", ("b",))
    refused = {"state": "submitted", "keys": ["a"], "refused": {"a": "422"}}
    assert step([refused]) == Step("submit", ("b",))
    assert step([], budget=1) == Step("held", ("a", "b"))
    assert step([], budget=2) == Step("submit", ("a", "b"))


def test_a_retry_attempt_runs_only_its_keys() -> None:
    first = [
        {"state": "submitted", "keys": ["a", "b"], "batch_id": "bpr_1"},
        {"state": "collected"},
        {"state": "retry", "attempt": 1, "keys": ["b"]},
    ]
    assert step(first, has_part=True) == Step("submit", ("b",))


def test_the_forecast_walks_the_same_steps() -> None:
    fresh = forecast(empty_state(0), TEXT, Situation(route="single"))
    assert (fresh.to_submit, fresh.requests["RUN"], fresh.batches) == (2, 2, 0)
    intent = {"state": "intent", "keys": ["a", "b"], "time": "2026-01-01T00:00:00Z"}
    resumed = forecast(fold_chunk([intent]), TEXT, Situation(), found={"a"})
    assert (resumed.reconciles, resumed.adopted, resumed.to_submit) == (1, 1, 1)
    assert resumed.requests["RUN"] == 1  # one batch for "b"
    done = fold_chunk([{"state": "collected"}])
    assert forecast(done, TEXT, Situation(has_part=True)).requests["RUN"] == 0


class Publisher:
    def __init__(self, already: bool = False) -> None:
        self.already = already
        self.calls: list[tuple[str, int, int]] = []

    def published(self, job_id: str, chunk: int) -> bool:
        return self.already

    def publish(self, job_id: str, chunk: int, table: pa.Table) -> None:
        self.calls.append((job_id, chunk, table.num_rows))


class Ledger:
    def __init__(self) -> None:
        self.parts: dict[int, pa.Table] = {}
        self.records: list[tuple[int, str]] = []

    def record(self, chunk: int, state: str, **data: Any) -> None:
        self.records.append((chunk, state))

    def write_part(self, chunk: int, table: pa.Table) -> None:
        self.parts[chunk] = table

    def read_part(self, chunk: int) -> pa.Table:
        return self.parts[chunk]


async def test_a_collected_part_is_published_once_and_again_on_resume() -> None:
    client, ledger, publisher = FakeClient(), Ledger(), Publisher()
    await engine(client, ledger=ledger, publisher=publisher).run([chunk(3)])
    assert publisher.calls == [("job1", 0, 3)]  # after the part was written
    assert [s for _, s in ledger.records] == ["intent", "submitted", "collected"]
    # resumed: collected with a part, the table does not hold it yet: published, not re-run
    history = {0: fold_chunk([{"state": "collected", "rows": 3}])}
    again = Publisher()
    await engine(client, ledger=ledger, publisher=again, history=history).run([chunk(3)], done={0})
    assert again.calls == [("job1", 0, 3)]
    assert len(client.posts) == 1
    held = Publisher(already=True)
    await engine(client, ledger=ledger, publisher=held, history=history).run([chunk(3)], done={0})
    assert held.calls == []


async def test_the_cap_counts_this_jobs_cost_and_measures_with_one_chunk() -> None:
    cap = CreditCap(10.0, [])
    assert await cap.budget() > 100  # nothing known, nothing out: this one measures
    cap.submitting(2)
    cap.collected(2, 4.0)  # 2 credits a document
    assert await cap.budget() == 3
    cap.submitting(3)
    assert await cap.budget() == 0
    assert await CreditCap(None, []).budget() is None


@pytest.mark.slow
def test_max_credits_holds_back_and_a_higher_cap_continues(tmp_path: Path) -> None:
    frame = pl.DataFrame({"text": [f"Invoice number: C-{i}" for i in range(20)]})
    with Emulator() as emu:
        ex = create_processor(emu, "extractor")

        def call(cap: float) -> pl.DataFrame:
            return xf.extract(
                frame, processor=ex, text_column="text", output=str(tmp_path / "out"),
                client=make_client(emu), polling=FAST, progress=False, batch_size=5,
                route="batch", max_credits=cap,
            )  # fmt: skip

        capped = call(12.0)
        summary = xf.summarize(capped)  # the frame's own summary: capped, with the spend
        first = emu.stats()
        done = call(1000.0)
        stats = emu.stats()
    processed = int((capped.get_column("status") == "PROCESSED").sum())
    assert processed == 5  # the measuring batch (2 credits a document): 5 more would pass 12
    assert (capped.get_column("status") == "PENDING").sum() == 15
    assert first["inputs_submitted"] == 5
    assert (done.get_column("status") == "PROCESSED").all()
    assert stats["inputs_submitted"] == 20
    assert stats["duplicate_inputs"] == 0
    assert summary.rows == 20
    assert summary.capped
    assert summary.spent == pytest.approx(10.0)
