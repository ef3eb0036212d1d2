"""Signed webhook deliveries (docs/extend-api.md#webhook-deliveries) from a background thread.

Each event goes to every enabled endpoint that lists its type, or that has a subscription on
the event's processor. The body is ``{"eventId","eventType","payload"}``; it is signed with
``hex(HMAC-SHA256(secret, "v0:{ts}:{body}"))``. Non-2xx answers and timeouts are retried on
``WebhookOptions.retry_schedule``; seeded options drop, duplicate or reorder deliveries. Only
loopback URLs are contacted; any other host fails the delivery without a connection.
"""

from __future__ import annotations

import hashlib
import heapq
import hmac
import http.client
import itertools
import json
import random
import secrets
import time
import urllib.parse
from dataclasses import dataclass, field
from typing import Any

from ._config import WebhookOptions
from ._daemon import Daemon
from ._faults import chance
from ._ingest import is_loopback
from ._state import Event, State

REORDER_WINDOW = 0.05  # seconds a delivery waits for company when reordering is on
REORDER_SPAN = 8  # how many due deliveries a reordering pick chooses among
SIGNED_URL_TTL = 3600.0


def sign(secret: str, timestamp: str, body: bytes) -> str:
    """Extend's signature: lowercase hex HMAC-SHA256 of ``v0:{ts}:{body}`` keyed by the secret."""
    message = b"v0:" + timestamp.encode() + b":" + body
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


@dataclass(slots=True)
class Delivery:
    endpoint_id: str
    url: str
    secret: str
    api_version: str
    headers: dict[str, str]
    event_id: str
    event_type: str
    body: bytes
    attempt: int = 0
    log: list[dict[str, Any]] = field(default_factory=list)


class Deliverer(Daemon[Delivery]):
    """The EventSink the state emits into; owns the delivery thread and the delivery log."""

    def __init__(self, state: State, options: WebhookOptions) -> None:
        super().__init__("extend-emulator-webhooks")
        self._state = state
        self._options = options
        self._queue: list[tuple[float, int, Delivery]] = []
        self._tie = itertools.count()
        self._index = itertools.count()
        self._rng = random.Random(options.seed)
        self._busy = 0
        self.log: list[dict[str, Any]] = []
        state.events = self

    def wait_idle(self, timeout: float | None = None) -> bool:
        with self._cond:
            return self._cond.wait_for(lambda: not self._queue and not self._busy, timeout)

    # -- event intake (called under the state lock) --------------------------------------------

    def emit(self, event: Event) -> None:
        state = self._state
        event_type, processor_id = event.type, event.processor_id
        targets = []
        for ep_id, ep in state.webhook_endpoints.items():
            if ep["status"] != "enabled":
                continue
            wanted = event_type in ep["enabledEvents"] or any(
                sub["webhookEndpointId"] == ep_id
                and sub["resourceId"] == processor_id
                and event_type in sub["enabledEvents"]
                for sub in state.webhook_subscriptions.values()
            )
            if wanted:
                targets.append(ep)
        if not targets:
            return
        event_id = state.worker_ids("event")
        for ep in targets:
            body = self._envelope(ep, event_id, event)
            advanced = ep.get("advancedOptions") or {}
            delivery = Delivery(
                endpoint_id=ep["id"],
                url=ep["url"],
                secret=state.webhook_secrets[ep["id"]],
                api_version=ep["apiVersion"],
                headers=dict(advanced.get("headers") or {}),
                event_id=event_id,
                event_type=event_type,
                body=body,
            )
            self._enqueue(delivery)

    def _envelope(self, ep: dict[str, Any], event_id: str, event: Event) -> bytes:
        payload = event.payload
        fmt = ((ep.get("advancedOptions") or {}).get("payload")) or {}
        if fmt.get("format") == "url":
            threshold = fmt.get("urlThresholdBytes")
            if threshold is None or len(payload) > threshold:
                payload = self._signed_url(payload, event.resource_id, event.metadata)
        head = json.dumps({"eventId": event_id, "eventType": event.type}, separators=(",", ":"))
        return head[:-1].encode() + b',"payload":' + payload + b"}"

    def _signed_url(self, payload: bytes, resource_id: str, metadata: Any) -> bytes:
        token = secrets.token_urlsafe(24)
        expires = time.time() + SIGNED_URL_TTL
        self._state.payloads[token] = (payload, expires)
        url = f"{self._state.config.public_url}/_emulator/webhook_payloads/{token}"
        body: dict[str, Any] = {"object": "signed_data_url", "data": url, "id": resource_id}
        if metadata is not None:
            body["metadata"] = metadata
        return json.dumps(body, separators=(",", ":")).encode()

    def _enqueue(self, delivery: Delivery) -> None:
        opts = self._options
        n = next(self._index)
        stats = self._state.stats
        if opts.drop_rate and chance(opts.seed, "webhook-drop", n) < opts.drop_rate:
            stats.webhooks["dropped"] += 1
            self.log.append(self._entry(delivery, None, "dropped by fault injection", False))
            return
        copies = 1
        if opts.duplicate_rate and chance(opts.seed, "webhook-dup", n) < opts.duplicate_rate:
            copies = 2
            stats.webhooks["duplicated"] += 1
        due = time.monotonic() + (REORDER_WINDOW if opts.reorder else 0.0)
        with self._cond:
            for _ in range(copies):
                heapq.heappush(self._queue, (due, next(self._tie), delivery))
            self._cond.notify_all()

    # -- delivery thread ----------------------------------------------------------------------

    def _next(self) -> Delivery | None:
        while not self._stopped:
            now = time.monotonic()
            if self._queue and self._queue[0][0] <= now:
                self._busy += 1
                if not self._options.reorder:
                    return heapq.heappop(self._queue)[2]
                # reorder locally: a seeded pick among the next few due deliveries
                due = [heapq.heappop(self._queue)]
                while self._queue and self._queue[0][0] <= now and len(due) < REORDER_SPAN:
                    due.append(heapq.heappop(self._queue))
                pick = due.pop(self._rng.randrange(len(due)))
                for item in due:
                    heapq.heappush(self._queue, item)
                return pick[2]
            if not self._queue:
                self._cond.notify_all()
            timeout = self._queue[0][0] - now if self._queue else None
            self._cond.wait(timeout)
        return None

    def _handle(self, delivery: Delivery) -> None:
        retry_in: float | None = None
        try:
            retry_in = self._attempt(delivery)
        finally:
            with self._cond:
                self._busy -= 1
                if retry_in is not None:
                    item = (time.monotonic() + retry_in, next(self._tie), delivery)
                    heapq.heappush(self._queue, item)
                self._cond.notify_all()

    def _attempt(self, d: Delivery) -> float | None:
        """POST once; the delay before the next attempt, or None when done (or given up)."""
        stats = self._state.stats
        d.attempt += 1
        status, error = self._post(d)
        ok = status is not None and 200 <= status < 300
        self.log.append(self._entry(d, status, error, ok))
        if ok:
            stats.webhooks["delivered"] += 1
            return None
        stats.webhooks["failed_attempts"] += 1
        schedule = self._options.retry_schedule
        if (error or "").startswith("unreachable") or d.attempt > len(schedule):
            stats.webhooks["given_up"] += 1
            return None
        return schedule[d.attempt - 1]

    def _post(self, d: Delivery) -> tuple[int | None, str | None]:
        parts = urllib.parse.urlsplit(d.url)
        if parts.scheme not in ("http", "https") or not is_loopback(parts.hostname):
            return None, "unreachable: the emulator only delivers to loopback URLs"
        timestamp = str(int(time.time()))
        headers = {
            **d.headers,
            "content-type": "application/json",
            "x-extend-request-timestamp": timestamp,
            "x-extend-request-signature": sign(d.secret, timestamp, d.body),
            "x-extend-api-version": d.api_version,
        }
        conn_cls = (
            http.client.HTTPSConnection if parts.scheme == "https" else http.client.HTTPConnection
        )
        conn = conn_cls(parts.hostname or "127.0.0.1", parts.port, timeout=self._options.timeout)
        target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        try:
            conn.request("POST", target, body=d.body, headers=headers)
            resp = conn.getresponse()
            resp.read()
            return resp.status, None
        except (OSError, http.client.HTTPException) as exc:
            return None, type(exc).__name__
        finally:
            conn.close()

    @staticmethod
    def _entry(d: Delivery, status: int | None, error: str | None, ok: bool) -> dict[str, Any]:
        return {
            "eventId": d.event_id,
            "eventType": d.event_type,
            "endpointId": d.endpoint_id,
            "attempt": d.attempt,
            "status": status,
            "error": error,
            "delivered": ok,
        }
