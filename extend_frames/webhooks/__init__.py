"""The webhooks layer: verify Extend deliveries, receive them, and wake the jobs waiting on them.

- :func:`verify` / :func:`parse`: pure signature checks (HMAC-SHA256, replay window), matching
  the official SDK's verdicts; :func:`sign` produces the header a delivery would carry.
- :class:`WebhookHub`: thread-safe; the receiver publishes, jobs ``await hub.wait(batch_id)``.
- :class:`WebhookReceiver`: the HTTP side (handler, plain ASGI app, or its own uvicorn thread).

This layer imports only ``extend_frames._errors``, httpx and the standard library (uvicorn
lazily, from the ``webhooks`` extra).
"""

from __future__ import annotations

from extend_frames.webhooks._events import WebhookEvent, decode, fetch_signed_payload, parse
from extend_frames.webhooks._hub import TERMINAL_BATCH_STATUSES, WebhookHub, WebhookStats
from extend_frames.webhooks._receiver import WebhookReceiver
from extend_frames.webhooks._signature import (
    API_VERSION_HEADER,
    SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
    sign,
    verify,
)

__all__ = [
    "API_VERSION_HEADER",
    "SIGNATURE_HEADER",
    "TERMINAL_BATCH_STATUSES",
    "TIMESTAMP_HEADER",
    "WebhookEvent",
    "WebhookHub",
    "WebhookReceiver",
    "WebhookStats",
    "decode",
    "fetch_signed_payload",
    "parse",
    "sign",
    "verify",
]
