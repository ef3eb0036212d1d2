"""Webhook events: the verified, decoded form of a delivery, and signed-URL payload fetching.

A delivery body is ``{"eventId", "eventType", "payload"}`` (docs/extend-api.md#webhook-deliveries).
Batch events
(``batch_processor_run.*``, ``batch_parse_run.*``) carry a BatchRun payload, which is what wakes
a waiting job. Large payloads may arrive as ``{"object": "signed_data_url", "data": url, ...}``:
the envelope (URL included) is signed, and GETting the URL, without auth, gives the real payload.
"""

from __future__ import annotations

import dataclasses
import json
import urllib.request
from collections.abc import Collection, Mapping
from typing import Any

import httpx
from typing_extensions import Unpack

from extend_frames._errors import TransportError, WebhookVerificationError
from extend_frames._operations import OPERATIONS
from extend_frames.webhooks._signature import (
    API_VERSION_HEADER,
    TIMESTAMP_HEADER,
    Freshness,
    header,
    verify,
)

__all__ = ["BATCH_EVENT_PREFIXES", "WebhookEvent", "decode", "fetch_signed_payload", "parse"]

#: ``batch_processor_run.`` and ``batch_parse_run.``: the events that carry a BatchRun.
BATCH_EVENT_PREFIXES = tuple(
    dict.fromkeys(s.batch_events[0].partition(".")[0] + "." for s in OPERATIONS.values())
)
SIGNED_DATA_URL = "signed_data_url"
_DEFAULT_FETCH_BYTES = 256 * 2**20


@dataclasses.dataclass(frozen=True, slots=True)
class WebhookEvent:
    """One verified Extend webhook delivery.

    ``payload`` is the event's object as a dict (a BatchRun, an ExtractRun, ... or, for large
    payloads, a ``signed_data_url`` stub: see :func:`fetch_signed_payload`). ``timestamp`` is the
    signed unix time; ``api_version`` the endpoint's pinned version (None if not sent).
    The repr never shows the payload, which may hold a presigned URL.
    """

    event_id: str
    event_type: str
    payload: dict[str, Any] = dataclasses.field(repr=False)
    api_version: str | None = None
    timestamp: int | None = None

    @property
    def is_batch_event(self) -> bool:
        """True for ``batch_processor_run.*`` / ``batch_parse_run.*``: events that end a wait."""
        return self.event_type.startswith(BATCH_EVENT_PREFIXES)

    @property
    def is_signed_url(self) -> bool:
        """True when the payload is a signed-URL stub that must be fetched."""
        return self.payload.get("object") == SIGNED_DATA_URL and isinstance(
            self.payload.get("data"), str
        )

    @property
    def resource_id(self) -> str | None:
        """The id of the object the event is about (``bpr_...``, ``exr_...``), if any."""
        value = self.payload.get("id")
        return value if isinstance(value, str) else None

    @property
    def batch_id(self) -> str | None:
        """The batch id of a batch event, else None."""
        return self.resource_id if self.is_batch_event else None

    @property
    def batch_status(self) -> str | None:
        """The BatchRun status of an inline batch event (``PROCESSED``...), else None."""
        status = self.payload.get("status")
        return status if self.is_batch_event and isinstance(status, str) else None

    def with_payload(self, payload: dict[str, Any]) -> WebhookEvent:
        """A copy carrying ``payload`` (the object fetched from a signed URL)."""
        return dataclasses.replace(self, payload=payload)


def decode(body: bytes | str, headers: Mapping[str, str]) -> WebhookEvent:
    """Decode an already verified delivery; raise WebhookVerificationError if it is not an event."""
    try:
        data = json.loads(body)
    except (ValueError, UnicodeDecodeError) as exc:
        raise WebhookVerificationError(
            f"webhook body is not valid JSON ({type(exc).__name__}); nothing was processed"
        ) from None
    if not isinstance(data, dict):
        raise WebhookVerificationError("webhook body is not a JSON object with eventId/eventType")
    event_id, event_type, payload = data.get("eventId"), data.get("eventType"), data.get("payload")
    if not (isinstance(event_id, str) and event_id and isinstance(event_type, str)):
        raise WebhookVerificationError("webhook body lacks a string eventId and eventType")
    if not isinstance(payload, dict):
        raise WebhookVerificationError(f"webhook event {event_id} has no payload object")
    raw_ts = header(headers, TIMESTAMP_HEADER)
    return WebhookEvent(
        event_id=event_id,
        event_type=event_type,
        payload=payload,
        api_version=header(headers, API_VERSION_HEADER),
        timestamp=int(raw_ts) if raw_ts is not None and raw_ts.isdigit() else None,
    )


def parse(
    body: bytes | str,
    headers: Mapping[str, str],
    secret: str | Collection[str],
    **freshness: Unpack[Freshness],
) -> WebhookEvent:
    """Verify a delivery (see :func:`verify`, which takes the same replay-window keywords) and
    decode it into a :class:`WebhookEvent`.

    >>> event = parse(request_body, request_headers, "wss_...")   # doctest: +SKIP
    >>> event.is_batch_event, event.batch_id, event.batch_status  # doctest: +SKIP
    (True, 'bpr_...', 'PROCESSED')
    """
    verify(body, headers, secret, **freshness)
    return decode(body, headers)


async def fetch_signed_payload(
    event: WebhookEvent,
    *,
    transport: httpx.AsyncBaseTransport | None = None,
    timeout: float = 10.0,  # noqa: ASYNC109 - the HTTP request timeout handed to httpx
    max_bytes: int = _DEFAULT_FETCH_BYTES,
) -> dict[str, Any]:
    """GET the payload object behind a signed-URL event (no auth; the URL is the credential).

    Proxies come from the environment (HTTPS_PROXY, NO_PROXY), as for httpx clients.

    Checks that the fetched object is a JSON object about the same resource id as the stub.
    Only http(s) URLs are followed. Errors name the event, never the URL (it is a credential):
    WebhookVerificationError for a refused or wrong payload (the URL expires after an hour; ask
    Extend to redeliver), TransportError when no response could be obtained.

        >>> if event.is_signed_url:                                       # doctest: +SKIP
        ...     event = event.with_payload(await fetch_signed_payload(event))
    """
    if not event.is_signed_url:
        raise WebhookVerificationError(
            f"webhook event {event.event_id} has an inline payload; there is nothing to fetch"
        )
    url = event.payload["data"]
    scheme = url.split(":", 1)[0].lower()
    if scheme not in ("http", "https"):
        raise WebhookVerificationError(
            f"webhook event {event.event_id}: the signed payload URL is not http(s); refused"
        )
    # Straight to the transport, not through an httpx.AsyncClient: the client logs every
    # request URL at INFO, and this URL is a credential.
    owned = transport is None
    sender = transport if transport is not None else _environment_transport(url)
    request = httpx.Request("GET", url, extensions={"timeout": httpx.Timeout(timeout).as_dict()})
    try:
        response = await sender.handle_async_request(request)
        try:
            if response.status_code != 200:
                raise WebhookVerificationError(
                    f"webhook event {event.event_id}: GET of the signed payload URL answered "
                    f"{response.status_code}; the URL expires after 1 hour, ask Extend to "
                    "redeliver the event"
                )
            stream = response.stream
            if not isinstance(stream, httpx.AsyncByteStream):  # pragma: no cover - async only
                raise TypeError("an async transport returned a sync stream")
            body = bytearray()  # raw bytes: no Accept-Encoding was sent, so none is applied
            async for chunk in stream:
                body += chunk
                if len(body) > max_bytes:
                    raise WebhookVerificationError(
                        f"webhook event {event.event_id}: the signed payload is larger than "
                        f"{max_bytes} bytes; refused"
                    )
        finally:
            await response.aclose()
    except httpx.HTTPError as exc:
        raise TransportError(
            f"webhook event {event.event_id}: could not fetch the signed payload "
            f"({type(exc).__name__}); retry, or ask Extend to redeliver the event"
        ) from None
    finally:
        if owned:
            await sender.aclose()
    try:
        payload = json.loads(bytes(body))
    except (ValueError, UnicodeDecodeError):
        payload = None
    if not isinstance(payload, dict):
        raise WebhookVerificationError(
            f"webhook event {event.event_id}: the signed payload is not a JSON object"
        )
    expected = event.resource_id
    if expected is not None and payload.get("id") != expected:
        raise WebhookVerificationError(
            f"webhook event {event.event_id}: the signed payload is about "
            f"{payload.get('id')!r}, not {expected!r}; refused"
        )
    return payload


def _environment_transport(url: str) -> httpx.AsyncHTTPTransport:
    """A transport honouring HTTP(S)_PROXY / NO_PROXY, as an httpx.AsyncClient would."""
    target = httpx.URL(url)
    proxies = urllib.request.getproxies()
    proxy = proxies.get(target.scheme) or proxies.get("all")
    if proxy and not urllib.request.proxy_bypass(target.host):
        return httpx.AsyncHTTPTransport(proxy=proxy)
    return httpx.AsyncHTTPTransport()
