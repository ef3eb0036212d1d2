"""The HTTP client's telemetry: route templates, the pacer-rate gauge, transport errors."""

from __future__ import annotations

import gc

import httpx
import pytest
from opentelemetry.trace import SpanKind

import extend_frames as xf
from extend_frames.api import RetryPolicy, VirtualClock
from extend_frames.api._instrument import route_template
from tests._otel import Telemetry
from tests._otel import otel as otel  # the fixture


@pytest.mark.parametrize(
    ("path", "template"),
    [
        ("/extract_runs/exr_1", "/extract_runs/{id}"),
        ("/extract_runs/batch", "/extract_runs/batch"),
        ("/batch_runs/bpar_x", "/batch_runs/{id}"),
        ("/files/upload", "/files/upload"),
        ("/classifiers/cl_1/versions/latest", "/classifiers/{id}/versions/{version}"),
        ("/split_runs/splr_1/cancel", "/split_runs/{id}/cancel"),
        ("/webhook_endpoints/wh_1", "/webhook_endpoints/{id}"),
        ("/unknown/https%3A%2F%2Fx%3Fsig", "/{id}/{id}"),  # anything unknown is an id
    ],
)
def test_route_templates_replace_every_id(path: str, template: str) -> None:
    assert route_template(path) == template


def _client(handler: httpx.MockTransport) -> xf.Client:
    return xf.Client(
        api_key="sk_test",
        base_url="http://api.test:8080",
        transport=handler,
        retry=RetryPolicy(clock=VirtualClock()),
    )


async def test_the_pacer_rate_gauge_follows_each_live_client(otel: Telemetry) -> None:
    ok = httpx.MockTransport(lambda request: httpx.Response(200, json={"id": "x"}))
    client = _client(ok)
    client._pacers[next(iter(client._pacers))].on_rate_limited(None)  # a cut: rate below 10
    # Other clients of this worker (earlier tests' fixtures) may still be alive and report
    # too: this client is the one whose GET rate was cut below 10.
    mine = [
        (a["extend.rate_limit.category"], p.value)
        for a, p in otel.points().get("extend_frames.pacer.rate", [])
        if a["extend.rate_limit.category"] == "get" and p.value < 10.0
    ]
    assert mine == [("get", client._pacers[next(iter(client._pacers))].rate)]
    rates = {c.value: p.rate for c, p in client._pacers.items()}
    assert rates["get"] < 10.0 == rates["write"] == rates["run"]
    del client
    gc.collect()
    left = otel.points().get("extend_frames.pacer.rate", [])
    assert [p.value for _, p in left if p.value < 10.0] == []  # a dead client reports nothing


async def test_a_transport_error_is_a_failed_client_span(otel: Telemetry) -> None:
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("refused", request=request)

    client = _client(httpx.MockTransport(refuse))
    with pytest.raises(xf.TransportError):
        await client.get_batch("bpr_1")
    spans = [s for s in otel.spans() if s.kind is SpanKind.CLIENT]
    assert len(spans) == client.retry.attempts
    assert {s.name for s in spans} == {"GET /batch_runs/{id}"}
    assert all((s.attributes or {})["error.type"] == "ConnectError" for s in spans)
    assert [(s.attributes or {}).get("http.request.resend_count") for s in spans][:3] == [
        None,
        1,
        2,
    ]
    assert spans[0].attributes is not None
    assert spans[0].attributes["server.port"] == 8080
    counted = otel.points()["extend_frames.requests"]
    assert sum(p.value for a, p in counted if a["error.type"] == "ConnectError") == len(spans)
