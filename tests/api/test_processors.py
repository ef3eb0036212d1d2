"""Creating and publishing processors: the right endpoint and body, WRITE pacing, and never a
second POST after an ambiguous failure (a duplicate processor is noise a user must clean up)."""

from __future__ import annotations

import json
from collections.abc import Callable

import httpx
import pytest

from extend_frames import InputError, OutcomeUnknownError
from extend_frames.api import Client
from extend_frames.api._ratelimit import Category, category_for
from extend_frames.emulator import Emulator
from extend_frames.emulator.samples import INVOICE_EXTRACTOR_CONFIG

from .conftest import error

MakeClient = Callable[..., Client]
CONFIG = {"schema": {"type": "object", "properties": {"total": {"type": "number"}}}}


class Recorder:
    """A transport handler that answers from a script and remembers every request."""

    def __init__(self, *answers: httpx.Response | Exception) -> None:
        self.answers = list(answers)
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        answer = self.answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return answer


@pytest.mark.parametrize("kind", ["extractor", "classifier", "splitter"])
async def test_create_posts_name_and_config(kind: str, make_client: MakeClient) -> None:
    rec = Recorder(httpx.Response(200, json={"object": kind, "id": "ex_1", "name": "n"}))
    got = await make_client(rec).create_processor(kind, name="invoices", config=CONFIG)  # type: ignore[arg-type]
    assert got["id"] == "ex_1"
    (request,) = rec.requests
    assert (request.method, request.url.path) == ("POST", f"/{kind}s")
    assert json.loads(request.content) == {"name": "invoices", "config": CONFIG}
    assert category_for("POST", f"/{kind}s") is Category.WRITE


async def test_create_answered_500_is_outcome_unknown_and_not_retried(
    make_client: MakeClient,
) -> None:
    rec = Recorder(error(500, code="INTERNAL_ERROR", message="boom", retryable=True))
    with pytest.raises(OutcomeUnknownError):
        await make_client(rec).create_processor("extractor", name="n", config=CONFIG)
    assert len(rec.requests) == 1


async def test_create_read_timeout_is_outcome_unknown(make_client: MakeClient) -> None:
    rec = Recorder(httpx.ReadTimeout("timed out"))
    with pytest.raises(OutcomeUnknownError):
        await make_client(rec).create_processor("classifier", name="n", config=CONFIG)
    assert len(rec.requests) == 1


async def test_create_429_is_retried(make_client: MakeClient) -> None:
    rec = Recorder(
        error(429, code="RATE_LIMITED", message="slow down"),
        httpx.Response(200, json={"id": "spl_1"}),
    )
    got = await make_client(rec).create_processor("splitter", name="n", config=CONFIG)
    assert got["id"] == "spl_1"
    assert len(rec.requests) == 2


async def test_bad_arguments_fail_before_any_request(make_client: MakeClient) -> None:
    rec = Recorder()
    client = make_client(rec)
    with pytest.raises(InputError, match="unknown processor kind"):
        await client.create_processor("workflow", name="n", config=CONFIG)  # type: ignore[arg-type]
    with pytest.raises(InputError, match="name"):
        await client.create_processor("extractor", name="", config=CONFIG)
    with pytest.raises(InputError, match="release_type"):
        await client.publish_processor_version("extractor", "ex_1", release_type="patch")  # type: ignore[arg-type]
    assert rec.requests == []


async def test_publish_posts_release_type(make_client: MakeClient) -> None:
    rec = Recorder(httpx.Response(200, json={"object": "extractor_version", "version": "1.0"}))
    got = await make_client(rec).publish_processor_version(
        "extractor", "ex_1", release_type="minor", description="first"
    )
    assert got["version"] == "1.0"
    (request,) = rec.requests
    assert request.url.path == "/extractors/ex_1/versions"
    assert json.loads(request.content) == {"releaseType": "minor", "description": "first"}


async def test_create_then_read_back_and_publish_on_the_emulator() -> None:
    with Emulator() as emu:
        client = Client(api_key=emu.api_key, base_url=emu.url)
        try:
            created = await client.create_processor(
                "extractor", name="invoices", config=INVOICE_EXTRACTOR_CONFIG
            )
            assert created["id"].startswith("ex_")
            draft = await client.get_processor("extractor", created["id"])
            assert draft["config"]["schema"] == INVOICE_EXTRACTOR_CONFIG["schema"]
            published = await client.publish_processor_version("extractor", created["id"])
            assert published["version"] == "1.0"
            again = await client.get_processor("extractor", created["id"], "1.0")
            assert again["version"] == "1.0"
        finally:
            await client.aclose()
