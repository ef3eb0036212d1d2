"""Webhook signature math: sign and verify Extend deliveries (pure, no I/O).

Extend signs every delivery with HMAC-SHA256 over ``"v0:{timestamp}:{raw body}"``, keyed by the
endpoint's signing secret as UTF-8 (the ``wss_`` prefix included), and sends the lowercase hex
digest in ``x-extend-request-signature`` and the unix seconds in ``x-extend-request-timestamp``
(docs/extend-api.md#webhook-signatures). The verdicts match the official SDK's ``Webhooks.verify``:
a delivery is fresh
when ``-60 <= int(now) - timestamp <= 300``. We are stricter in one place on purpose: the
timestamp must be plain decimal digits (the SDK also takes ``" 17"`` or ``"+17"``, which Extend
never sends), so a malformed header gets a clear reason instead of a signature mismatch.
"""

from __future__ import annotations

import hashlib
import hmac
import time
from collections.abc import Collection, Mapping
from typing import TypedDict

from extend_frames._errors import WebhookVerificationError

__all__ = [
    "API_VERSION_HEADER",
    "SIGNATURE_HEADER",
    "TIMESTAMP_HEADER",
    "Freshness",
    "header",
    "sign",
    "verify",
]

TIMESTAMP_HEADER = "x-extend-request-timestamp"
SIGNATURE_HEADER = "x-extend-request-signature"
API_VERSION_HEADER = "x-extend-api-version"

_HEX = frozenset("0123456789abcdef")
_DIGEST_HEX_LEN = 64  # SHA-256 as hex
_MAX_TIMESTAMP_DIGITS = 15  # far beyond any real unix time; keeps int() cheap on hostile input


def sign(body: bytes | str, secret: str, timestamp: int) -> str:
    """The ``x-extend-request-signature`` value Extend would send for ``body`` at ``timestamp``.

    Useful to test your own handler::

        >>> sign(b'{"eventId":"event_1"}', "wss_test", 1767225600)[:16]
        '39a7d46ccfd8f8f8'
    """
    raw = body.encode("utf-8") if isinstance(body, str) else body
    message = b"v0:" + str(int(timestamp)).encode("ascii") + b":" + raw
    return hmac.new(secret.encode("utf-8"), message, hashlib.sha256).hexdigest()


def header(headers: Mapping[str, str], name: str) -> str | None:
    """Case-insensitive header lookup; the first match wins; empty values count as missing.

    A list value (frameworks that keep repeated headers, e.g. ``{"x-...": ["17"]}``) gives its
    first element, as the SDK's verifier does; anything that is still not a string raises
    :class:`WebhookVerificationError` rather than failing later on a str method.
    """
    value: object = headers.get(name)
    if value is None:
        wanted = name.lower()
        value = next((v for k, v in headers.items() if k.lower() == wanted), None)
    if isinstance(value, list | tuple):
        value = value[0] if value else None
    if value is not None and not isinstance(value, str):
        raise WebhookVerificationError(
            f"malformed {name} header: expected a string, got {type(value).__name__}"
        )
    return value or None


class Freshness(TypedDict, total=False):
    """:func:`verify`'s replay-window keywords, for the functions that pass them on to it."""

    tolerance_past: int
    tolerance_future: int
    now: float | None


def verify(
    body: bytes | str,
    headers: Mapping[str, str],
    secret: str | Collection[str],
    *,
    tolerance_past: int = 300,
    tolerance_future: int = 60,
    now: float | None = None,
) -> None:
    """Check that ``body`` is a fresh delivery signed with ``secret``; raise if not.

    ``body`` must be the raw request bytes exactly as received (never re-serialised JSON).
    ``secret`` may be several secrets (rotation): any one of them signing is enough.
    ``tolerance_past=0`` turns the replay window off (no age or clock-skew check), as the SDK's
    ``max_age_seconds=0`` and the CLI do; the signature is still checked.
    Raises :class:`WebhookVerificationError` naming the reason; the secret is never in it.

        >>> import time
        >>> ts = int(time.time())
        >>> headers = {"X-Extend-Request-Timestamp": str(ts),
        ...            "X-Extend-Request-Signature": sign(b"{}", "wss_s", ts)}
        >>> verify(b"{}", headers, "wss_s")
    """
    secrets = [secret] if isinstance(secret, str) else list(secret)
    if not any(secrets):
        raise WebhookVerificationError(
            "no webhook signing secret is configured: pass the signingSecret (wss_...) that "
            "POST /webhook_endpoints returned when the endpoint was created"
        )
    raw_ts = header(headers, TIMESTAMP_HEADER)
    signature = header(headers, SIGNATURE_HEADER)
    if raw_ts is None:
        raise WebhookVerificationError(
            f"missing {TIMESTAMP_HEADER} header: the request was not sent by Extend "
            "(or a proxy dropped the header)"
        )
    if signature is None:
        raise WebhookVerificationError(
            f"missing {SIGNATURE_HEADER} header: the request was not sent by Extend "
            "(or a proxy dropped the header)"
        )
    timestamp = _parse_timestamp(raw_ts)
    if tolerance_past > 0:  # 0 switches the age check off, as the SDK's max_age_seconds=0 does
        _check_fresh(timestamp, now, tolerance_past, tolerance_future)
    if len(signature) != _DIGEST_HEX_LEN or not _HEX.issuperset(signature):
        raise WebhookVerificationError(
            f"malformed {SIGNATURE_HEADER} header: expected {_DIGEST_HEX_LEN} lowercase hex "
            f"characters, got {len(signature)} characters"
        )
    raw = body.encode("utf-8") if isinstance(body, str) else body
    message = b"v0:" + raw_ts.encode("ascii") + b":" + raw
    # Compare against every secret (no early exit) so timing does not reveal which one matched.
    matches = [
        hmac.compare_digest(
            hmac.new(s.encode("utf-8"), message, hashlib.sha256).hexdigest(), signature
        )
        for s in secrets
        if s
    ]
    if not any(matches):
        raise WebhookVerificationError(
            "bad webhook signature: the body was altered, re-serialised (verify the raw bytes), "
            "or signed with a different secret (was the endpoint's secret rotated?)"
        )


def _parse_timestamp(raw: str) -> int:
    if not (raw.isascii() and raw.isdigit() and len(raw) <= _MAX_TIMESTAMP_DIGITS):
        raise WebhookVerificationError(
            f"malformed {TIMESTAMP_HEADER} header: expected unix seconds as decimal digits"
        )
    return int(raw)


def _check_fresh(timestamp: int, now: float | None, past: int, future: int) -> None:
    # int(now), like the SDK's int(time.time()): the verdict at the window edges is identical.
    age = int(time.time() if now is None else now) - timestamp
    if age > past:
        raise WebhookVerificationError(
            f"stale webhook: signed {age} s ago, more than the {past} s allowed (a replay, "
            "or this machine's clock is wrong)"
        )
    if -age > future:
        raise WebhookVerificationError(
            f"webhook timestamp is {-age} s in the future, more than the {future} s of clock "
            "skew allowed: check this machine's clock"
        )
