"""``create_app(config)`` served in-process through httpx.ASGITransport (no socket)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from extend_frames.emulator import API_VERSION, EmulatorApp, EmulatorConfig, create_app


@pytest.fixture
async def app() -> AsyncIterator[EmulatorApp]:
    application = create_app(EmulatorConfig(api_keys=frozenset({"sk_test"})))
    yield application
    application.stop()


@pytest.fixture
async def client(app: EmulatorApp) -> AsyncIterator[httpx.AsyncClient]:
    headers = {"authorization": "Bearer sk_test", "x-extend-api-version": API_VERSION}
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://emu", headers=headers) as c:
        yield c


async def test_batch_flow_in_process(app: EmulatorApp, client: httpx.AsyncClient) -> None:
    batch = (
        await client.post(
            "/parse_runs/batch",
            json={
                "inputs": [{"file": {"text": "hello"}, "metadata": {"row": 0}}],
                "config": {"target": "spatial"},
            },
        )
    ).json()
    assert batch["status"] == "PENDING"
    assert app.worker.wait_idle(30)
    assert (await client.get(f"/batch_runs/{batch['id']}")).json()["status"] == "PROCESSED"
    runs = (await client.get("/parse_runs", params={"batchId": batch["id"]})).json()["data"]
    assert runs[0]["metadata"] == {"row": 0}
    full = (await client.get(f"/parse_runs/{runs[0]['id']}")).json()
    assert "createdAt" not in full  # the full ParseRun carries no timestamps (SPEC §6.4)
    assert full["config"]["engine"] == "parse_performance"  # effective config, defaults filled
    assert full["config"]["target"] == "spatial"
    assert full["output"]["chunks"]
    stats = (await client.get("/_emulator/stats")).json()
    assert stats["requests"]["GET /parse_runs/{id}"] == {"200": 1}


async def test_configured_keys_only(client: httpx.AsyncClient) -> None:
    resp = await client.get("/files", headers={"authorization": "Bearer sk_other"})
    assert resp.status_code == 401
    assert (await client.get("/files")).status_code == 200


async def test_summary_and_full_shapes(app: EmulatorApp, client: httpx.AsyncClient) -> None:
    ex = (await client.post("/extractors", json={"name": "x", "config": {}})).json()
    await client.post(
        "/extract_runs/batch",
        json={"extractor": {"id": ex["id"]}, "inputs": [{"file": {"text": "t"}}]},
    )
    assert app.worker.wait_idle(30)
    summary = (await client.get("/extract_runs")).json()["data"][0]
    full = (await client.get(f"/extract_runs/{summary['id']}")).json()
    missing = {"output", "initialOutput", "reviewedOutput", "edits", "config"}
    assert missing.isdisjoint(summary)
    assert missing <= set(full)
    assert set(full) - missing == set(summary)
    assert "breakdown" not in summary["usage"]
    assert "breakdown" in full["usage"]


def test_config_repr_hides_keys() -> None:
    config = EmulatorConfig(api_keys=frozenset({"sk_secret_value"}))
    assert "sk_secret_value" not in repr(config)
