"""The client against the project's emulator over a real loopback socket.

Checks that what the client sends is what an Extend-compatible server expects (headers, paths,
bodies, pagination), that an ambiguous batch POST is reconcilable, and that the client finds a
rate limit it was not told about on a real server.
"""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from extend_frames._errors import AuthenticationError, NotFoundError, OutcomeUnknownError
from extend_frames.api import Category, Client, RateLimits, RetryBudget, RetryPolicy
from extend_frames.emulator import Emulator, Faults
from extend_frames.emulator import RateLimits as ServerLimits

SCHEMA = {
    "type": "object",
    "properties": {
        "invoice_number": {"type": ["string", "null"]},
        "total": {"type": ["number", "null"]},
    },
}


def _client(emu: Emulator, **kwargs: Any) -> Client:
    kwargs.setdefault("rate_limits", RateLimits(get=200, write=200, run=200))
    return Client(emu.api_key, base_url=emu.url, retry=RetryPolicy(budget=RetryBudget()), **kwargs)


def _extractor(emu: Emulator) -> str:
    headers = {"Authorization": f"Bearer {emu.api_key}", "x-extend-api-version": "2026-02-09"}
    with httpx.Client(base_url=emu.url, headers=headers) as raw:
        response = raw.post("/extractors", json={"name": "inv", "config": {"schema": SCHEMA}})
        response.raise_for_status()
        return str(response.json()["id"])


async def test_batch_flow_end_to_end() -> None:
    with Emulator() as emu:
        extractor_id = _extractor(emu)
        async with _client(emu) as client:
            version = await client.get_processor("extractor", extractor_id)
            assert version["config"]["schema"]["properties"].keys() == {"invoice_number", "total"}
            uploaded = await client.upload_file(b"Invoice INV-7\nTotal: 12.50\n", name="a.txt")
            inputs = [
                {"file": {"id": uploaded["id"]}, "metadata": {"row": 0}},
                {"file": {"text": "Invoice INV-8 Total: 3.00"}, "metadata": {"row": 1}},
                {"file": {"text": "Invoice INV-9"}, "metadata": {"row": 2}},
            ]
            batch = await client.create_batch(
                "extract", inputs=inputs, processor={"id": extractor_id}
            )
            assert (batch.run_count, batch.id[:4]) == (3, "bpr_")
            assert emu.wait_idle()
            assert (await client.get_batch(batch.id)).is_terminal
            runs = [r async for r in client.iter_runs("extract", batch_id=batch.id, page_size=2)]
            assert sorted(r["metadata"]["row"] for r in runs) == [0, 1, 2]
            for run in runs:
                body = await client.get_run_bytes("extract", run["id"])
                full = await client.get_run("extract", run["id"])
                assert full["id"].encode() in body
                assert full["status"] == "PROCESSED"
                assert "output" in full
            with pytest.raises(NotFoundError):
                await client.get_batch("bpr_doesNotExist000000000")


async def test_parse_batch_and_webhook_endpoint() -> None:
    with Emulator() as emu:
        async with _client(emu) as client:
            batch = await client.create_batch(
                "parse", inputs=[{"file": {"text": "hello"}}], config={"target": "markdown"}
            )
            assert batch.id.startswith("bpar_")
            assert emu.wait_idle()
            runs = [r async for r in client.iter_runs("parse", batch_id=batch.id)]
            assert [r["status"] for r in runs] == ["PROCESSED"]
            full = await client.get_run("parse", runs[0]["id"])
            assert full["output"]["chunks"]
            endpoint = await client.create_webhook_endpoint(
                "http://127.0.0.1:9/hook", name="xf", events=["batch_parse_run.processed"]
            )
            assert endpoint["signingSecret"].startswith("wss_")
            await client.delete_webhook_endpoint(endpoint["id"])


async def test_wrong_key_is_an_authentication_error() -> None:
    with Emulator() as emu:
        async with Client("sk_wrong", base_url=emu.url) as client:
            with pytest.raises(AuthenticationError) as info:
                await client.get_batch("bpr_1")
    assert info.value.status == 401
    assert "sk_wrong" not in str(info.value)


async def test_500_after_commit_is_unknown_and_reconcilable() -> None:
    with Emulator(faults=Faults(error_after_commit_rate=1.0)) as emu:
        extractor_id = _extractor(emu)
        async with _client(emu) as client:
            since = datetime.now(UTC) - timedelta(seconds=60)
            inputs = [
                {"file": {"text": f"doc {i}"}, "metadata": {"job": "j1", "row": i}}
                for i in range(3)
            ]
            with pytest.raises(OutcomeUnknownError) as info:
                await client.create_batch("extract", inputs=inputs, processor={"id": extractor_id})
            assert info.value.status == 500
            assert emu.stats()["batches_created"] == 1  # sent once, never retried
            found = [r async for r in client.list_runs_since("extract", extractor_id, since)]
            assert sorted(r["metadata"]["row"] for r in found) == [0, 1, 2]


CONVERGED, MEASURED = 6.0, 9.0  # seconds: converge by the first, measure up to the second


@pytest.mark.slow
@pytest.mark.realtime(reason="a real server's token bucket over a socket: real time is the point")
async def test_converges_to_the_emulators_unannounced_limit() -> None:
    # 5/s: a rate any machine's loopback exceeds many times over with 20 callers, so the
    # client always meets the limit (asserted below), even on a loaded CI machine.
    limit = 5.0
    with Emulator(rate_limits=ServerLimits(get=limit)) as emu:
        client = _client(emu, rate_limits=RateLimits(get=100, write=100, run=100))
        batch = await client.create_batch("parse", inputs=[{"file": {"text": "x"}}])
        done: list[float] = []
        limited_at_convergence: list[int] = []
        start = time.monotonic()

        async def loop() -> None:
            while (now := time.monotonic() - start) < MEASURED:
                if now >= CONVERGED and not limited_at_convergence:
                    limited_at_convergence.append(emu.stats()["rate_limited"].get("GET", 0))
                await client.get_batch(batch.id)
                done.append(time.monotonic() - start)

        await asyncio.gather(*(loop() for _ in range(20)))
        limited_after = emu.stats()["rate_limited"].get("GET", 0)
        await client.aclose()
    ok = sum(1 for t in done if CONVERGED <= t < MEASURED)
    limited = limited_after - limited_at_convergence[0]
    window = MEASURED - CONVERGED
    print(f"\n{ok / window:.1f}/s after convergence, {limited} 429s then, {limited_after} in all")
    # The client met the limit it was not told about, and measured it from the 429s.
    assert limited_at_convergence[0] > 0, "the client never met the server's limit"
    estimate = client._pacers[Category.GET].estimate
    assert estimate is not None
    assert 0.75 * limit <= estimate <= 1.25 * limit, estimate
    # Once converged it never sends above the limit, and almost nothing it sends is refused
    # (load can only slow it down: both bounds hold on a busy machine).
    assert ok / window <= 1.15 * limit, f"{ok / window:.1f}/s against {limit}/s"
    assert limited <= max(1, 0.05 * (ok + limited)), f"{limited} 429s against {ok} successes"


async def test_single_run_round_trip() -> None:
    with Emulator() as emu:
        extractor_id = _extractor(emu)
        async with _client(emu) as client:
            meta = {"extend_frames": {"job": "j1", "row": "k"}, "team": "ap"}
            run = await client.create_run(
                "extract",
                file={"text": "Invoice number: INV-8\nTotal: 3.00\n"},
                processor={"id": extractor_id},
                metadata=meta,
            )
            assert run["id"].startswith("exr_")
            assert run["metadata"] == meta
            assert emu.wait_idle()
            full = await client.get_run("extract", run["id"])
            assert (full["status"], full["metadata"]) == ("PROCESSED", meta)
            assert full["output"]["value"]["invoice_number"] == "INV-8"
            assert emu.stats()["requests"]["POST /extract_runs"] == {"200": 1}
