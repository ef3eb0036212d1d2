"""No API key or presigned URL in logs, exception texts or reprs, even on failing calls."""

from __future__ import annotations

import logging
import traceback
from collections.abc import Callable

import httpx
import pytest

from extend_frames._errors import ExtendError
from extend_frames.api import Client, RetryBudget, RetryPolicy, VirtualClock

from .conftest import API_KEY

MakeClient = Callable[..., Client]
PRESIGNED = "https://bucket.s3.amazonaws.com/out.json?X-Amz-Signature=deadbeef&X-Amz-Expires=900"


def _echo_secrets(status: int) -> Callable[[httpx.Request], httpx.Response]:
    """A hostile server: its error bodies echo the Authorization header and a presigned URL."""

    def handler(request: httpx.Request) -> httpx.Response:
        auth = request.headers["authorization"]
        return httpx.Response(
            status,
            text=f"denied for {auth} (key {API_KEY}); see {PRESIGNED}",
            headers={"x-extend-request-id": "req_1"},
        )

    return handler


def _raise(exc: Exception) -> Callable[[httpx.Request], httpx.Response]:
    def handler(request: httpx.Request) -> httpx.Response:
        raise exc

    return handler


@pytest.mark.parametrize(
    "handler",
    [
        _echo_secrets(401),
        _echo_secrets(500),
        _echo_secrets(429),
        _raise(httpx.ReadTimeout(f"timed out reading {PRESIGNED} with {API_KEY}")),
        _raise(httpx.ConnectError(f"refused: Bearer {API_KEY}")),
    ],
    ids=["401", "500", "429", "read-timeout", "connect-error"],
)
async def test_failing_calls_leak_no_secret(
    make_client: MakeClient,
    caplog: pytest.LogCaptureFixture,
    handler: Callable[[httpx.Request], httpx.Response],
) -> None:
    caplog.set_level(logging.DEBUG, logger="extend_frames")
    policy = RetryPolicy(attempts=3, clock=VirtualClock(), budget=RetryBudget())
    client = make_client(handler, retry=policy)
    texts = [repr(client), str(client)]
    calls = [
        client.get_batch("bpr_1"),
        client.get_run_bytes("extract", "exr_1"),
        client.create_batch("extract", inputs=[{"file": {"id": "file_1"}}], processor={"id": "e"}),
        client.upload_file(b"data", name="a.pdf"),
    ]
    for call in calls:
        with pytest.raises(ExtendError) as info:
            await call
        err = info.value
        texts += [str(err), repr(err), "".join(traceback.format_exception(err))]
    texts.append(caplog.text)
    assert caplog.records, "the failing calls should have been logged"
    blob = "\n".join(texts)
    assert API_KEY not in blob
    assert "X-Amz-Signature" not in blob
    assert "deadbeef" not in blob


def test_repr_masks_the_key() -> None:
    client = Client(api_key=API_KEY, base_url="http://127.0.0.1:9")
    assert API_KEY not in repr(client)
    assert "api_key='***'" in repr(client)
    assert "api_key=None" in repr(Client(api_key="", base_url="http://127.0.0.1:9"))
