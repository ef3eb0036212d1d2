"""WebhookReceiver over real HTTP on 127.0.0.1 (its own uvicorn thread), plus in-process ASGI."""

from __future__ import annotations

import asyncio
import json
import logging
import socket
import time
from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import pytest

from extend_frames import InputError
from extend_frames.webhooks import WebhookHub, WebhookReceiver, sign
from tests.webhooks.conftest import PayloadServer

SECRET = "wss_receiver_test_secret"


def envelope(batch_id: str, status: str = "PROCESSED", *, event_id: str | None = None) -> bytes:
    kind = "batch_parse_run" if batch_id.startswith("bpar_") else "batch_processor_run"
    return json.dumps(
        {
            "eventId": event_id or f"event_{batch_id}",
            "eventType": f"{kind}.{status.lower()}",
            "payload": {
                "object": "batch_run",
                "id": batch_id,
                "status": status,
                "runCount": 2,
                "createdAt": "2026-03-02T10:15:00.000Z",
            },
        },
        separators=(",", ":"),
    ).encode()


def signed_headers(body: bytes, secret: str = SECRET, ts: int | None = None) -> dict[str, str]:
    ts = int(time.time()) if ts is None else ts
    return {
        "content-type": "application/json",
        "x-extend-api-version": "2026-02-09",
        "x-extend-request-timestamp": str(ts),
        "x-extend-request-signature": sign(body, secret, ts),
    }


@pytest.fixture
def hub() -> WebhookHub:
    return WebhookHub()


@pytest.fixture
def receiver(hub: WebhookHub) -> Iterator[WebhookReceiver]:
    with WebhookReceiver(SECRET, hub=hub) as running:
        yield running


@pytest.fixture
async def http() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(timeout=10) as client:
        yield client


async def post(
    http: httpx.AsyncClient, receiver: WebhookReceiver, body: bytes, headers: dict[str, str]
) -> httpx.Response:
    return await http.post(receiver.url, content=body, headers=headers)


async def test_valid_delivery_wakes_a_waiter(
    receiver: WebhookReceiver, hub: WebhookHub, http: httpx.AsyncClient
) -> None:
    assert receiver.url.startswith("http://127.0.0.1:")
    waiter = asyncio.ensure_future(hub.wait("bpr_ok", timeout=30))
    await asyncio.sleep(0)
    body = envelope("bpr_ok")
    response = await post(http, receiver, body, signed_headers(body))
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}
    got = await waiter
    assert got is not None
    assert (got["id"], got["status"], got["runCount"]) == ("bpr_ok", "PROCESSED", 2)


async def test_duplicate_delivery_publishes_once(
    receiver: WebhookReceiver, hub: WebhookHub, http: httpx.AsyncClient
) -> None:
    body = envelope("bpr_dup")
    first = await post(http, receiver, body, signed_headers(body))
    second = await post(http, receiver, body, signed_headers(body))  # Extend's retry: new ts
    assert (first.status_code, second.status_code) == (200, 200)
    assert second.json() == {"status": "duplicate"}
    stats = hub.stats()
    assert (stats.received, stats.duplicates, stats.batches_finished) == (2, 1, 1)


async def test_forged_delivery_is_rejected_and_wakes_no_one(
    receiver: WebhookReceiver, hub: WebhookHub, http: httpx.AsyncClient
) -> None:
    body = envelope("bpr_forged")
    forged = await post(http, receiver, body, signed_headers(body, secret="wss_attacker"))
    stale = await post(http, receiver, body, signed_headers(body, ts=int(time.time()) - 3600))
    unsigned = await post(http, receiver, body, {"content-type": "application/json"})
    for response in (forged, stale, unsigned):
        assert response.status_code == 401
        assert response.json() == {"error": "verification failed"}  # no detail leaked
    assert await hub.wait("bpr_forged", timeout=0) is None
    assert not hub.seen("event_bpr_forged")
    stats = hub.stats()
    assert (stats.rejected, stats.received) == (3, 0)


async def test_out_of_order_deliveries(
    receiver: WebhookReceiver, hub: WebhookHub, http: httpx.AsyncClient
) -> None:
    waiters = {b: asyncio.ensure_future(hub.wait(b, timeout=30)) for b in ("bpr_1", "bpar_2")}
    await asyncio.sleep(0)
    now = int(time.time())
    late_run_event = json.dumps(
        {"eventId": "event_run", "eventType": "extract_run.processed", "payload": {"id": "exr_1"}}
    ).encode()
    deliveries = [
        (envelope("bpar_2"), now),  # the batch waited on second finishes first
        (late_run_event, now - 100),  # an older event arriving late
        (envelope("bpr_1", "FAILED"), now - 200),
        (envelope("bpr_1", event_id="event_bpr_1_again"), now),  # a second verdict: ignored
    ]
    for body, ts in deliveries:
        response = await post(http, receiver, body, signed_headers(body, ts=ts))
        assert response.status_code == 200
    got = {b: await w for b, w in waiters.items()}
    assert {b: (p or {}).get("status") for b, p in got.items()} == {
        "bpr_1": "FAILED",
        "bpar_2": "PROCESSED",
    }


async def test_signed_url_payload_is_fetched_and_published(
    receiver: WebhookReceiver,
    hub: WebhookHub,
    http: httpx.AsyncClient,
    payload_server: PayloadServer,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    base = f"http://127.0.0.1:{payload_server.server_address[1]}"
    batch = json.loads(envelope("bpr_big"))["payload"]
    payload_server.routes["/p/ok.json?X-Amz-Signature=beef"] = (200, json.dumps(batch).encode())

    def stub_event(path: str) -> bytes:
        return json.dumps(
            {
                "eventId": "event_big",
                "eventType": "batch_processor_run.processed",
                "payload": {"object": "signed_data_url", "data": base + path, "id": "bpr_big"},
            }
        ).encode()

    # First delivery: the URL is dead. 502 so Extend redelivers; nothing recorded as seen.
    dead = stub_event("/p/expired.json?X-Amz-Signature=dead")
    response = await post(http, receiver, dead, signed_headers(dead))
    assert response.status_code == 502
    assert not hub.seen("event_big")
    # The redelivery carries a fresh URL (Extend generates a new one): fetched and published.
    waiter = asyncio.ensure_future(hub.wait("bpr_big", timeout=30))
    fresh = stub_event("/p/ok.json?X-Amz-Signature=beef")
    response = await post(http, receiver, fresh, signed_headers(fresh))
    assert response.status_code == 200
    assert await waiter == batch
    assert payload_server.hits == [
        "/p/expired.json?X-Amz-Signature=dead",
        "/p/ok.json?X-Amz-Signature=beef",
    ]
    assert "X-Amz-Signature" not in caplog.text
    assert SECRET not in caplog.text


async def test_secret_set_after_start_and_rotation(
    hub: WebhookHub, http: httpx.AsyncClient
) -> None:
    with WebhookReceiver(hub=hub) as receiver:  # started before the endpoint (and secret) exists
        assert SECRET not in repr(receiver)
        body = envelope("bpr_s1")
        response = await post(http, receiver, body, signed_headers(body))
        assert response.status_code == 503  # Extend retries; nothing is lost
        receiver.set_secret(SECRET)
        response = await post(http, receiver, body, signed_headers(body))
        assert response.status_code == 200
        receiver.add_secret("wss_next")
        body = envelope("bpr_s2")
        assert (await post(http, receiver, body, signed_headers(body, "wss_next"))).is_success
        receiver.remove_secret(SECRET)
        body = envelope("bpr_s3")
        assert (await post(http, receiver, body, signed_headers(body))).status_code == 401
        assert SECRET not in repr(receiver)
    assert not receiver.running
    assert hub.get("bpr_s2") is not None


async def test_signed_but_malformed_body_is_400(
    receiver: WebhookReceiver, hub: WebhookHub, http: httpx.AsyncClient
) -> None:
    body = b'{"eventType": "batch_processor_run.processed"}'
    response = await post(http, receiver, body, signed_headers(body))
    assert response.status_code == 400
    assert hub.stats().rejected == 1


async def test_asgi_app_in_process_methods_and_size_limit(hub: WebhookHub) -> None:
    receiver = WebhookReceiver(SECRET, hub=hub, max_body_bytes=1000)
    transport = httpx.ASGITransport(app=receiver)
    async with httpx.AsyncClient(transport=transport, base_url="http://receiver") as client:
        assert (await client.get("/")).status_code == 200
        put = await client.put("/hooks", content=b"{}")
        assert put.status_code == 405
        assert put.headers["allow"] == "GET, POST"
        big = b"{" + b" " * 2000 + b"}"
        assert (
            await client.post("/hooks", content=big, headers=signed_headers(big))
        ).status_code == 413
        body = envelope("bpr_asgi")
        ok = await client.post("/any/path", content=body, headers=signed_headers(body))
        assert ok.status_code == 200
    assert hub.get("bpr_asgi") is not None


def test_handle_delivery_sync_for_sync_frameworks(hub: WebhookHub) -> None:
    receiver = WebhookReceiver(SECRET, hub=hub)
    body = envelope("bpr_sync")
    status, reply = receiver.handle_delivery_sync(body, signed_headers(body))
    assert (status, json.loads(reply)) == (200, {"status": "ok"})
    assert hub.get("bpr_sync") is not None


async def test_handle_delivery_sync_refuses_a_running_loop() -> None:
    receiver = WebhookReceiver(SECRET)
    with pytest.raises(InputError, match=r"await receiver\.handle_delivery"):
        receiver.handle_delivery_sync(b"{}", {})


def test_public_url_and_not_started_errors() -> None:
    receiver = WebhookReceiver(SECRET, public_url="https://hooks.example.com/extend")
    assert receiver.url == "https://hooks.example.com/extend"
    with pytest.raises(InputError, match="not started"):
        _ = receiver.local_url
    with pytest.raises(InputError, match="non-empty"):
        receiver.set_secret("")


def test_listening_socket_is_tcp_so_connections_get_nodelay(receiver: WebhookReceiver) -> None:
    # asyncio sets TCP_NODELAY on accepted connections only when the listening socket says
    # IPPROTO_TCP; without it each keep-alive response stalled ~40 ms (Nagle + delayed ACK).
    assert receiver._socket is not None
    assert receiver._socket.proto == socket.IPPROTO_TCP


async def test_asgi_lifespan_is_answered() -> None:
    receiver = WebhookReceiver(SECRET)
    incoming = [{"type": "lifespan.startup"}, {"type": "lifespan.shutdown"}]
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return incoming.pop(0)

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    await receiver({"type": "lifespan"}, receive, send)
    assert [m["type"] for m in sent] == ["lifespan.startup.complete", "lifespan.shutdown.complete"]


def test_port_in_use_is_a_clear_error(receiver: WebhookReceiver) -> None:
    port = int(receiver.local_url.rsplit(":", 1)[1].strip("/"))
    with pytest.raises(InputError, match="cannot listen"):
        WebhookReceiver(SECRET, port=port).start()
