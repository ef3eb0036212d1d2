"""Seeded fault injection replays exactly; rate limits answer 429 with Retry-After."""

from __future__ import annotations

import httpx
import pytest

from extend_frames.emulator import (
    API_VERSION,
    ConnectionDroppedError,
    Emulator,
    EmulatorConfig,
    Faults,
    RateLimits,
    create_app,
)
from extend_frames.emulator._config import rate_limits_from

from .conftest import raw_client


def _scenario(faults: Faults) -> tuple[list[int], dict[str, int]]:
    """A fixed mix of reads and writes; returns the status sequence and the fault counters."""
    statuses: list[int] = []
    with Emulator(faults=faults) as emu, raw_client(emu) as c:
        for i in range(30):
            statuses.append(
                c.post(
                    "/parse_runs/batch", json={"inputs": [{"file": {"text": str(i)}}]}
                ).status_code
            )
            statuses.append(c.get("/parse_runs", params={"maxPageSize": 5}).status_code)
            statuses.append(c.get("/batch_runs/bpr_missing").status_code)
        return statuses, dict(emu.stats()["faults"])


def test_same_seed_same_faults() -> None:
    faults = Faults(seed=7, error_rate=0.3, slow_rate=0.2, slow_seconds=0.0)
    first, counters = _scenario(faults)
    assert 500 in first
    assert counters["errors"] == first.count(500)
    assert counters["slow"] > 0
    assert _scenario(faults) == (first, counters)
    other, _ = _scenario(Faults(seed=8, error_rate=0.3))
    assert other != first


def test_same_seed_same_ids_and_outcomes() -> None:
    def scenario(seed: int) -> list[object]:
        config = EmulatorConfig(seed=seed, faults=Faults(seed=seed, run_failure_rate=0.3))
        seen: list[object] = []
        with Emulator(config) as emu, raw_client(emu) as c:
            ex = c.post("/extractors", json={"name": "x", "config": {}}).json()
            seen.append(ex["id"])
            for b in range(3):
                inputs = [{"file": {"text": f"{b}-{i}"}, "metadata": {"i": i}} for i in range(20)]
                body = {"extractor": {"id": ex["id"]}, "inputs": inputs}
                seen.append(c.post("/extract_runs/batch", json=body).json()["id"])
            assert emu.wait_idle()
            runs = c.get("/extract_runs", params={"maxPageSize": 100, "sortBy": "createdAt"})
            seen.extend((r["id"], r["status"], r["failureReason"]) for r in runs.json()["data"])
        return seen

    first = scenario(11)
    assert len(first) == 64
    assert scenario(11) == first
    assert scenario(12) != first


def test_error_rates_per_category_and_route() -> None:
    faults = Faults(error_rates={"RUN": 1.0, "GET /batch_runs/{id}": 1.0})
    with Emulator(faults=faults) as emu, raw_client(emu) as c:
        assert (
            c.post("/parse_runs/batch", json={"inputs": [{"file": {"text": "x"}}]}).status_code
            == 500
        )
        assert c.get("/batch_runs/bpr_x").status_code == 500
        assert c.get("/parse_runs").status_code == 200
        assert c.post("/extractors", json={"name": "w"}).status_code == 200  # WRITE untouched
        body = c.get("/batch_runs/bpr_x").json()
        assert body["code"] == "INTERNAL_ERROR"
        assert body["retryable"] is True


def test_error_after_commit_keeps_the_batch() -> None:
    with Emulator(faults=Faults(error_after_commit_rate=1.0)) as emu, raw_client(emu) as c:
        inputs = [{"file": {"text": "x"}, "metadata": {"row": 1}}]
        resp = c.post("/parse_runs/batch", json={"inputs": inputs})
        assert resp.status_code == 500
        assert resp.json()["code"] == "INTERNAL_ERROR"
        assert emu.wait_idle()
        runs = c.get("/parse_runs").json()["data"]
        assert [r["metadata"] for r in runs] == [{"row": 1}]  # the lost-response case
        stats = emu.stats()
        assert stats["batches_created"] == 1
        assert stats["faults"]["errors_after_commit"] == 1


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/parse_runs", {"file": {"url": "file:///nonexistent.txt"}}),
        ("/extract_runs", {"config": {"schema": {"type": "object"}}, "file": {"text": "x"}}),
        ("/classify_runs", {"config": {"classifications": []}, "file": {"text": "x"}}),
        ("/split_runs", {"config": {"splitClassifications": []}, "file": {"url": "file:///n"}}),
    ],
)
def test_error_after_commit_keeps_the_single_run(path: str, body: dict[str, object]) -> None:
    with Emulator(faults=Faults(error_after_commit_rate=1.0)) as emu, raw_client(emu) as c:
        resp = c.post(path, json={**body, "metadata": {"row": 7}})
        assert resp.status_code == 500
        assert resp.json()["code"] == "INTERNAL_ERROR"
        assert emu.wait_idle()
        runs = c.get(path).json()["data"]
        assert [r["metadata"] for r in runs] == [{"row": 7}]  # created despite the 500
        assert emu.stats()["faults"]["errors_after_commit"] == 1


def test_dropped_connection_has_no_response() -> None:
    with Emulator(faults=Faults(drop_rate=1.0)) as emu, raw_client(emu) as c:
        with pytest.raises(httpx.RemoteProtocolError):
            c.get("/parse_runs")
        assert emu.stats()["faults"]["dropped"] == 1


async def test_dropped_connection_in_process() -> None:
    app = create_app(EmulatorConfig(faults=Faults(drop_rate=1.0)))
    headers = {"authorization": "Bearer k", "x-extend-api-version": API_VERSION}
    transport = httpx.ASGITransport(app=app)
    try:
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as c:
            with pytest.raises(ConnectionDroppedError):
                await c.get("/parse_runs", headers=headers)
    finally:
        app.stop()


def test_rate_limits_answer_429_with_retry_after() -> None:
    with Emulator(rate_limits=RateLimits(get=2, write=None, run=1)) as emu, raw_client(emu) as c:
        codes = [c.get("/parse_runs").status_code for _ in range(4)]
        assert codes[:2] == [200, 200]
        assert 429 in codes[2:]
        limited = c.get("/parse_runs")
        assert limited.status_code == 429
        assert limited.json()["code"] == "RATE_LIMIT_EXCEEDED"
        assert limited.json()["retryable"] is True
        assert int(limited.headers["retry-after"]) >= 1
        # categories are independent: WRITE is unlimited here, RUN has its own bucket
        assert all(
            c.post("/extractors", json={"name": str(i)}).status_code == 200 for i in range(5)
        )
        body = {"inputs": [{"file": {"text": "x"}}]}
        assert c.post("/parse_runs/batch", json=body).status_code == 200
        assert c.post("/parse_runs/batch", json=body).status_code == 429
        # uploads count as WRITE
        assert c.post("/files/upload", files={"file": ("a.txt", b"x")}).status_code == 200
        limited_stats = emu.stats()["rate_limited"]
        assert limited_stats["GET"] >= 2
        assert limited_stats["RUN"] == 1
        assert "WRITE" not in limited_stats


def test_rate_limit_presets() -> None:
    assert rate_limits_from("payg") == RateLimits(10, 10, 10)
    assert rate_limits_from("scale") == RateLimits(25, 25, 25)
    assert rate_limits_from("enterprise") == RateLimits(75, 75, 75)
    assert rate_limits_from(5) == RateLimits(5, 5, 5)
    assert rate_limits_from(None) == RateLimits()


def test_duplicate_inputs_counter() -> None:
    with Emulator() as emu, raw_client(emu) as c:
        first = [{"file": {"text": "a"}, "metadata": {"job": "j", "row": r}} for r in range(3)]
        c.post("/parse_runs/batch", json={"inputs": first})
        # same metadata with keys in another order is the same input (canonical JSON)
        again = [{"file": {"text": "a"}, "metadata": {"row": 2, "job": "j"}}]
        fresh = [
            {"file": {"text": "a"}, "metadata": {"job": "j", "row": 3}},
            {"file": {"text": "b"}},
        ]
        c.post("/parse_runs/batch", json={"inputs": again + fresh})
        stats = emu.stats()
        assert stats["inputs_submitted"] == 6
        assert stats["batches_created"] == 2
        assert stats["duplicate_inputs"] == 1
