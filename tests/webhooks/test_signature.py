"""Signature verification: every verdict checked against the official SDK's verifier."""

from __future__ import annotations

import hashlib
import hmac
import json
import types
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from extend_ai.wrapper import webhooks as sdk_webhooks
from hypothesis import given, settings
from hypothesis import strategies as st

from extend_frames import WebhookVerificationError
from extend_frames.webhooks import parse, sign, verify

# A copy of extend-api/examples/webhook_signature_test_vector.json (Extend's documented scheme).
VECTOR = json.loads(
    (Path(__file__).parent / "examples" / "webhook_signature_test_vector.json").read_text()
)
SECRET = VECTOR["signing_secret"]
BODY = VECTOR["raw_body"].encode()
TS = int(VECTOR["headers"]["x-extend-request-timestamp"])
SIG = VECTOR["expected_signature_hex"]

SdkVerdict = Callable[[bytes, dict[str, str], str, float], bool]


@pytest.fixture
def sdk_accepts(monkeypatch: pytest.MonkeyPatch) -> SdkVerdict:
    """The official SDK's verdict, with its clock (it reads time.time()) pinned to ``now``."""

    def verdict(body: bytes, headers: dict[str, str], secret: str, now: float) -> bool:
        monkeypatch.setattr(sdk_webhooks, "time", types.SimpleNamespace(time=lambda: now))
        return sdk_webhooks.Webhooks().verify(body, headers, secret)

    return verdict


def ours_accepts(body: bytes, headers: dict[str, str], secret: str, now: float) -> bool:
    try:
        verify(body, headers, secret, now=now)
    except WebhookVerificationError:
        return False
    return True


def headers_for(ts: Any, signature: str | None) -> dict[str, str]:
    headers = {"content-type": "application/json", "x-extend-api-version": "2026-02-09"}
    if ts is not None:
        headers["x-extend-request-timestamp"] = str(ts)
    if signature is not None:
        headers["x-extend-request-signature"] = signature
    return headers


def test_test_vector_matches_sign_and_both_verifiers(sdk_accepts: SdkVerdict) -> None:
    assert sign(BODY, SECRET, TS) == SIG
    assert ours_accepts(BODY, VECTOR["headers"], SECRET, TS)
    assert sdk_accepts(BODY, VECTOR["headers"], SECRET, TS)
    event = parse(BODY, VECTOR["headers"], SECRET, now=TS)
    assert (event.event_id, event.batch_id, event.batch_status) == (
        "event_Q2fX7kLm9PzR1tYv3NwB8",
        "bpr_Xj8mK2pL9nR4vT7qY5wZ",
        "PROCESSED",
    )
    assert (event.api_version, event.timestamp) == ("2026-02-09", TS)


def _flip_one_byte(body: bytes) -> bytes:
    i = body.index(b"PROCESSED")
    return body[:i] + b"Q" + body[i + 1 :]


# (name, body, headers, secret, now, expected verdict, words the reason must contain)
CASES = [
    ("valid", BODY, headers_for(TS, SIG), SECRET, TS, True, ""),
    ("valid 300 s old", BODY, headers_for(TS, SIG), SECRET, TS + 300, True, ""),
    ("valid 60 s ahead", BODY, headers_for(TS, SIG), SECRET, TS - 60, True, ""),
    ("valid, fraction", BODY, headers_for(TS, SIG), SECRET, TS + 300.99, True, ""),
    (
        "header names in any case",
        BODY,
        {"X-Extend-Request-Timestamp": str(TS), "X-EXTEND-REQUEST-SIGNATURE": SIG},
        SECRET,
        TS,
        True,
        "",
    ),
    ("one body byte changed", _flip_one_byte(BODY), headers_for(TS, SIG), SECRET, TS, False, "bad"),
    ("wrong secret", BODY, headers_for(TS, SIG), "wss_other", TS, False, "bad webhook signature"),
    ("secret without wss_", BODY, headers_for(TS, SIG), SECRET[4:], TS, False, "bad"),
    ("301 s old", BODY, headers_for(TS, SIG), SECRET, TS + 301, False, "stale"),
    ("61 s in the future", BODY, headers_for(TS, SIG), SECRET, TS - 61, False, "future"),
    ("missing timestamp", BODY, headers_for(None, SIG), SECRET, TS, False, "missing"),
    ("missing signature", BODY, headers_for(TS, None), SECRET, TS, False, "missing"),
    ("empty signature", BODY, headers_for(TS, ""), SECRET, TS, False, "missing"),
    ("no headers at all", BODY, {}, SECRET, TS, False, "missing"),
    ("non-integer timestamp", BODY, headers_for("soon", SIG), SECRET, TS, False, "malformed"),
    ("decimal timestamp", BODY, headers_for(f"{TS}.0", SIG), SECRET, TS, False, "malformed"),
    ("signature too short", BODY, headers_for(TS, SIG[:-1]), SECRET, TS, False, "malformed"),
    ("signature too long", BODY, headers_for(TS, SIG + "00"), SECRET, TS, False, "malformed"),
    ("uppercase hex", BODY, headers_for(TS, SIG.upper()), SECRET, TS, False, "malformed"),
    ("prefixed signature", BODY, headers_for(TS, "v0=" + SIG), SECRET, TS, False, "malformed"),
    (
        "re-serialised with other whitespace",
        json.dumps(json.loads(BODY), indent=2).encode(),
        headers_for(TS, SIG),
        SECRET,
        TS,
        False,
        "re-serialised",
    ),
    (
        "re-serialised compactly",
        json.dumps(json.loads(BODY), separators=(", ", ": ")).encode(),
        headers_for(TS, SIG),
        SECRET,
        TS,
        False,
        "bad",
    ),
]


@pytest.mark.parametrize(
    ("body", "headers", "secret", "now", "expected", "reason"),
    [c[1:] for c in CASES],
    ids=[c[0] for c in CASES],
)
def test_verdict_matches_the_sdk(
    sdk_accepts: SdkVerdict,
    body: bytes,
    headers: dict[str, str],
    secret: str,
    now: float,
    expected: bool,
    reason: str,
) -> None:
    assert sdk_accepts(body, headers, secret, now) is expected
    if expected:
        verify(body, headers, secret, now=now)
        return
    with pytest.raises(WebhookVerificationError, match=reason) as info:
        verify(body, headers, secret, now=now)
    assert secret not in str(info.value)
    assert secret not in repr(info.value)


def test_str_body_is_verified_like_its_utf8_bytes() -> None:
    body = '{"eventId":"event_é","eventType":"x","payload":{}}'
    verify(body, headers_for(TS, sign(body.encode(), SECRET, TS)), SECRET, now=TS)


def test_rotation_any_of_several_secrets_may_sign() -> None:
    headers = headers_for(TS, SIG)
    verify(BODY, headers, ["wss_new", SECRET], now=TS)
    with pytest.raises(WebhookVerificationError, match="bad webhook signature"):
        verify(BODY, headers, ["wss_new", "wss_newer"], now=TS)


def test_no_secret_is_a_configuration_error() -> None:
    with pytest.raises(WebhookVerificationError, match="no webhook signing secret"):
        verify(BODY, headers_for(TS, SIG), "", now=TS)
    with pytest.raises(WebhookVerificationError, match="no webhook signing secret"):
        verify(BODY, headers_for(TS, SIG), [], now=TS)


def test_custom_tolerances() -> None:
    headers = headers_for(TS, SIG)
    verify(BODY, headers, SECRET, tolerance_past=3600, now=TS + 3600)
    with pytest.raises(WebhookVerificationError, match="stale"):
        verify(BODY, headers, SECRET, tolerance_past=10, now=TS + 11)
    with pytest.raises(WebhookVerificationError, match="future"):
        verify(BODY, headers, SECRET, tolerance_future=0, now=TS - 1)


def test_sdk_is_laxer_on_timestamp_syntax_and_we_refuse_on_purpose(
    sdk_accepts: SdkVerdict,
) -> None:
    # Pinned divergence: Python's int() takes " 17" or "+17"; Extend sends plain digits only.
    raw = f" {TS}"
    # Signed over the header exactly as sent, so only the syntax check can refuse it.
    msg = b"v0:" + raw.encode() + b":" + BODY
    headers = headers_for(raw, hmac.new(SECRET.encode(), msg, hashlib.sha256).hexdigest())
    assert sdk_accepts(BODY, headers, SECRET, TS)
    assert not ours_accepts(BODY, headers, SECRET, TS)


TAMPERS = ["none", "body", "secret", "timestamp", "signature"]


@settings(max_examples=150, deadline=None)
@given(
    body=st.text(max_size=300),
    secret=st.text(min_size=1, max_size=40).map(lambda s: "wss_" + s),
    ts=st.integers(min_value=0, max_value=4_000_000_000),
    skew=st.integers(min_value=-400, max_value=400),
    tamper=st.sampled_from(TAMPERS),
)
def test_property_agrees_with_the_sdk(
    body: str, secret: str, ts: int, skew: int, tamper: str
) -> None:
    """What we sign the SDK accepts, and our verdict equals the SDK's under any tampering."""
    raw = body.encode()
    signature = sign(raw, secret, ts)
    if tamper == "body":
        raw += b" "
    elif tamper == "secret":
        secret += "x"
    elif tamper == "timestamp":
        ts += 1
    elif tamper == "signature":
        signature = signature[::-1]
    headers = headers_for(ts, signature)
    now = ts + skew
    original = sdk_webhooks.time
    try:
        sdk_webhooks.time = types.SimpleNamespace(time=lambda: now)  # type: ignore[assignment]
        sdk = sdk_webhooks.Webhooks().verify(raw, headers, secret)
    finally:
        sdk_webhooks.time = original
    assert ours_accepts(raw, headers, secret, now) is sdk
    if tamper == "none" and -60 <= skew <= 300:
        assert sdk  # what we sign, the SDK accepts
