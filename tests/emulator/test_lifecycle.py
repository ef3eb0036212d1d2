"""The time and load model: queue priority, delays, throttling, batch status aggregation.

A manual clock makes every step deterministic: nothing moves until the test advances time,
and ``wait_idle`` returns once the worker has done everything that is due.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from extend_frames.emulator import Emulator, EmulatorConfig, Faults, Fidelity, Speed

from .conftest import INVOICE_SCHEMA, raw_client

# The emulator's worker thread moves runs on; it offers no notification, so these tests poll.
_realtime = pytest.mark.realtime(reason="polls state the emulator's worker thread changes")


def _statuses(c: httpx.Client, kind: str, batch_id: str) -> list[str]:
    data = c.get(f"/{kind}_runs", params={"batchId": batch_id, "maxPageSize": 1000}).json()["data"]
    return [r["status"] for r in data]


def _batch(c: httpx.Client, batch_id: str) -> dict[str, Any]:
    return c.get(f"/batch_runs/{batch_id}").json()


def _texts(n: int) -> list[dict[str, Any]]:
    return [{"file": {"text": f"doc {i}"}, "metadata": {"i": i}} for i in range(n)]


@pytest.fixture
def slow() -> Iterator[tuple[Emulator, httpx.Client]]:
    speed = Speed(run_latency=10.0, batch_queue_delay=30.0)
    with Emulator(clock="manual", speed=speed) as emu, raw_client(emu) as c:
        yield emu, c


@_realtime
def test_batch_lifecycle_pending_processing_processed(slow: tuple[Emulator, httpx.Client]) -> None:
    emu, c = slow
    batch = c.post("/parse_runs/batch", json={"inputs": _texts(3)}).json()
    assert batch["status"] == "PENDING"
    assert batch["runCount"] == 3
    # runs are listable as PENDING right after the POST
    assert _statuses(c, "parse", batch["id"]) == ["PENDING"] * 3
    emu.advance(29)
    assert emu.wait_idle(0) is False  # still queued
    assert _batch(c, batch["id"])["status"] == "PENDING"
    emu.advance(1)  # queue delay over: all three start (no throughput limit)
    _wait_for(lambda: _statuses(c, "parse", batch["id"]) == ["PROCESSING"] * 3)
    assert _batch(c, batch["id"])["status"] == "PROCESSING"
    emu.advance(10)
    assert emu.wait_idle()
    assert _batch(c, batch["id"])["status"] == "PROCESSED"
    assert _statuses(c, "parse", batch["id"]) == ["PROCESSED"] * 3


def test_processed_batch_may_hold_failed_runs() -> None:
    with Emulator() as emu, raw_client(emu) as c:
        inputs = [{"file": {"text": "fine"}}, {"file": {"text": "__FAIL:OCR_ERROR"}}]
        batch = c.post("/parse_runs/batch", json={"inputs": inputs}).json()
        assert emu.wait_idle()
        assert _batch(c, batch["id"])["status"] == "PROCESSED"
        assert sorted(_statuses(c, "parse", batch["id"])) == ["FAILED", "PROCESSED"]


@_realtime
def test_single_runs_overtake_waiting_batch_runs() -> None:
    speed = Speed(files_per_minute=60.0)  # one start per second
    with Emulator(clock="manual", speed=speed) as emu, raw_client(emu) as c:
        batch = c.post("/parse_runs/batch", json={"inputs": _texts(3)}).json()
        single = c.post("/parse_runs", json={"file": {"text": "x"}})
        assert single.status_code == 400  # (single parse refuses text; use a file id)
        up = c.post("/files/upload", files={"file": ("a.txt", b"hello")}).json()
        single = c.post("/parse_runs", json={"file": {"id": up["id"]}}).json()
        assert single["status"] == "PROCESSING"
        _wait_for(lambda: _statuses(c, "parse", batch["id"]).count("PENDING") <= 3)
        emu.advance(1.0)
        # two starts happened (t=0, t=1); the single run, submitted last, was one of them
        _wait_for(lambda: c.get(f"/parse_runs/{single['id']}").json()["status"] == "PROCESSED")
        assert _statuses(c, "parse", batch["id"]).count("PROCESSED") <= 1
        emu.advance(2.0)
        assert emu.wait_idle()
        assert _statuses(c, "parse", batch["id"]) == ["PROCESSED"] * 3


@_realtime
def test_batch_queue_delay_holds_batches_only() -> None:
    """A single run submitted after a batch finishes while the batch still waits its delay."""
    speed = Speed(batch_queue_delay=30.0)
    with Emulator(clock="manual", speed=speed) as emu, raw_client(emu) as c:
        ex = c.post("/extractors", json={"name": "i", "config": {"schema": INVOICE_SCHEMA}}).json()
        batch = c.post(
            "/extract_runs/batch", json={"extractor": {"id": ex["id"]}, "inputs": _texts(3)}
        ).json()
        single = c.post(
            "/extract_runs",
            json={
                "extractor": {"id": ex["id"]},
                "file": {"text": "Invoice INV-7 total 12.50"},
                "metadata": {"extend_frames": {"job": "j", "row": "r0"}, "mine": [1, 2]},
            },
        ).json()
        assert single["metadata"] == {"extend_frames": {"job": "j", "row": "r0"}, "mine": [1, 2]}
        _wait_for(lambda: c.get(f"/extract_runs/{single['id']}").json()["status"] == "PROCESSED")
        # no time has passed on the manual clock: the batch is still in its delayed queue
        assert _batch(c, batch["id"])["status"] == "PENDING"
        assert _statuses(c, "extract", batch["id"]) == ["PENDING"] * 3
        got = c.get(f"/extract_runs/{single['id']}").json()
        assert got["metadata"]["mine"] == [1, 2]
        listed = c.get("/extract_runs", params={"extractorId": ex["id"]}).json()["data"]
        assert {r["id"]: r["metadata"] for r in listed}[single["id"]] == single["metadata"]
        emu.advance(30.0)
        assert emu.wait_idle(5)
        assert _batch(c, batch["id"])["status"] == "PROCESSED"


@_realtime
def test_throughput_limit_paces_starts() -> None:
    speed = Speed(files_per_minute=30.0)  # one start every 2 s
    with Emulator(clock="manual", speed=speed) as emu, raw_client(emu) as c:
        batch = c.post("/parse_runs/batch", json={"inputs": _texts(4)}).json()
        _wait_for(lambda: _statuses(c, "parse", batch["id"]).count("PROCESSED") == 1)
        emu.advance(1.9)
        assert _statuses(c, "parse", batch["id"]).count("PROCESSED") == 1
        emu.advance(0.1)
        _wait_for(lambda: _statuses(c, "parse", batch["id"]).count("PROCESSED") == 2)
        emu.advance(4.0)
        assert emu.wait_idle()
        assert _statuses(c, "parse", batch["id"]).count("PROCESSED") == 4


def test_cancel_refuses_pending_runs_by_default(slow: tuple[Emulator, httpx.Client]) -> None:
    """SDK 1.20: only PROCESSING runs can be cancelled; a queued (PENDING) run answers 400."""
    _emu, c = slow
    batch = c.post("/parse_runs/batch", json={"inputs": _texts(1)}).json()
    (run,) = c.get("/parse_runs", params={"batchId": batch["id"]}).json()["data"]
    resp = c.post(f"/parse_runs/{run['id']}/cancel")
    assert resp.status_code == 400
    assert "only PROCESSING" in resp.json()["message"]


def test_cancel_pending_run_and_emulator_batch_cancel() -> None:
    config = EmulatorConfig(fidelity=Fidelity(cancel_pending=True))
    speed = Speed(run_latency=10.0, batch_queue_delay=30.0)
    with Emulator(config, clock="manual", speed=speed) as emu, raw_client(emu) as c:
        ex = c.post("/extractors", json={"name": "x", "config": {"schema": INVOICE_SCHEMA}})
        batch = c.post(
            "/extract_runs/batch", json={"extractor": {"id": ex.json()["id"]}, "inputs": _texts(3)}
        ).json()
        runs = c.get("/extract_runs", params={"batchId": batch["id"]}).json()["data"]
        cancelled = c.post(f"/extract_runs/{runs[0]['id']}/cancel").json()
        assert cancelled["status"] == "CANCELLED"
        assert cancelled["output"] is None
        resp = c.post(f"/_emulator/batch_runs/{batch['id']}/cancel")
        assert resp.status_code == 200
        assert resp.json()["status"] == "CANCELLED"
        assert _statuses(c, "extract", batch["id"]) == ["CANCELLED"] * 3
        emu.advance(100)
        assert emu.wait_idle()
        assert _batch(c, batch["id"])["status"] == "CANCELLED"
        again = c.post(f"/_emulator/batch_runs/{batch['id']}/cancel")
        assert again.status_code == 400


@_realtime
def test_all_runs_cancelled_makes_batch_processed(slow: tuple[Emulator, httpx.Client]) -> None:
    emu, c = slow
    batch = c.post("/parse_runs/batch", json={"inputs": _texts(2)}).json()
    emu.advance(30)  # out of the delayed queue: both runs PROCESSING
    _wait_for(lambda: _statuses(c, "parse", batch["id"]) == ["PROCESSING"] * 2)
    for run in c.get("/parse_runs", params={"batchId": batch["id"]}).json()["data"]:
        cancelled = c.post(f"/parse_runs/{run['id']}/cancel").json()
        # parse's status enum has no CANCELLED: a cancelled parse run reads FAILED/CANCELLED
        assert (cancelled["status"], cancelled["failureReason"]) == ("FAILED", "CANCELLED")
    assert _batch(c, batch["id"])["status"] == "PROCESSED"


def test_batch_level_failure_fails_unfinished_runs() -> None:
    faults = Faults(seed=3, batch_failure_rate=1.0)
    with Emulator(faults=faults) as emu, raw_client(emu) as c:
        batch = c.post("/parse_runs/batch", json={"inputs": _texts(20)}).json()
        assert emu.wait_idle()
        assert _batch(c, batch["id"])["status"] == "FAILED"
        runs = c.get("/parse_runs", params={"batchId": batch["id"], "maxPageSize": 100}).json()
        failed = [r for r in runs["data"] if r["status"] == "FAILED"]
        assert failed
        assert all(r["failureReason"] == "INTERNAL_ERROR" for r in failed)
        assert all(r["status"] in ("PROCESSED", "FAILED") for r in runs["data"])


def _wait_for(predicate: Any, seconds: float = 30.0) -> None:
    """Poll state the worker thread changes, bounded by a generous wall-clock deadline (a
    count of attempts runs out early when a loaded machine stretches every poll)."""
    event = threading.Event()
    deadline = time.monotonic() + seconds
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not reached within {seconds:.0f} s")
        event.wait(0.002)


@_realtime
def test_batch_priority_orders_waiting_batches() -> None:
    speed = Speed(batch_queue_delay=5.0, files_per_minute=60.0)  # then one start per second
    with Emulator(clock="manual", speed=speed) as emu, raw_client(emu) as c:
        late = c.post("/parse_runs/batch", json={"inputs": _texts(3), "priority": 90}).json()
        early = c.post("/parse_runs/batch", json={"inputs": _texts(3), "priority": 10}).json()
        bad = c.post("/parse_runs/batch", json={"inputs": _texts(1), "priority": 0})
        assert bad.status_code == 400
        emu.advance(5.0)
        _wait_for(lambda: _statuses(c, "parse", early["id"]).count("PROCESSED") == 1)
        emu.advance(2.0)
        _wait_for(lambda: _statuses(c, "parse", early["id"]).count("PROCESSED") == 3)
        # the batch submitted first but with the higher priority value has not started
        assert _statuses(c, "parse", late["id"]) == ["PENDING"] * 3
        emu.advance(3.0)
        assert emu.wait_idle()
        assert _batch(c, late["id"])["status"] == "PROCESSED"
