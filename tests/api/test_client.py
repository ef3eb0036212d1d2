"""Client behaviour over httpx.MockTransport: requests sent, retries, typed errors."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from extend_frames._errors import (
    APIError,
    AuthenticationError,
    ExtendError,
    InputError,
    InvalidRequestError,
    NotFoundError,
    OutcomeUnknownError,
    PermissionDeniedError,
    RateLimitedError,
    ServerError,
    TransportError,
    UsageBlockedError,
)
from extend_frames.api import BatchRun, Client, RetryBudget, RetryPolicy, Timeouts, VirtualClock

from .conftest import API_KEY, BATCH, error

MakeClient = Callable[..., Client]


class Recorder:
    """A MockTransport handler that answers from a script and records every request."""

    def __init__(self, *answers: httpx.Response | Exception, clock: VirtualClock | None = None):
        self.answers = list(answers)
        self.requests: list[httpx.Request] = []
        self.times: list[float] = []
        self.clock = clock

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        if self.clock is not None:
            self.times.append(self.clock.now())
        answer = self.answers.pop(0) if len(self.answers) > 1 else self.answers[0]
        if isinstance(answer, Exception):
            raise answer
        return answer


def ok_batch() -> httpx.Response:
    return httpx.Response(200, json=BATCH)


EXTRACT_INPUTS = [{"file": {"url": "https://x.test/a.pdf"}, "metadata": {"row": 1}}]


# -- configuration and headers ---------------------------------------------------------------


async def test_sends_auth_version_and_workspace_headers(make_client: MakeClient) -> None:
    rec = Recorder(ok_batch())
    client = make_client(rec, workspace_id="ws_123")
    batch = await client.get_batch("bpr_7kQm2vXz9LpR4tYw1NcB3")
    assert batch == BatchRun(
        id="bpr_7kQm2vXz9LpR4tYw1NcB3",
        status="PENDING",
        run_count=1,
        created_at=batch.created_at,
    )
    assert batch.created_at.isoformat() == "2026-03-02T10:15:00+00:00"
    assert not batch.is_terminal
    headers = rec.requests[0].headers
    assert headers["authorization"] == f"Bearer {API_KEY}"
    assert headers["x-extend-api-version"] == "2026-02-09"
    assert headers["x-extend-workspace-id"] == "ws_123"
    assert rec.requests[0].url.path == "/batch_runs/bpr_7kQm2vXz9LpR4tYw1NcB3"


async def test_no_workspace_header_unless_configured(make_client: MakeClient) -> None:
    rec = Recorder(ok_batch())
    await make_client(rec, api_version="2025-04-21").get_batch("bpr_1")
    assert "x-extend-workspace-id" not in rec.requests[0].headers
    assert rec.requests[0].headers["x-extend-api-version"] == "2025-04-21"


@pytest.mark.parametrize("status", ["PROCESSED", "FAILED", "CANCELLED", "SOMETHING_NEW"])
def test_batch_terminal_statuses(status: str) -> None:
    batch = BatchRun.from_json({**BATCH, "status": status})
    assert batch.is_terminal


async def test_missing_key_names_the_env_var(
    make_client: MakeClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("EXTEND_API_KEY", raising=False)
    rec = Recorder(ok_batch())
    client = make_client(rec, api_key=None)
    with pytest.raises(AuthenticationError, match="EXTEND_API_KEY"):
        await client.get_batch("bpr_1")
    assert rec.requests == []


def test_environment_and_regions(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("EXTEND_API_KEY", "sk_env")
    monkeypatch.setenv("EXTEND_BASE_URL", "http://127.0.0.1:8765/")
    client = Client()
    assert client.base_url == "http://127.0.0.1:8765"
    assert client._headers()["Authorization"] == "Bearer sk_env"
    assert Client(region="eu1").base_url == "https://api.eu1.extend.ai"
    assert Client(region="us2").base_url == "https://api.us2.extend.app"
    monkeypatch.delenv("EXTEND_BASE_URL")
    assert Client().base_url == "https://api.extend.ai"
    with pytest.raises(InputError):
        Client(base_url="http://127.0.0.1:1", region="us")
    with pytest.raises(InputError):
        Client(region="mars")
    with pytest.raises(InputError):
        Client(base_url="ftp://example.test")


def test_rate_limit_presets_and_pool_size() -> None:
    assert Client(api_key="k").rate_limits.get == 10.0  # default: PAYG
    enterprise = Client(api_key="k", rate_limits="enterprise")
    assert (enterprise.rate_limits.run, enterprise.rate_limits.write) == (75.0, 75.0)
    assert Client(api_key="k", rate_limits="payg").max_connections < enterprise.max_connections
    assert enterprise.max_connections <= 256
    with pytest.raises(InputError):
        Client(api_key="k", rate_limits="free")


# -- request shapes ---------------------------------------------------------------------------


async def test_create_extract_batch_body(make_client: MakeClient) -> None:
    rec = Recorder(ok_batch())
    client = make_client(rec)
    processor = {"id": "ex_1", "version": "2.0", "overrideConfig": {"extractionRules": "x"}}
    batch = await client.create_batch(
        "extract", inputs=EXTRACT_INPUTS, processor=processor, priority=10
    )
    assert batch.id == BATCH["id"]
    request = rec.requests[0]
    assert (request.method, request.url.path) == ("POST", "/extract_runs/batch")
    assert json.loads(request.content) == {
        "extractor": processor,
        "inputs": EXTRACT_INPUTS,
        "priority": 10,
    }


async def test_create_parse_batch_body(make_client: MakeClient) -> None:
    rec = Recorder(httpx.Response(200, json={**BATCH, "id": "bpar_1"}))
    batch = await make_client(rec).create_batch(
        "parse", inputs=[{"file": {"text": "hi"}}], config={"target": "markdown"}
    )
    assert batch.id == "bpar_1"
    assert json.loads(rec.requests[0].content) == {
        "inputs": [{"file": {"text": "hi"}}],
        "config": {"target": "markdown"},
    }


@pytest.mark.parametrize(
    ("operation", "kwargs"),
    [
        ("extract", {"inputs": []}),
        ("extract", {"inputs": EXTRACT_INPUTS * 1001}),
        ("extract", {"inputs": EXTRACT_INPUTS}),  # no processor
        ("classify", {"inputs": EXTRACT_INPUTS, "processor": {"id": "cl_1"}, "config": {}}),
        ("parse", {"inputs": EXTRACT_INPUTS, "processor": {"id": "ex_1"}}),
        ("summarise", {"inputs": EXTRACT_INPUTS}),
    ],
)
async def test_create_batch_rejects_bad_input_before_sending(
    make_client: MakeClient, operation: str, kwargs: dict[str, Any]
) -> None:
    rec = Recorder(ok_batch())
    with pytest.raises(InputError):
        await make_client(rec).create_batch(operation, **kwargs)  # type: ignore[arg-type]
    assert rec.requests == []


async def test_get_processor_uses_latest_by_default(make_client: MakeClient) -> None:
    rec = Recorder(httpx.Response(200, json={"object": "extractor_version", "config": {}}))
    client = make_client(rec)
    assert (await client.get_processor("extractor", "ex_1"))["config"] == {}
    await client.get_processor("splitter", "spl_1", version="2.0")
    assert [r.url.path for r in rec.requests] == [
        "/extractors/ex_1/versions/latest",
        "/splitters/spl_1/versions/2.0",
    ]
    with pytest.raises(InputError):
        await client.get_processor("workflow", "wf_1")  # type: ignore[arg-type]


async def test_get_run_bytes_is_the_raw_body(make_client: MakeClient) -> None:
    raw = b'{"object":"parse_run","id":"pr_1","status":"PROCESSED","output":{"chunks":[]}}'
    rec = Recorder(httpx.Response(200, content=raw))
    client = make_client(rec)
    assert await client.get_run_bytes("parse", "pr_1") == raw
    assert (await client.get_run("parse", "pr_1"))["id"] == "pr_1"
    assert rec.requests[0].url.path == "/parse_runs/pr_1"
    assert rec.requests[0].url.params["responseType"] == "json"


async def test_upload_is_multipart_with_password(make_client: MakeClient) -> None:
    rec = Recorder(httpx.Response(200, json={"object": "file", "id": "file_1"}))
    uploaded = await make_client(rec).upload_file(b"%PDF-1.4 data", name="a.pdf", password="pw")
    assert uploaded["id"] == "file_1"
    request = rec.requests[0]
    assert request.url.path == "/files/upload"
    assert request.headers["content-type"].startswith("multipart/form-data")
    assert b'filename="a.pdf"' in request.content
    assert b"%PDF-1.4 data" in request.content
    assert b'name="password"' in request.content


async def test_webhook_endpoint_create_and_delete(make_client: MakeClient) -> None:
    created = {"object": "webhook_endpoint", "id": "wh_1", "signingSecret": "wss_s"}
    rec = Recorder(httpx.Response(200, json=created), httpx.Response(200, json={"id": "wh_1"}))
    client = make_client(rec)
    endpoint = await client.create_webhook_endpoint(
        "https://hooks.test/x", name="xf", events=["batch_processor_run.processed"]
    )
    assert endpoint["signingSecret"] == "wss_s"
    await client.delete_webhook_endpoint("wh_1")
    assert json.loads(rec.requests[0].content) == {
        "url": "https://hooks.test/x",
        "name": "xf",
        "enabledEvents": ["batch_processor_run.processed"],
        "apiVersion": "2026-02-09",
    }
    assert (rec.requests[1].method, rec.requests[1].url.path) == (
        "DELETE",
        "/webhook_endpoints/wh_1",
    )


async def test_ids_cannot_escape_their_path_segment(make_client: MakeClient) -> None:
    rec = Recorder(ok_batch())
    await make_client(rec).get_batch("../files/x?y=1")
    assert rec.requests[0].url.raw_path.startswith(b"/batch_runs/..%2Ffiles%2Fx%3Fy%3D1")


# -- retries ------------------------------------------------------------------------------------


async def test_get_retries_5xx_then_succeeds(make_client: MakeClient, clock: VirtualClock) -> None:
    rec = Recorder(
        error(503, code="INTERNAL_ERROR", message="x", retryable=True),
        httpx.Response(500, text="oops"),
        ok_batch(),
        clock=clock,
    )
    batch = await make_client(rec).get_batch("bpr_1")
    assert batch.status == "PENDING"
    assert len(rec.requests) == 3
    # full jitter: each wait is within [0, base * 2**(n-1)]
    waits = [b - a for a, b in zip(rec.times, rec.times[1:], strict=False)]
    assert 0 <= waits[0] <= 0.5 + 0.01
    assert 0 <= waits[1] <= 1.0 + 0.01


async def test_get_retries_read_timeout_and_retryable_body(make_client: MakeClient) -> None:
    rec = Recorder(
        httpx.ReadTimeout("timed out"),
        error(409, code="CONFLICT", message="busy", retryable=True),
        ok_batch(),
    )
    await make_client(rec).get_batch("bpr_1")
    assert len(rec.requests) == 3


async def test_post_answered_500_after_commit_is_outcome_unknown(make_client: MakeClient) -> None:
    rec = Recorder(
        error(500, code="INTERNAL_ERROR", message="boom", retryable=True, requestId="req_42")
    )
    with pytest.raises(OutcomeUnknownError) as info:
        await make_client(rec).create_batch(
            "extract", inputs=EXTRACT_INPUTS, processor={"id": "ex_1"}
        )
    assert len(rec.requests) == 1  # never a second POST
    err = info.value
    assert (err.status, err.request_id, err.method, err.path) == (
        500,
        "req_42",
        "POST",
        "/extract_runs/batch",
    )
    assert "list_runs_since" in str(err)


async def test_post_read_timeout_is_outcome_unknown(make_client: MakeClient) -> None:
    rec = Recorder(httpx.ReadTimeout("timed out"))
    with pytest.raises(OutcomeUnknownError):
        await make_client(rec).create_batch("parse", inputs=[{"file": {"text": "a"}}])
    assert len(rec.requests) == 1


async def test_post_dropped_connection_is_outcome_unknown(make_client: MakeClient) -> None:
    rec = Recorder(httpx.RemoteProtocolError("peer closed connection"))
    with pytest.raises(OutcomeUnknownError):
        await make_client(rec).create_webhook_endpoint("https://h.test", name="n", events=[])
    assert len(rec.requests) == 1


async def test_post_connect_error_is_retried(make_client: MakeClient) -> None:
    rec = Recorder(
        httpx.ConnectError("connection refused"), httpx.ConnectTimeout("slow"), ok_batch()
    )
    batch = await make_client(rec).create_batch(
        "extract", inputs=EXTRACT_INPUTS, processor={"id": "ex_1"}
    )
    assert batch.id == BATCH["id"]
    assert len(rec.requests) == 3


async def test_post_429_honours_retry_after(make_client: MakeClient, clock: VirtualClock) -> None:
    rec = Recorder(
        httpx.Response(
            429,
            headers={"Retry-After": "7"},
            json={"code": "RATE_LIMIT_EXCEEDED", "message": "slow", "retryable": True},
        ),
        ok_batch(),
        clock=clock,
    )
    await make_client(rec).create_batch("extract", inputs=EXTRACT_INPUTS, processor={"id": "e"})
    assert len(rec.requests) == 2
    assert rec.times[1] - rec.times[0] >= 7.0


async def test_connect_errors_exhaust_into_transport_error(make_client: MakeClient) -> None:
    rec = Recorder(httpx.ConnectError("connection refused"))
    policy = RetryPolicy(attempts=4, clock=VirtualClock(), budget=RetryBudget())
    with pytest.raises(TransportError, match="after 4 attempt"):
        await make_client(rec, retry=policy).get_batch("bpr_1")
    assert len(rec.requests) == 4


@pytest.mark.parametrize(
    ("status", "cls"),
    [
        (400, InvalidRequestError),
        (401, AuthenticationError),
        (402, UsageBlockedError),
        (403, PermissionDeniedError),
        (404, NotFoundError),
        (422, InvalidRequestError),
        (418, APIError),
    ],
)
async def test_non_retryable_errors_fail_at_once(
    make_client: MakeClient, status: int, cls: type[APIError]
) -> None:
    rec = Recorder(error(status, code="X_CODE", message="nope", retryable=False, requestId="req_1"))
    with pytest.raises(cls) as info:
        await make_client(rec).get_run("extract", "exr_1")
    assert type(info.value) is cls
    assert len(rec.requests) == 1
    err = info.value
    assert (err.status, err.code, err.request_id, err.retryable) == (
        status,
        "X_CODE",
        "req_1",
        False,
    )
    assert (err.method, err.path) == ("GET", "/extract_runs/exr_1")
    assert "nope" in str(err)
    assert "req_1" in str(err)


async def test_retryable_false_on_5xx_fails_at_once(make_client: MakeClient) -> None:
    rec = Recorder(error(503, code="MAINTENANCE", message="down", retryable=False))
    with pytest.raises(ServerError):
        await make_client(rec).get_batch("bpr_1")
    assert len(rec.requests) == 1


async def test_attempt_cap(make_client: MakeClient) -> None:
    rec = Recorder(error(502, message="bad gateway"))
    policy = RetryPolicy(attempts=3, clock=VirtualClock(), budget=RetryBudget())
    with pytest.raises(ServerError, match="after 3 attempts") as info:
        await make_client(rec, retry=policy).get_batch("bpr_1")
    assert len(rec.requests) == 3
    assert info.value.retryable


async def test_rate_limited_after_the_policy_gave_up(make_client: MakeClient) -> None:
    rec = Recorder(error(429, code="RATE_LIMIT_EXCEEDED", message="slow", retryable=True))
    policy = RetryPolicy(attempts=2, clock=VirtualClock(), budget=RetryBudget())
    with pytest.raises(RateLimitedError):
        await make_client(rec, retry=policy).get_batch("bpr_1")
    assert len(rec.requests) == 2


async def test_retry_budget_running_out(make_client: MakeClient) -> None:
    budget = RetryBudget(capacity=2, per_second=0.0, ratio=0.0)
    policy = RetryPolicy(attempts=10, clock=VirtualClock(), budget=budget)
    rec = Recorder(error(503, message="sick"))
    client = make_client(rec, retry=policy)
    with pytest.raises(ServerError):
        await client.get_batch("bpr_1")
    assert len(rec.requests) == 3  # 1 try + the 2 retries the budget held
    with pytest.raises(ServerError):
        await client.get_batch("bpr_2")
    assert len(rec.requests) == 4  # budget empty: no retry at all


async def test_deadline_stops_retrying(make_client: MakeClient) -> None:
    rec = Recorder(httpx.Response(503, headers={"Retry-After": "30"}, json={"message": "later"}))
    policy = RetryPolicy(attempts=10, deadline=20.0, clock=VirtualClock(), budget=RetryBudget())
    with pytest.raises(ServerError):
        await make_client(rec, retry=policy).get_batch("bpr_1")
    assert len(rec.requests) == 1  # waiting 30 s would pass the 20 s deadline


async def test_retry_after_holds_every_request_of_the_category(
    make_client: MakeClient, clock: VirtualClock
) -> None:
    rec = Recorder(
        httpx.Response(429, headers={"Retry-After": "5"}, json={"message": "slow"}),
        httpx.Response(200, json={"id": "wh_1"}),
        ok_batch(),
        clock=clock,
    )
    policy = RetryPolicy(attempts=1, clock=clock, budget=RetryBudget())
    client = make_client(rec, retry=policy)
    with pytest.raises(RateLimitedError):
        await client.get_run("extract", "exr_1")
    limited_at = rec.times[0]
    await client.delete_webhook_endpoint("wh_1")  # WRITE: not held by the GET category
    await client.get_batch("bpr_1")  # GET: held until Retry-After has passed
    assert [r.method for r in rec.requests] == ["GET", "DELETE", "GET"]
    assert rec.times[1] == pytest.approx(limited_at, abs=0.01)
    assert rec.times[2] >= limited_at + 5.0


async def test_delete_404_after_a_lost_answer_counts_as_done(make_client: MakeClient) -> None:
    rec = Recorder(httpx.ReadTimeout("timed out"), error(404, code="NOT_FOUND", message="gone"))
    await make_client(rec).delete_webhook_endpoint("wh_1")
    assert len(rec.requests) == 2
    rec2 = Recorder(error(404, code="NOT_FOUND", message="gone"))
    with pytest.raises(NotFoundError):
        await make_client(rec2).delete_webhook_endpoint("wh_1")


# -- error bodies ---------------------------------------------------------------------------------


async def test_wrapped_error_body_and_header_request_id(make_client: MakeClient) -> None:
    body = {"error": {"code": "NOT_FOUND", "message": "no such batch", "retryable": False}}
    rec = Recorder(httpx.Response(404, json=body, headers={"x-extend-request-id": "req_hdr"}))
    with pytest.raises(NotFoundError) as info:
        await make_client(rec).get_batch("bpr_1")
    assert (info.value.code, info.value.message.split(";")[0], info.value.request_id) == (
        "NOT_FOUND",
        "no such batch",
        "req_hdr",
    )


async def test_body_request_id_wins_over_header(make_client: MakeClient) -> None:
    rec = Recorder(
        httpx.Response(
            400,
            json={"code": "INVALID_REQUEST", "message": "bad", "requestId": "req_body"},
            headers={"x-extend-request-id": "req_hdr"},
        )
    )
    with pytest.raises(InvalidRequestError) as info:
        await make_client(rec).get_batch("bpr_1")
    assert info.value.request_id == "req_body"


async def test_raw_text_error_body(make_client: MakeClient) -> None:
    rec = Recorder(httpx.Response(403, text="<html>Forbidden by proxy</html>"))
    with pytest.raises(PermissionDeniedError, match="Forbidden by proxy") as info:
        await make_client(rec).get_batch("bpr_1")
    assert info.value.code is None


async def test_path_in_errors_has_no_query_string(make_client: MakeClient) -> None:
    rec = Recorder(error(400, message="bad filter"))
    with pytest.raises(InvalidRequestError) as info:
        async for _ in make_client(rec).iter_runs("extract", batch_id="bpr_1"):
            pass
    assert info.value.path == "/extract_runs"
    assert "batchId" not in str(info.value)


async def test_non_json_success_is_a_clear_error(make_client: MakeClient) -> None:
    rec = Recorder(httpx.Response(200, text="<html>captive portal</html>"))
    with pytest.raises(APIError, match="not JSON"):
        await make_client(rec).get_batch("bpr_1")


def test_every_error_is_an_extend_error() -> None:
    for cls in (OutcomeUnknownError, TransportError, RateLimitedError, InputError):
        assert issubclass(cls, ExtendError)


async def test_outcome_unknown_is_never_marked_retryable(make_client: MakeClient) -> None:
    rec = Recorder(error(503, code="INTERNAL_ERROR", message="x", retryable=True))
    with pytest.raises(OutcomeUnknownError) as info:
        await make_client(rec).create_batch("parse", inputs=[{"file": {"text": "a"}}])
    assert info.value.retryable is False


@pytest.mark.parametrize(
    ("headers", "least"),
    [({"Retry-After": "4"}, 4.0), ({"retry-after-ms": "2500"}, 2.5)],
)
async def test_5xx_retry_after_is_honoured(
    make_client: MakeClient, clock: VirtualClock, headers: dict[str, str], least: float
) -> None:
    rec = Recorder(httpx.Response(503, headers=headers, json={"message": "busy"}), ok_batch())
    rec.clock = clock
    await make_client(rec).get_batch("bpr_1")
    assert rec.times[1] - rec.times[0] >= least


async def test_uploads_get_the_longer_timeout(make_client: MakeClient) -> None:
    rec = Recorder(httpx.Response(200, json={"object": "file", "id": "file_1"}), ok_batch())
    client = make_client(rec, timeout=Timeouts(connect=3.0, read=20.0, upload=400.0))
    await client.upload_file(b"x", name="a.txt")
    await client.get_batch("bpr_1")
    upload, read = (r.extensions["timeout"] for r in rec.requests)
    assert (upload["connect"], upload["read"], upload["write"]) == (3.0, 400.0, 400.0)
    assert (read["connect"], read["read"]) == (3.0, 20.0)


async def test_retries_are_logged_with_method_path_status_attempt_and_wait(
    make_client: MakeClient, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="extend_frames.api")
    rec = Recorder(error(502, message="bad gateway"), ok_batch())
    await make_client(rec).get_batch("bpr_1")
    (line,) = [r.getMessage() for r in caplog.records if "retrying" in r.getMessage()]
    assert line.startswith("retrying GET /batch_runs/bpr_1 after 502 (attempt 1/6), waiting ")


# -- single runs ------------------------------------------------------------------------------

RUN = {"object": "extract_run", "id": "exr_1", "status": "PROCESSING"}


async def test_create_run_body(make_client: MakeClient) -> None:
    rec = Recorder(httpx.Response(200, json=RUN))
    processor = {"id": "ex_1", "version": "2.0"}
    meta = {"extend_frames": {"job": "j", "row": "r"}}
    run = await make_client(rec).create_run(
        "extract", file={"text": "hi"}, processor=processor, metadata=meta, priority=5
    )
    assert run["id"] == "exr_1"
    request = rec.requests[0]
    assert (request.method, request.url.path) == ("POST", "/extract_runs")
    assert json.loads(request.content) == {
        "file": {"text": "hi"},
        "extractor": processor,
        "metadata": meta,
        "priority": 5,
    }


async def test_create_parse_run_body(make_client: MakeClient) -> None:
    rec = Recorder(httpx.Response(200, json={**RUN, "object": "parse_run", "id": "pr_1"}))
    await make_client(rec).create_run(
        "parse", file={"id": "file_1"}, config={"target": "markdown"}, metadata={"a": 1}
    )
    assert rec.requests[0].url.path == "/parse_runs"
    assert json.loads(rec.requests[0].content) == {
        "file": {"id": "file_1"},
        "config": {"target": "markdown"},
        "metadata": {"a": 1},
    }


@pytest.mark.parametrize(
    ("operation", "kwargs"),
    [
        ("parse", {"file": {"text": "a"}}),  # single parse runs take no text
        ("split", {"file": {"text": "a"}, "processor": {"id": "spl_1"}}),
        ("parse", {"file": {"id": "file_1"}, "priority": 3}),
        ("extract", {"file": {"url": "u", "id": "i"}}),
        ("extract", {"file": {"id": "f"}, "processor": {"id": "ex_1"}, "config": {}}),
        ("extract", {"file": {"id": "f"}, "processor": {"version": "1"}}),
        ("parse", {"file": {"id": "f"}, "processor": {"id": "ex_1"}}),
    ],
)
async def test_create_run_rejects_bad_input_before_sending(
    make_client: MakeClient, operation: str, kwargs: dict[str, Any]
) -> None:
    rec = Recorder(httpx.Response(200, json=RUN))
    with pytest.raises(InputError):
        await make_client(rec).create_run(operation, **kwargs)  # type: ignore[arg-type]
    assert rec.requests == []


@pytest.mark.parametrize(
    "answer",
    [error(500, code="INTERNAL_ERROR", message="boom", retryable=True), httpx.ReadTimeout("t")],
)
async def test_create_run_ambiguous_failure_is_outcome_unknown(
    make_client: MakeClient, answer: httpx.Response | Exception
) -> None:
    rec = Recorder(answer)
    with pytest.raises(OutcomeUnknownError):
        await make_client(rec).create_run("classify", file={"id": "f"}, processor={"id": "cl"})
    assert len(rec.requests) == 1  # never a second POST
