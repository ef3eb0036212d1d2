"""Recurring pipelines on the emulator: mode="retry", bounded waits (max_wait) and xf.plan."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import polars as pl
import pytest

import extend_frames as xf
from extend_frames.emulator import Emulator, Faults, Speed

from .conftest import FAST, create_processor, make_client


def _texts(n: int, start: int = 0) -> pl.DataFrame:
    return pl.DataFrame(
        {
            "doc": range(start, start + n),
            "text": [
                f"Invoice number: INV-{i:05d}\nTotal: {i}.00 USD" for i in range(start, n + start)
            ],
        }
    )


#: Short fixed polls for the bounded-wait tests (the deadline is checked between polls).
WAIT_POLLING = xf.Polling(initial=0.05, factor=1.0, maximum=0.05, jitter=0.0)


def _waiting(emu: Emulator, out: Path, **extra: Any) -> dict[str, Any]:
    """The options of a bounded-wait test: text extraction into ``out``."""
    ex = create_processor(emu, "extractor")
    return {
        "processor": ex, "text_column": "text", "key": "doc", "client": make_client(emu),
        "output": str(out), "polling": WAIT_POLLING, "progress": False, **extra,
    }  # fmt: skip


def _run_gets(stats: dict[str, Any]) -> int:
    return sum(stats["requests"].get("GET /extract_runs/{id}", {}).values())


def _count(stats: dict[str, Any], route: str) -> int:
    return sum(stats["requests"].get(route, {}).values())


def test_retry_submits_exactly_the_failed_rows(tmp_path: Path) -> None:
    faults = Faults(seed=7, run_failure_rate=0.1)  # fails with INTERNAL_ERROR (retryable)
    with Emulator(faults=faults) as emu:
        ex = create_processor(emu, "extractor")
        df = _texts(400).with_columns(
            # two rows that can never succeed: not retried
            pl.when(pl.col("doc") < 2)
            .then(pl.lit("bad __FAIL:CORRUPT_FILE"))
            .otherwise(pl.col("text"))
            .alias("text")
        )
        out = str(tmp_path / "out")
        common: dict[str, Any] = {
            "processor": ex, "text_column": "text", "key": "doc", "client": make_client(emu),
            "output": out, "polling": FAST, "progress": False, "batch_size": 100,
        }  # fmt: skip
        first = xf.extract(df, **common)
        failed = first.filter(pl.col("failure_reason") == "INTERNAL_ERROR")
        assert 20 <= failed.height <= 60  # about 10% of 398
        before = emu.stats()["inputs_submitted"]
        planned = xf.plan(df, "extract", mode="retry", **common)
        assert (planned.retry_rows, planned.to_submit) == (failed.height, failed.height)
        assert planned.done_in_output == df.height

        second = xf.extract(df, mode="retry", **common)

        assert emu.stats()["inputs_submitted"] - before == failed.height
        assert emu.stats()["duplicate_inputs"] == 0  # each attempt has its own metadata
        assert second.height == df.height
        assert second.select("doc").equals(df.select("doc"))
        retried = second.filter(pl.col("doc").is_in(failed.get_column("doc").implode()))
        assert not set(retried.get_column("run_id")) & set(failed.get_column("run_id"))
        # Every other row is kept exactly as stored.
        kept = ~pl.col("doc").is_in(failed.get_column("doc").implode())
        assert second.filter(kept).equals(first.filter(kept))
        assert (
            second.filter(pl.col("doc") < 2).get_column("failure_reason").to_list()
            == ["CORRUPT_FILE"] * 2
        )
        # The output holds each row once: the latest attempt.
        stored = xf.read_results(out)
        assert stored.height == df.height
        assert stored.equals(second)
        # A second retry submits only what failed again.
        again = second.filter(pl.col("failure_reason") == "INTERNAL_ERROR").height
        before = emu.stats()["inputs_submitted"]
        xf.extract(df, mode="retry", **common)
        assert emu.stats()["inputs_submitted"] - before == again


def test_max_wait_returns_pending_rows_and_a_rerun_completes_them(tmp_path: Path) -> None:
    # A run takes 60 s of the manual clock: nothing finishes until the clock is advanced (with
    # no latency a run could end at its start, before the deadline, on a busy machine).
    with Emulator(clock="manual", speed=Speed(run_latency=60.0)) as emu:
        df = _texts(250)
        polling = WAIT_POLLING
        common = _waiting(emu, tmp_path / "out", batch_size=100)
        started = time.monotonic()
        first = xf.extract(df, max_wait=0.5, **common)
        took = time.monotonic() - started
        assert took >= 0.5
        assert took < 0.5 + polling.maximum + 10  # bound + one poll + a generous margin
        assert first.height == 250
        assert (first.get_column("status") == "PENDING").all()
        assert first.get_column("batch_id").null_count() == 0
        assert first.get_column("batch_id").n_unique() == 3
        submitted = emu.stats()["inputs_submitted"]
        assert submitted == 250

        emu.advance(3600)
        second = xf.extract(df, **common)
        assert (second.get_column("status") == "PROCESSED").all()
        assert emu.stats()["inputs_submitted"] == submitted  # resumed, not resubmitted
        assert emu.stats()["duplicate_inputs"] == 0
        assert second.get_column("batch_id").to_list() == first.get_column("batch_id").to_list()


def test_max_wait_needs_output_and_a_sane_value(emulator: Emulator) -> None:
    df = _texts(3)
    with pytest.raises(xf.InputError, match="output="):
        xf.extract(df, processor="ex_x", text_column="text", max_wait=5)
    with pytest.raises(xf.InputError, match="max_wait"):
        xf.extract(df, processor="ex_x", text_column="text", output="memory://x/y", max_wait=-1)
    assert emulator.stats()["requests_total"] == 0


def test_plan_sends_nothing_and_matches_the_real_call(tmp_path: Path) -> None:
    with Emulator() as emu:
        ex = create_processor(emu, "extractor")
        client = make_client(emu)
        cache = xf.Cache(tmp_path / "cache")
        common: dict[str, Any] = {
            "processor": ex, "text_column": "text", "key": "doc", "client": client,
            "cache": cache, "polling": FAST, "progress": False, "batch_size": 100,
        }  # fmt: skip
        xf.extract(_texts(150), **common)  # 150 documents in the cache, with their credits
        df = pl.concat([_texts(150), _texts(260, start=150)])
        df = pl.concat([df, df.head(5).with_columns(pl.col("doc") + 1000)])  # 5 duplicates
        out = str(tmp_path / "out")

        before = emu.stats()
        plan = xf.plan(df, "extract", output=out, **common)
        after = emu.stats()
        assert after["batches_created"] == before["batches_created"]
        assert after["inputs_submitted"] == before["inputs_submitted"]
        new = {k: v for k, v in after["requests"].items() if v != before["requests"].get(k)}
        # Reading the processor (version) only: no upload, no run or batch request.
        assert set(new) <= {"GET /extractors/{id}", "GET /extractors/{id}/versions/{version}"}
        assert (plan.rows, plan.documents, plan.cache_hits, plan.to_submit) == (415, 410, 150, 260)
        # Chunks are planned over every document (so a resume plans the same ones); the 260
        # new documents fall in 4 of the 5 chunks of 100.
        assert plan.batches == 4
        assert plan.requests["RUN"] == 4
        assert plan.credits is not None
        assert "no history" not in plan.credits_basis
        assert "documents to submit" in str(plan)

        result = xf.extract(df, output=out, **common)
        done = emu.stats()
        assert done["inputs_submitted"] - after["inputs_submitted"] == plan.to_submit
        assert done["batches_created"] - after["batches_created"] == plan.batches
        assert _run_gets(done) - _run_gets(after) == plan.to_submit
        assert int(result.get_column("cached").sum()) == 155  # 150 hits + 5 duplicate rows
        assert plan.credits == pytest.approx(float(result.get_column("credits").sum()))

        again = xf.plan(df, "extract", output=out, **common)
        assert (again.done_in_output, again.to_submit, again.batches) == (415, 0, 0)


def test_plan_without_history_says_so(emulator: Emulator) -> None:
    ex = create_processor(emulator, "extractor")
    plan = xf.plan(_texts(10), "extract", processor=ex, text_column="text",
                   client=make_client(emulator))  # fmt: skip
    assert plan.credits is None
    assert "no history" in plan.credits_basis
    assert plan.to_submit == 10
    assert emulator.stats()["inputs_submitted"] == 0


def _run_posts(stats: dict[str, Any]) -> tuple[int, int]:
    """(single-run POSTs, batch POSTs) of extract."""
    return _count(stats, "POST /extract_runs"), _count(stats, "POST /extract_runs/batch")


def _batch_gets(stats: dict[str, Any]) -> int:
    return _count(stats, "GET /batch_runs/{id}")


@pytest.mark.parametrize(
    ("route", "n", "expected"),
    [("auto", 30, "single"), ("single", 30, "single"), ("batch", 30, "batch")],
)
def test_plan_resolves_the_route_and_counts_its_requests(
    tmp_path: Path, route: str, n: int, expected: str
) -> None:
    with Emulator() as emu:
        ex = create_processor(emu, "extractor")
        common: dict[str, Any] = {
            "processor": ex, "text_column": "text", "key": "doc", "client": make_client(emu),
            "output": str(tmp_path / "out"), "polling": FAST, "progress": False,
            "batch_size": 10, "route": route,
        }  # fmt: skip
        df = _texts(n)
        before = emu.stats()
        plan = xf.plan(df, "extract", **common)
        after = emu.stats()
        assert _run_posts(after) == _run_posts(before) == (0, 0)
        assert plan.route == expected
        assert f"route                   {expected}" in str(plan)

        result = xf.extract(df, **common)
        done = emu.stats()
        assert xf.summarize(result).route == expected
        singles, batches = (a - b for a, b in zip(_run_posts(done), _run_posts(after), strict=True))
        assert singles + batches == plan.requests["RUN"]
        assert batches == plan.batches == (3 if expected == "batch" else 0)
        assert singles == (n if expected == "single" else 0)
        run_gets = _run_gets(done) - _run_gets(after)
        assert plan.to_submit == n
        # A batch's runs are fetched once each, after the batch finished. A single run is
        # polled until it is terminal: once on an idle machine, more when the emulator's
        # worker lags behind (a loaded machine), so the plan's one GET per run is a floor.
        if expected == "batch":
            assert run_gets == n
        else:
            assert run_gets >= n
        # GET: the processor read, one GET per run, and per batch one listing page and at
        # least one poll (a batch may need more polls: the plan's count is a floor).
        pages = _count(done, "GET /extract_runs") - _count(after, "GET /extract_runs")
        polls = _batch_gets(done) - _batch_gets(after)
        assert pages == batches
        assert polls >= batches
        assert (polls == 0) == (expected == "single")
        assert plan.requests["GET"] == 1 + n + pages + batches
        assert emu.stats()["duplicate_inputs"] == 0


def test_max_wait_on_single_runs_returns_pending_rows_with_run_ids(tmp_path: Path) -> None:
    # A run takes 60 s of the manual clock: nothing finishes until the clock is advanced.
    with Emulator(clock="manual", speed=Speed(run_latency=60.0)) as emu:
        df = _texts(12)
        common = _waiting(emu, tmp_path / "out")
        planned = xf.plan(df, "extract", **common)
        assert (planned.route, planned.batches, planned.requests["RUN"]) == ("single", 0, 12)
        first = xf.extract(df, max_wait=0.5, **common)
        assert xf.summarize(first).route == "single"
        assert (first.get_column("status") == "PENDING").all()
        assert first.get_column("batch_id").is_null().all()
        assert first.get_column("run_id").null_count() == 0
        assert first.get_column("run_id").n_unique() == 12
        posted = _run_posts(emu.stats())
        assert posted == (12, 0)

        resumed = xf.plan(df, "extract", **common)
        assert (resumed.route, resumed.to_submit, resumed.requests["RUN"]) == ("single", 0, 0)
        emu.advance(3600)
        second = xf.extract(df, **common)
        assert (second.get_column("status") == "PROCESSED").all()
        assert _run_posts(emu.stats()) == posted  # resumed, not resubmitted
        assert emu.stats()["duplicate_inputs"] == 0
        assert second.get_column("run_id").to_list() == first.get_column("run_id").to_list()
