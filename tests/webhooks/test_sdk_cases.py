"""The situations the official Python SDK's own webhook tests cover (its tests/wrapper/
test_webhooks.py: verify, verify_and_parse, signed-URL detection), re-written for
``extend_frames.webhooks``. Each case also asks the installed SDK for its verdict, so the two
verifiers cannot drift apart silently. Our verify raises where the SDK's returns False."""

from __future__ import annotations

import json
import types
from typing import Any

import pytest
from extend_ai.wrapper import webhooks as sdk_webhooks

from extend_frames import WebhookVerificationError
from extend_frames.webhooks import parse, sign, verify

SECRET = "wss_case_secret_7f3a"
NOW = 1_767_225_600
EVENT = {
    "eventId": "evt_case_1",
    "eventType": "batch_processor_run.processed",
    "payload": {"object": "batch_run", "id": "bpr_case", "status": "PROCESSED"},
}
BODY = json.dumps(EVENT)


def signed(body: str = BODY, *, ts: int = NOW, secret: str = SECRET) -> dict[str, Any]:
    return {
        "x-extend-request-timestamp": str(ts),
        "x-extend-request-signature": sign(body, secret, ts),
    }


def ours(body: str, headers: dict[str, Any], secret: str, **kw: Any) -> bool:
    try:
        verify(body, headers, secret, now=kw.pop("now", NOW), **kw)
    except WebhookVerificationError:
        return False
    return True


def sdks(
    monkeypatch: pytest.MonkeyPatch,
    body: str,
    headers: dict[str, Any],
    secret: str,
    *,
    max_age: int = 300,
    now: int = NOW,
) -> bool:
    monkeypatch.setattr(sdk_webhooks, "time", types.SimpleNamespace(time=lambda: now))
    return bool(sdk_webhooks.Webhooks().verify(body, headers, secret, max_age_seconds=max_age))


@pytest.mark.parametrize(
    ("name", "body", "headers", "secret", "accepted"),
    [
        ("valid signature", BODY, signed(), SECRET, True),
        (
            "wrong signature",
            BODY,
            {**signed(), "x-extend-request-signature": "0" * 64},
            SECRET,
            False,
        ),
        ("missing timestamp", BODY, {"x-extend-request-signature": "0" * 64}, SECRET, False),
        ("missing signature", BODY, {"x-extend-request-timestamp": str(NOW)}, SECRET, False),
        ("missing secret", BODY, signed(), "", False),
        ("tampered body", BODY.replace("PROCESSED", "FAILED"), signed(), SECRET, False),
        ("wrong secret", BODY, signed(secret="wss_someone_else"), SECRET, False),
        (
            "upper-case header names",
            BODY,
            {k.upper(): v for k, v in signed().items()},
            SECRET,
            True,
        ),
        ("list header values", BODY, {k: [v] for k, v in signed().items()}, SECRET, True),
    ],
)
def test_verdicts(
    monkeypatch: pytest.MonkeyPatch,
    name: str,
    body: str,
    headers: dict[str, Any],
    secret: str,
    accepted: bool,
) -> None:
    assert ours(body, headers, secret) is accepted, name
    assert sdks(monkeypatch, body, headers, secret) is accepted, name


@pytest.mark.parametrize(
    ("age", "max_age", "accepted"),
    [
        (301, 300, False),  # older than the window
        (299, 300, True),  # recent
        (600, 900, True),  # a custom, wider window
        (10_000, 0, True),  # 0 switches the age check off
        (-10_000, 0, True),  # ... and the clock-skew check with it, like the SDK
        (-61, 300, False),  # more than 60 s in the future
        (-30, 300, True),  # slight clock skew
    ],
)
def test_replay_window(
    monkeypatch: pytest.MonkeyPatch, age: int, max_age: int, accepted: bool
) -> None:
    headers = signed(ts=NOW - age)
    assert ours(BODY, headers, SECRET, tolerance_past=max_age) is accepted
    assert sdks(monkeypatch, BODY, headers, SECRET, max_age=max_age) is accepted


def test_zero_tolerance_still_checks_the_signature() -> None:
    old = signed(ts=NOW - 10_000)
    old["x-extend-request-signature"] = "f" * 64
    with pytest.raises(WebhookVerificationError, match="bad webhook signature"):
        verify(BODY, old, SECRET, tolerance_past=0, now=NOW)


@pytest.mark.parametrize("value", ["not-a-number", "12.5", ""])
def test_invalid_timestamp_format_is_refused(value: str) -> None:
    headers = {**signed(), "x-extend-request-timestamp": value}
    with pytest.raises(WebhookVerificationError):
        verify(BODY, headers, SECRET, now=NOW)


@pytest.mark.parametrize("value", [[], [None], 17, {"a": 1}])
def test_header_values_that_are_not_strings_raise_verification_errors(value: Any) -> None:
    """Never an AttributeError/TypeError from inside the verifier."""
    headers = {**signed(), "x-extend-request-timestamp": value}
    with pytest.raises(WebhookVerificationError):
        verify(BODY, headers, SECRET, now=NOW)


def test_invalid_json_is_refused_after_a_valid_signature() -> None:
    body = "{not json"
    with pytest.raises(WebhookVerificationError, match="not valid JSON"):
        parse(body, signed(body), SECRET, now=NOW)


def test_parse_returns_the_event() -> None:
    event = parse(BODY, signed(), SECRET, now=NOW)
    assert (event.event_id, event.event_type) == ("evt_case_1", "batch_processor_run.processed")
    assert (event.batch_id, event.batch_status, event.is_signed_url) == (
        "bpr_case",
        "PROCESSED",
        False,
    )


def test_signed_url_events_are_recognised() -> None:
    payload = {"object": "signed_data_url", "data": "https://example.invalid/p", "id": "exr_1"}
    body = json.dumps(
        {"eventId": "evt_2", "eventType": "extract_run.processed", "payload": payload}
    )
    event = parse(body, signed(body), SECRET, now=NOW)
    assert event.is_signed_url
    assert event.resource_id == "exr_1"


def test_unknown_event_types_still_parse() -> None:
    body = json.dumps(
        {"eventId": "evt_3", "eventType": "unknown.future.event", "payload": {"id": "x"}}
    )
    event = parse(body, signed(body), SECRET, now=NOW)
    assert event.event_type == "unknown.future.event"
    assert not event.is_batch_event
