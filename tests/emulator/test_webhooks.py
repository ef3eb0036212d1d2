"""Signed webhook deliveries, verified with the official SDK's verifier."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from extend_ai import Extend
from extend_ai.wrapper.errors import WebhookSignatureVerificationError

from extend_frames.emulator import Emulator, WebhookOptions, sign

from .conftest import INVOICE_SCHEMA, raw_client, sdk_client

# Extend's documented signature test vector, the one copy in the repository.
VECTOR = Path(__file__).parents[1] / "webhooks" / "examples" / "webhook_signature_test_vector.json"
ZERO_WAIT = WebhookOptions(retry_schedule=(0.0, 0.0), timeout=5.0)


class Receiver:
    """A loopback HTTP server that records deliveries and answers scripted statuses."""

    def __init__(self, statuses: list[int] | None = None) -> None:
        self.statuses = list(statuses or [])
        self.received: list[tuple[dict[str, str], bytes]] = []
        self.cond = threading.Condition()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["content-length"]))
                with receiver.cond:
                    code = receiver.statuses.pop(0) if receiver.statuses else 200
                    receiver.received.append(
                        ({k.lower(): v for k, v in self.headers.items()}, body)
                    )
                    receiver.cond.notify_all()
                self.send_response(code)
                self.send_header("content-length", "0")
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def wait(self, count: int, timeout: float = 10.0) -> list[tuple[dict[str, str], bytes]]:
        with self.cond:
            assert self.cond.wait_for(lambda: len(self.received) >= count, timeout)
            return list(self.received)

    def events(self) -> list[dict[str, Any]]:
        return [json.loads(body) for _, body in self.received]

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    r = Receiver()
    yield r
    r.close()


def _endpoint(sdk: Extend, url: str, events: list[str], **kw: Any) -> str:
    created = sdk.webhook_endpoints.create(
        url=url, name="t", enabled_events=events, api_version="2026-02-09", **kw
    )
    return created.signing_secret


def test_signature_test_vector() -> None:
    vector = json.loads(VECTOR.read_text())
    headers = vector["headers"]
    body = vector["raw_body"].encode()
    got = sign(vector["signing_secret"], headers["x-extend-request-timestamp"], body)
    assert got == vector["expected_signature_hex"]
    sdk = Extend(token="unused", base_url="http://127.0.0.1:9")
    event = sdk.webhooks.verify_and_parse(
        vector["raw_body"], headers, vector["signing_secret"], max_age_seconds=0
    )
    assert event.event_type == "batch_processor_run.processed"


def test_batch_and_run_events_verify_with_the_sdk(receiver: Receiver) -> None:
    with Emulator(webhooks=ZERO_WAIT) as emu:
        sdk = sdk_client(emu)
        events = ["batch_processor_run.processed", "extract_run.processed", "parse_run.processed"]
        secret = _endpoint(
            sdk,
            receiver.url,
            [*events, "batch_parse_run.processed"],
            advanced_options={"headers": {"X-Tenant": "acme"}},
        )
        ex = sdk.extractors.create(name="x", config={"schema": INVOICE_SCHEMA})
        inputs: Any = [{"file": {"text": f"t{i}"}, "metadata": {"row": i}} for i in range(2)]
        batch = sdk.extract_runs.create_batch(extractor={"id": ex.id}, inputs=inputs)
        pbatch = sdk.parse_runs.create_batch(inputs=[{"file": {"text": "p"}, "metadata": {"p": 1}}])
        assert emu.wait_idle()
        delivered = receiver.wait(5)
        parsed = []
        for headers, body in delivered:
            assert headers["x-extend-api-version"] == "2026-02-09"
            assert headers["x-tenant"] == "acme"
            assert headers["content-type"] == "application/json"
            parsed.append(sdk.webhooks.verify_and_parse(body, headers, secret))
        kinds = sorted(e.event_type for e in parsed)
        assert kinds == sorted(
            ["batch_processor_run.processed", "batch_parse_run.processed"]
            + ["extract_run.processed"] * 2
            + ["parse_run.processed"]
        )
        raw = {e["eventType"]: e for e in receiver.events()}
        assert raw["batch_processor_run.processed"]["payload"] == {
            **raw["batch_processor_run.processed"]["payload"],
            "object": "batch_run",
            "id": batch.id,
            "status": "PROCESSED",
            "runCount": 2,
        }
        assert raw["batch_parse_run.processed"]["payload"]["id"] == pbatch.id
        status_payload = raw["parse_run.processed"]["payload"]
        assert status_payload["object"] == "parse_run_status"
        assert set(status_payload) == {
            "object",
            "id",
            "status",
            "failureReason",
            "failureMessage",
            "metadata",
        }
        assert status_payload["metadata"] == {"p": 1}
        assert raw["extract_run.processed"]["payload"]["output"] is not None
        # a tampered body fails verification
        headers, body = delivered[0]
        with pytest.raises(WebhookSignatureVerificationError):
            sdk.webhooks.verify_and_parse(body + b" ", headers, secret)


def test_retries_until_2xx_then_gives_up() -> None:
    receiver = Receiver(statuses=[500, 503, 200, 500, 500, 500])
    try:
        with Emulator(webhooks=ZERO_WAIT) as emu, raw_client(emu) as c:
            _endpoint(sdk_client(emu), receiver.url, ["batch_parse_run.processed"])
            c.post("/parse_runs/batch", json={"inputs": [{"file": {"text": "a"}}]})
            assert emu.wait_idle()
            assert [e["attempt"] for e in emu.deliveries()] == [1, 2, 3]
            assert [e["delivered"] for e in emu.deliveries()] == [False, False, True]
            c.post("/parse_runs/batch", json={"inputs": [{"file": {"text": "b"}}]})
            assert emu.wait_idle()
            last = emu.deliveries()[3:]
            assert [e["status"] for e in last] == [500, 500, 500]  # 1 try + 2 retries
            assert emu.stats()["webhooks"]["given_up"] == 1
            ids = {e["eventId"] for e in receiver.events()}
            assert len(ids) == 2
    finally:
        receiver.close()


def test_duplicates_and_drops_are_seeded(receiver: Receiver) -> None:
    dup = WebhookOptions(retry_schedule=(), duplicate_rate=1.0)
    with Emulator(webhooks=dup) as emu, raw_client(emu) as c:
        _endpoint(sdk_client(emu), receiver.url, ["batch_parse_run.processed"])
        c.post("/parse_runs/batch", json={"inputs": [{"file": {"text": "a"}}]})
        assert emu.wait_idle()
        events = receiver.events()
        assert len(events) == 2
        assert events[0] == events[1]  # same eventId: receivers must dedupe
    drop = WebhookOptions(retry_schedule=(), drop_rate=1.0)
    with Emulator(webhooks=drop) as emu, raw_client(emu) as c:
        _endpoint(sdk_client(emu), receiver.url, ["batch_parse_run.processed"])
        c.post("/parse_runs/batch", json={"inputs": [{"file": {"text": "a"}}]})
        assert emu.wait_idle()
        assert len(receiver.received) == 2  # nothing new arrived
        assert emu.deliveries()[0]["error"] == "dropped by fault injection"


def test_reordering_delivers_everything(receiver: Receiver) -> None:
    opts = WebhookOptions(retry_schedule=(), reorder=True, seed=5)
    with Emulator(webhooks=opts) as emu, raw_client(emu) as c:
        _endpoint(sdk_client(emu), receiver.url, ["parse_run.processed"])
        inputs = [{"file": {"text": f"t{i}"}, "metadata": {"i": i}} for i in range(8)]
        c.post("/parse_runs/batch", json={"inputs": inputs})
        assert emu.wait_idle()
        rows = [e["payload"]["metadata"]["i"] for e in receiver.events()]
        assert sorted(rows) == list(range(8))


def test_signed_url_payloads(receiver: Receiver) -> None:
    with Emulator(webhooks=ZERO_WAIT) as emu:
        sdk = sdk_client(emu)
        secret = _endpoint(
            sdk,
            receiver.url,
            ["extract_run.processed", "batch_processor_run.processed"],
            advanced_options={"payload": {"format": "url", "urlThresholdBytes": 1000}},
        )
        ex = sdk.extractors.create(name="x", config={"schema": INVOICE_SCHEMA})
        batch = sdk.extract_runs.create_batch(
            extractor={"id": ex.id}, inputs=[{"file": {"text": "t"}, "metadata": {"row": 9}}]
        )
        assert emu.wait_idle()
        by_type = {}
        for headers, body in receiver.wait(2):
            event = sdk.webhooks.verify_and_parse(body, headers, secret, allow_signed_url=True)
            by_type[json.loads(body)["eventType"]] = event
        small = by_type["batch_processor_run.processed"]  # under the threshold: inline
        assert not sdk.webhooks.is_signed_url_event(small)
        assert small.payload.id == batch.id
        big = by_type["extract_run.processed"]
        assert sdk.webhooks.is_signed_url_event(big)
        assert big.payload.metadata == {"row": 9}
        assert big.payload.data.startswith(emu.url + "/_emulator/")
        full = sdk.webhooks.fetch_signed_payload_sync(big)  # parsed as a typed event
        assert full.event_type == "extract_run.processed"
        assert full.payload.id == big.payload.id
        assert full.payload.metadata == {"row": 9}
        assert full.payload.output is not None


def test_subscriptions_disabled_endpoints_and_unreachable_hosts(receiver: Receiver) -> None:
    with Emulator(webhooks=ZERO_WAIT) as emu, raw_client(emu) as c:
        sdk = sdk_client(emu)
        ex1 = sdk.extractors.create(name="one", config={"schema": INVOICE_SCHEMA})
        ex2 = sdk.extractors.create(name="two", config={"schema": INVOICE_SCHEMA})
        ep = sdk.webhook_endpoints.create(
            url=receiver.url, name="scoped", enabled_events=[], api_version="2026-02-09"
        )
        sdk.webhook_subscriptions.create(
            webhook_endpoint_id=ep.id,
            resource_type="extractor",
            resource_id=ex1.id,
            enabled_events=["extract_run.processed"],
        )
        off = sdk.webhook_endpoints.create(
            url=receiver.url,
            name="off",
            enabled_events=["extract_run.processed"],
            api_version="2026-02-09",
            status="disabled",
        )
        assert off.status == "disabled"
        far = sdk.webhook_endpoints.create(
            url="https://hooks.example.com/x",
            name="far",
            enabled_events=["extract_run.processed"],
            api_version="2026-02-09",
        )
        for ex in (ex1, ex2):
            c.post("/extract_runs", json={"extractor": {"id": ex.id}, "file": {"text": "t"}})
        assert emu.wait_idle()
        got = receiver.events()
        assert [e["payload"]["extractor"]["id"] for e in got] == [ex1.id]
        unreachable = [d for d in emu.deliveries() if d["endpointId"] == far.id]
        assert len(unreachable) == 2  # one attempt per event, never retried
        assert all(d["error"].startswith("unreachable") for d in unreachable)


def test_a_timed_out_delivery_is_retried() -> None:
    release = threading.Event()
    receiver = Receiver()
    first_handler = receiver.server.RequestHandlerClass

    class Stalling(first_handler):  # type: ignore[misc, valid-type]
        def do_POST(self) -> None:
            if not receiver.received:
                receiver.received.append(({}, b"stalled"))
                release.wait(60)  # hold the first delivery past the emulator's timeout
                return
            super().do_POST()

    receiver.server.RequestHandlerClass = Stalling
    # attempt 1 stalls past the timeout; attempt 2 must answer within it even on a loaded machine
    options = WebhookOptions(retry_schedule=(0.0,), timeout=2.0)
    try:
        with Emulator(webhooks=options) as emu, raw_client(emu) as c:
            _endpoint(sdk_client(emu), receiver.url, ["batch_parse_run.processed"])
            c.post("/parse_runs/batch", json={"inputs": [{"file": {"text": "a"}}]})
            assert emu.wait_idle()
            log = emu.deliveries()
            assert [(d["attempt"], d["delivered"]) for d in log] == [(1, False), (2, True)]
            assert log[0]["error"] in ("TimeoutError", "timeout")
    finally:
        release.set()
        receiver.close()
