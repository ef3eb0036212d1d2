"""Late commits (504 at once or a held answer, committed later) and 429 storms."""

from __future__ import annotations

import threading

import httpx
import pytest

from extend_frames.emulator import Emulator, Faults, Storm

from .conftest import raw_client

INPUTS = [{"file": {"text": f"doc {i}"}, "metadata": {"row": i}} for i in range(3)]


def test_504_commits_later_on_the_manual_clock_and_duplicates_are_counted() -> None:
    faults = Faults(late_commit_rate=1.0, late_commit_seconds=30.0)
    with Emulator(faults=faults, clock="manual") as emu, raw_client(emu) as c:
        resp = c.post("/parse_runs/batch", json={"inputs": INPUTS})
        assert resp.status_code == 504
        assert resp.json()["code"] == "GATEWAY_TIMEOUT"
        assert c.get("/parse_runs").json()["data"] == []  # nothing yet: still travelling
        emu.advance(29.0)
        assert emu.stats()["batches_created"] == 0
        # a client that concluded "not created" and sends again, before the late commit...
        assert c.post("/parse_runs/batch", json={"inputs": INPUTS}).status_code == 504
        emu.advance(1.0)  # ...then the first one commits: 30 s after it arrived
        stats = emu.stats()
        assert stats["batches_created"] == 1
        assert stats["duplicate_inputs"] == 0
        emu.advance(30.0)  # and the second one too: every input counted as a duplicate
        stats = emu.stats()
        assert stats["batches_created"] == 2
        assert stats["duplicate_inputs"] == 3
        assert stats["faults"]["late_commits"] == 2
        runs = c.get("/parse_runs").json()["data"]
        assert sorted(r["metadata"]["row"] for r in runs) == [0, 0, 1, 1, 2, 2]


def test_held_answer_outlives_the_read_timeout_then_commits() -> None:
    faults = Faults(late_commit_rate=1.0, late_commit_seconds=60.0, late_commit_answer="hold")
    with Emulator(faults=faults, clock="manual") as emu, raw_client(emu) as c:
        ex = c.post("/extractors", json={"name": "x", "config": {}}).json()["id"]
        body = {"file": {"text": "one"}, "metadata": {"row": 1}, "extractor": {"id": ex}}
        with pytest.raises(httpx.ReadTimeout):  # the client gives up first
            c.post("/extract_runs", json=body, timeout=httpx.Timeout(5.0, read=0.3))
        assert c.get("/extract_runs").json()["data"] == []
        emu.advance(60.0)  # the held request commits after the client stopped waiting
        runs = c.get("/extract_runs").json()["data"]
        assert [r["metadata"] for r in runs] == [{"row": 1}]


def test_held_answer_arrives_once_committed() -> None:
    faults = Faults(late_commit_rate=1.0, late_commit_seconds=10.0, late_commit_answer="hold")
    with Emulator(faults=faults, clock="manual") as emu, raw_client(emu) as c:
        answers: list[int] = []
        sender = threading.Thread(
            target=lambda: answers.append(
                c.post("/parse_runs/batch", json={"inputs": INPUTS}, timeout=30.0).status_code
            )
        )
        sender.start()
        while emu.stats()["faults"].get("late_commits", 0) == 0:  # the request has arrived
            sender.join(0.01)
        emu.advance(10.0)
        sender.join(30.0)
        assert answers == [200]
        assert emu.stats()["batches_created"] == 1


def test_storms_answer_every_request_429_with_retry_after() -> None:
    storm = Storm(start=10.0, seconds=5.0, categories=("GET",), retry_after=2)
    with Emulator(faults=Faults(storms=(storm,)), clock="manual") as emu, raw_client(emu) as c:
        assert c.get("/parse_runs").status_code == 200
        emu.advance(10.0)
        limited = c.get("/parse_runs")
        assert limited.status_code == 429
        assert limited.headers["retry-after"] == "2"
        assert limited.json()["code"] == "RATE_LIMIT_EXCEEDED"
        assert c.post("/parse_runs/batch", json={"inputs": INPUTS}).status_code == 200  # RUN
        emu.advance(5.0)
        assert c.get("/parse_runs").status_code == 200  # over: no steady limit
        stats = emu.stats()
        assert stats["faults"]["storm_429"] == 1
        assert stats["rate_limited"] == {"GET": 1}


@pytest.mark.realtime(reason="the late commit happens on the system clock: real time is the point")
def test_late_commit_on_the_system_clock_happens_by_itself() -> None:
    faults = Faults(late_commit_rate=1.0, late_commit_seconds=0.2)
    with Emulator(faults=faults) as emu, raw_client(emu) as c:
        assert c.post("/parse_runs/batch", json={"inputs": INPUTS}).status_code == 504
        done = threading.Event()
        for _ in range(500):  # bounded: at most ~10 s on a busy machine
            if emu.stats()["batches_created"] == 1:
                done.set()
                break
            done.wait(0.02)
        assert done.is_set()
        assert emu.stats()["inputs_submitted"] == 3
