"""Decoding verified deliveries and fetching signed-URL payloads (httpx.MockTransport)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
import pytest

from extend_frames import TransportError, WebhookVerificationError
from extend_frames.webhooks import WebhookEvent, decode, fetch_signed_payload, parse, sign
from tests.webhooks.conftest import PayloadServer

HERE = Path(__file__).parent
URL = "https://extend-webhooks.s3.amazonaws.com/payloads/e.json?X-Amz-Signature=f00dcafe"
RUN = {"object": "extract_run", "id": "exr_1", "status": "PROCESSED", "output": {"value": {}}}


def signed_url_event(url: str = URL, resource_id: str = "exr_1") -> WebhookEvent:
    return WebhookEvent(
        event_id="event_S1",
        event_type="extract_run.processed",
        payload={
            "object": "signed_data_url",
            "data": url,
            "id": resource_id,
            "metadata": {"extend_frames": {"job": "j", "row": 1}},
        },
    )


def serving(status: int, body: bytes, seen: list[httpx.Request] | None = None) -> Any:
    def handler(request: httpx.Request) -> httpx.Response:
        if seen is not None:
            seen.append(request)
        return httpx.Response(status, content=body)

    return httpx.MockTransport(handler)


def test_parse_decodes_the_documented_example_envelopes() -> None:
    for name, batch in [
        ("webhook_batch_processor_run_processed.json", ("bpr_7kQm2vXz9LpR4tYw1NcB3", "PROCESSED")),
        ("webhook_batch_processor_run_failed.json", ("bpr_7kQm2vXz9LpR4tYw1NcB3", "FAILED")),
        ("webhook_batch_parse_run_processed.json", ("bpar_Hc4nW8sJ2dQx6Rm0TfLk9", "PROCESSED")),
    ]:
        body = (HERE / "examples" / name).read_bytes()
        headers = {
            "x-extend-request-timestamp": "100",
            "x-extend-request-signature": sign(body, "wss_k", 100),
        }
        event = parse(body, headers, "wss_k", now=100)
        assert event.is_batch_event
        assert (event.batch_id, event.batch_status) == batch
        assert event.timestamp == 100
        assert event.api_version is None
        assert not event.is_signed_url


def test_run_and_signed_url_events_are_not_batch_events() -> None:
    event = decode((HERE / "examples" / "webhook_signed_url.json").read_bytes(), {})
    assert event.is_signed_url
    assert not event.is_batch_event
    assert event.batch_id is None
    assert event.batch_status is None
    assert event.resource_id == "exr_Xj8mK2pL9nR4vT7qY5wZ"
    assert "X-Amz" not in repr(event)


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (b"{not json", "not valid JSON"),
        (b"\xff\xfe", "not valid JSON"),
        (b"[1, 2]", "not a JSON object"),
        (b'{"eventType": "x", "payload": {}}', "eventId"),
        (b'{"eventId": "", "eventType": "x", "payload": {}}', "eventId"),
        (b'{"eventId": "event_1", "eventType": "x", "payload": "big"}', "no payload object"),
    ],
)
def test_decode_refuses_bodies_that_are_not_events(body: bytes, reason: str) -> None:
    with pytest.raises(WebhookVerificationError, match=reason):
        decode(body, {})


async def test_fetch_signed_payload_gets_the_object_without_auth() -> None:
    seen: list[httpx.Request] = []
    event = signed_url_event()
    payload = await fetch_signed_payload(
        event, transport=serving(200, json.dumps(RUN).encode(), seen)
    )
    assert payload == RUN
    assert len(seen) == 1
    assert str(seen[0].url) == URL  # the query string (the signature) is sent untouched
    assert "authorization" not in seen[0].headers
    resolved = event.with_payload(payload)
    assert (resolved.event_id, resolved.payload["status"]) == ("event_S1", "PROCESSED")


@pytest.mark.parametrize(
    ("event", "status", "body", "reason"),
    [
        (signed_url_event(), 403, b"AccessDenied", "answered 403"),
        (signed_url_event(), 200, b"<html>", "not a JSON object"),
        (signed_url_event(), 200, b"[1]", "not a JSON object"),
        (signed_url_event(resource_id="exr_other"), 200, json.dumps(RUN).encode(), "refused"),
        (signed_url_event(url="file:///etc/passwd"), 200, b"{}", "not http"),
        (
            WebhookEvent(event_id="event_i", event_type="x.y", payload=RUN),
            200,
            b"{}",
            "inline payload",
        ),
    ],
)
async def test_fetch_signed_payload_refusals_never_show_the_url(
    event: WebhookEvent, status: int, body: bytes, reason: str
) -> None:
    with pytest.raises(WebhookVerificationError, match=reason) as info:
        await fetch_signed_payload(event, transport=serving(status, body))
    assert "X-Amz-Signature" not in str(info.value)
    assert "f00dcafe" not in repr(info.value)


async def test_fetch_signed_payload_size_limit() -> None:
    with pytest.raises(WebhookVerificationError, match="larger than 10 bytes"):
        await fetch_signed_payload(
            signed_url_event(), transport=serving(200, json.dumps(RUN).encode()), max_bytes=10
        )


async def test_fetch_signed_payload_network_failure_is_a_transport_error() -> None:
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError(f"cannot reach {request.url}", request=request)

    with pytest.raises(TransportError, match="could not fetch") as info:
        await fetch_signed_payload(signed_url_event(), transport=httpx.MockTransport(refuse))
    assert "f00dcafe" not in str(info.value)
    assert info.value.__cause__ is None


async def test_default_transport_honours_proxy_environment(
    monkeypatch: pytest.MonkeyPatch, payload_server: PayloadServer
) -> None:
    """No transport given: the URL is fetched through HTTP_PROXY, like any httpx client."""
    url = "http://bucket.invalid/p/e.json?X-Amz-Signature=f00d"
    payload_server.routes[url] = (200, json.dumps(RUN).encode())  # a proxy sees absolute URLs
    monkeypatch.setenv("HTTP_PROXY", f"http://127.0.0.1:{payload_server.server_address[1]}")
    monkeypatch.delenv("NO_PROXY", raising=False)
    monkeypatch.delenv("no_proxy", raising=False)
    assert await fetch_signed_payload(signed_url_event(url=url)) == RUN
    assert payload_server.hits == [url]
    direct = f"http://127.0.0.1:{payload_server.server_address[1]}/direct.json?sig=1"
    payload_server.routes["/direct.json?sig=1"] = (200, json.dumps(RUN).encode())
    monkeypatch.setenv("NO_PROXY", "127.0.0.1")  # bypassed: fetched directly, relative path
    assert await fetch_signed_payload(signed_url_event(url=direct)) == RUN
    assert payload_server.hits == [url, "/direct.json?sig=1"]
