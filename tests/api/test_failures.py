"""Error bodies of every shape parse without raising; redaction removes what must not leak."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from extend_frames.api import parse_retry_after
from extend_frames.api._failures import ErrorBody, parse_error_body, redact


def test_flat_body() -> None:
    body = b'{"code":"INVALID_REQUEST","message":"bad","retryable":false,"requestId":"req_1"}'
    assert parse_error_body(body) == ErrorBody("INVALID_REQUEST", "bad", False, "req_1")


def test_wrapped_body_keeps_an_outer_request_id() -> None:
    body = b'{"error":{"code":"NOT_FOUND","message":"gone"},"requestId":"req_9"}'
    assert parse_error_body(body) == ErrorBody("NOT_FOUND", "gone", None, "req_9")


def test_string_error_and_raw_text() -> None:
    assert parse_error_body(b'{"error":"quota"}').message == "quota"
    assert parse_error_body(b"Bad Gateway").message == "Bad Gateway"
    assert parse_error_body(b"").message is None
    long = parse_error_body(b"x" * 5000).message
    assert long is not None
    assert len(long) <= 501


def test_wrong_types_are_ignored() -> None:
    assert parse_error_body(b'{"code":1,"message":"m","retryable":"yes"}') == ErrorBody(
        None, "m", None, None
    )


def test_redact() -> None:
    text = "key sk_live_1 Bearer sk_live_1 at https://s3.test/o.json?X-Amz-Signature=ab&x=1 ok"
    out = redact(text, ("sk_live_1",))
    assert "sk_live_1" not in out
    assert "X-Amz-Signature" not in out
    assert "https://s3.test/o.json?***" in out
    assert out.endswith(" ok")


@given(st.binary(max_size=300))
def test_any_body_parses(content: bytes) -> None:
    body = parse_error_body(content)
    assert body.message is None or isinstance(body.message, str)


@given(st.text(max_size=60))
def test_any_retry_after_is_none_or_bounded(value: str) -> None:
    seconds = parse_retry_after(value, cap=60.0)
    assert seconds is None or 0.0 <= seconds <= 60.0
