"""The receiver against the emulator's real signed deliveries (duplicated and reordered).

The emulator signs independently of our code (it imports nothing from extend_frames), so this
checks our verifier, receiver and hub against a second implementation, over loopback HTTP.
"""

from __future__ import annotations

import httpx
import pytest

from extend_frames.webhooks import WebhookHub, WebhookReceiver

emulator = pytest.importorskip("extend_frames.emulator")
emulator_config = pytest.importorskip("extend_frames.emulator._config")


class CountingTransport(httpx.AsyncBaseTransport):
    """Counts signed-URL fetches; each one on a fresh real transport, buffered and closed.

    (A pooled transport must not outlive the receiver's server loop: its connections belong
    to that loop. Hence one transport per request here.)
    """

    def __init__(self) -> None:
        self.fetches = 0

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.fetches += 1
        async with httpx.AsyncHTTPTransport() as inner:
            response = await inner.handle_async_request(request)
            body = await response.aread()
            await response.aclose()
        return httpx.Response(response.status_code, headers=response.headers, content=body)


@pytest.mark.parametrize("signed_urls", [False, True], ids=["inline", "signed-url"])
async def test_emulator_deliveries_wake_the_waiting_batch(signed_urls: bool) -> None:
    hub = WebhookHub()
    transport = CountingTransport()
    options = emulator_config.WebhookOptions(duplicate_rate=1.0, reorder=True, seed=3)
    with (
        emulator.Emulator(webhooks=options) as emu,
        WebhookReceiver(hub=hub, transport=transport) as receiver,
    ):
        headers = {"authorization": f"Bearer {emu.api_key}", "x-extend-api-version": "2026-02-09"}
        async with httpx.AsyncClient(base_url=emu.url, headers=headers, timeout=10) as api:
            spec = {
                "url": receiver.url,
                "name": "extend_frames test",
                "apiVersion": "2026-02-09",
                "enabledEvents": ["batch_parse_run.processed", "batch_parse_run.failed"],
            }
            if signed_urls:
                spec["advancedOptions"] = {"payload": {"format": "url", "urlThresholdBytes": 10}}
            endpoint = (await api.post("/webhook_endpoints", json=spec)).json()
            receiver.set_secret(endpoint["signingSecret"])  # the receiver was already listening
            inputs = [{"file": {"text": "hello"}}, {"file": {"text": "world"}}]
            batch = (await api.post("/parse_runs/batch", json={"inputs": inputs})).json()
            got = await hub.wait(batch["id"], timeout=30)
        assert emu.wait_idle(30)
    assert got is not None
    assert (got["id"], got["status"], got["runCount"]) == (batch["id"], "PROCESSED", 2)
    stats = hub.stats()
    assert stats.rejected == 0
    assert stats.duplicates >= 1  # every delivery was sent twice; published once
    assert stats.batches_finished == 1
    assert (transport.fetches >= 1) is signed_urls
