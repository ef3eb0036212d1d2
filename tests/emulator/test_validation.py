"""Each validation rule answers its documented status and error code, with a full error body."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from extend_frames.emulator import Emulator, EmulatorConfig, Fidelity

from .conftest import CLASSIFY_CONFIG, INVOICE_SCHEMA, SPLIT_CONFIG, raw_client


def _error(
    resp: httpx.Response, status: int, code: str, *, doc_url: bool = False
) -> dict[str, Any]:
    assert resp.status_code == status, resp.text
    body = resp.json()
    assert set(body) == {"code", "message", "retryable", "requestId"} | (
        {"docUrl"} if doc_url else set()
    )
    assert body["code"] == code
    assert body["message"]
    assert body["requestId"].startswith("req_")
    assert resp.headers["x-extend-request-id"] == body["requestId"]
    return body


@pytest.fixture
def procs(raw: httpx.Client) -> dict[str, str]:
    ex = raw.post("/extractors", json={"name": "x", "config": {"schema": INVOICE_SCHEMA}})
    cl = raw.post("/classifiers", json={"name": "c", "config": CLASSIFY_CONFIG})
    sp = raw.post("/splitters", json={"name": "s", "config": SPLIT_CONFIG})
    return {
        "extractor": ex.json()["id"],
        "classifier": cl.json()["id"],
        "splitter": sp.json()["id"],
    }


def _inputs(n: int) -> list[dict[str, Any]]:
    return [
        {"file": {"url": f"http://127.0.0.1:9/{i}.pdf"}, "metadata": {"i": i}} for i in range(n)
    ]


@pytest.mark.parametrize("count", [0, 1001])
def test_batch_input_count_bounds(
    raw: httpx.Client, procs: dict[str, str], emu: Emulator, count: int
) -> None:
    resp = raw.post(
        "/extract_runs/batch",
        json={"extractor": {"id": procs["extractor"]}, "inputs": _inputs(count)},
    )
    body = _error(resp, 400, "INVALID_REQUEST")
    assert str(count) in body["message"]
    assert emu.stats()["batches_created"] == 0


def test_batch_of_exactly_1000_is_accepted(raw: httpx.Client, procs: dict[str, str]) -> None:
    resp = raw.post(
        "/extract_runs/batch",
        json={"extractor": {"id": procs["extractor"]}, "inputs": _inputs(1000)},
    )
    assert resp.status_code == 200
    assert resp.json()["runCount"] == 1000


@pytest.mark.parametrize("kind", ["extract", "classify", "split"])
def test_processor_is_required(raw: httpx.Client, kind: str) -> None:
    _error(raw.post(f"/{kind}_runs/batch", json={"inputs": _inputs(1)}), 400, "INVALID_REQUEST")


@pytest.mark.parametrize(
    ("kind", "key"), [("extract", "extractor"), ("classify", "classifier"), ("split", "splitter")]
)
def test_inline_config_is_refused_on_processor_batches(
    raw: httpx.Client, procs: dict[str, str], kind: str, key: str
) -> None:
    body = {key: {"id": procs[key]}, "config": {"schema": INVOICE_SCHEMA}, "inputs": _inputs(1)}
    _error(raw.post(f"/{kind}_runs/batch", json=body), 400, "INVALID_REQUEST")
    only_config = {"config": {"schema": INVOICE_SCHEMA}, "inputs": _inputs(1)}
    _error(raw.post(f"/{kind}_runs/batch", json=only_config), 400, "INVALID_REQUEST")


def test_text_is_refused_on_split_batches_only(raw: httpx.Client, procs: dict[str, str]) -> None:
    text = [{"file": {"text": "hello"}}]
    resp = raw.post(
        "/split_runs/batch", json={"splitter": {"id": procs["splitter"]}, "inputs": text}
    )
    assert "text" in _error(resp, 400, "INVALID_REQUEST")["message"]
    ok = raw.post(
        "/extract_runs/batch", json={"extractor": {"id": procs["extractor"]}, "inputs": text}
    )
    assert ok.status_code == 200
    assert raw.post("/parse_runs/batch", json={"inputs": text}).status_code == 200
    # single parse and split runs refuse text too (SPEC §4.1)
    _error(raw.post("/parse_runs", json={"file": {"text": "x"}}), 400, "INVALID_REQUEST")


def test_unknown_processor_is_404(raw: httpx.Client) -> None:
    resp = raw.post(
        "/classify_runs/batch", json={"classifier": {"id": "cl_nope"}, "inputs": _inputs(1)}
    )
    _error(resp, 404, "NOT_FOUND")


@pytest.mark.parametrize(
    "file",
    [{}, {"url": "a", "id": "file_b"}, {"url": 3}, "http://127.0.0.1/x.pdf", {"text": ""}],
)
def test_malformed_file_objects(raw: httpx.Client, file: Any) -> None:
    resp = raw.post("/parse_runs/batch", json={"inputs": [{"file": file}]})
    _error(resp, 400, "INVALID_REQUEST")


def test_unknown_input_keys_are_stripped_like_top_level_keys(raw: httpx.Client) -> None:
    item = {"file": {"text": "x"}, "config": {}, "priority": 3}
    body = {"inputs": [item], "someFutureField": True}
    resp = raw.post("/parse_runs/batch", json=body)
    assert resp.status_code == 200, resp.text
    (run,) = raw.get("/parse_runs", params={"batchId": resp.json()["id"]}).json()["data"]
    assert run["metadata"] is None


def test_unknown_input_keys_refused_when_switched() -> None:
    config = EmulatorConfig(fidelity=Fidelity(unknown_input_keys="reject"))
    with Emulator(config) as emu, raw_client(emu) as raw:
        item = {"file": {"text": "x"}, "config": {}}
        body = _error(
            raw.post("/parse_runs/batch", json={"inputs": [item]}), 400, "INVALID_REQUEST"
        )
        assert "inputs[0]" in body["message"]


def test_failed_validation_creates_nothing(raw: httpx.Client, emu: Emulator) -> None:
    inputs = [{"file": {"text": "ok"}}, {"file": {"nope": 1}}]
    _error(raw.post("/parse_runs/batch", json={"inputs": inputs}), 400, "INVALID_REQUEST")
    assert raw.get("/parse_runs").json()["data"] == []
    assert emu.stats()["inputs_submitted"] == 0


def test_version_header_missing_or_unknown(emu: Emulator) -> None:
    with httpx.Client(base_url=emu.url, trust_env=False) as c:
        auth = {"authorization": f"Bearer {emu.api_key}"}
        _error(c.get("/extract_runs", headers=auth), 400, "INVALID_REQUEST")
        unknown = {**auth, "x-extend-api-version": "2024-12-23"}
        _error(c.get("/extract_runs", headers=unknown), 400, "INVALID_REQUEST")
        ok = {**auth, "x-extend-api-version": "2026-02-09", "x-extend-workspace-id": "ws_1"}
        assert c.get("/extract_runs", headers=ok).status_code == 200


def test_bad_or_missing_key(emu: Emulator) -> None:
    with raw_client(emu, authorization="Bearer sk_not_the_key") as c:
        body = _error(c.get("/batch_runs/bpr_x"), 401, "UNAUTHORIZED")
        assert "sk_not_the_key" not in body["message"]  # keys never echo back
    with httpx.Client(base_url=emu.url, trust_env=False) as c:
        _error(c.get("/files", headers={"x-extend-api-version": "2026-02-09"}), 401, "UNAUTHORIZED")


def test_bad_page_tokens(raw: httpx.Client) -> None:
    for i in range(3):
        raw.post("/parse_runs/batch", json={"inputs": [{"file": {"text": f"t{i}"}}]})
    first = raw.get("/parse_runs", params={"maxPageSize": 1}).json()
    token = first["nextPageToken"]
    assert token
    _error(raw.get("/parse_runs", params={"nextPageToken": "garbage!!"}), 400, "INVALID_REQUEST")
    # a token is bound to its query: reusing it with another filter is refused
    other = {"maxPageSize": 1, "nextPageToken": token, "status": "PROCESSED"}
    body = _error(raw.get("/parse_runs", params=other), 400, "INVALID_REQUEST")
    assert "different query" in body["message"]
    same = raw.get("/parse_runs", params={"maxPageSize": 1, "nextPageToken": token})
    assert same.status_code == 200


@pytest.mark.parametrize("size", ["0", "1001", "ten"])
def test_page_size_bounds(raw: httpx.Client, size: str) -> None:
    _error(raw.get("/extract_runs", params={"maxPageSize": size}), 400, "INVALID_REQUEST")


def test_bad_filter_values(raw: httpx.Client) -> None:
    _error(raw.get("/extract_runs", params={"status": "DONE"}), 400, "INVALID_REQUEST")
    _error(raw.get("/extract_runs", params={"sortBy": "name"}), 400, "INVALID_REQUEST")
    _error(raw.get("/extract_runs", params={"source": "EMAIL"}), 400, "INVALID_REQUEST")


def test_unknown_route_wrong_method_and_malformed_json(raw: httpx.Client) -> None:
    _error(raw.get("/no_such_thing"), 404, "NOT_FOUND")
    resp = raw.delete("/batch_runs/bpr_x")
    _error(resp, 405, "INVALID_REQUEST")
    assert "GET" in resp.headers["allow"]
    bad = raw.post(
        "/extract_runs/batch", content=b"{not json", headers={"content-type": "application/json"}
    )
    _error(bad, 400, "INVALID_REQUEST")
    _error(raw.post("/parse_runs/batch", json=[1, 2]), 400, "INVALID_REQUEST")


def test_internal_exception_is_an_extend_error(
    raw: httpx.Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    from extend_frames.emulator import _runs

    def boom(*args: Any, **kwargs: Any) -> bytes:
        raise RuntimeError("kaboom")

    monkeypatch.setattr(_runs, "list_runs", boom)
    body = _error(raw.get("/extract_runs"), 500, "INTERNAL_ERROR")
    assert body["retryable"] is True
    assert "kaboom" not in body["message"]


def test_schema_rules_answer_400(raw: httpx.Client) -> None:
    bad = {"type": "object", "properties": {"name": {"type": "string"}}}
    body = _error(
        raw.post("/extractors", json={"name": "x", "config": {"schema": bad}}),
        400,
        "INVALID_REQUEST",
        doc_url=True,
    )
    assert body["docUrl"].startswith("https://docs.extend.ai/")
    assert "schema.properties.name" in body["message"]
    enum = {"type": "object", "properties": {"s": {"enum": ["a", "b"]}}}
    _error(
        raw.post("/extractors", json={"name": "x", "config": {"schema": enum}}),
        400,
        "INVALID_REQUEST",
        doc_url=True,
    )


def test_webhook_endpoint_schema_is_strict(raw: httpx.Client) -> None:
    body = {
        "url": "http://127.0.0.1:9/h",
        "name": "n",
        "enabledEvents": [],
        "apiVersion": "2026-02-09",
        "colour": "red",
    }
    _error(raw.post("/webhook_endpoints", json=body), 400, "INVALID_REQUEST")


def test_cancel_terminal_run_is_400(raw: httpx.Client, emu: Emulator) -> None:
    created = raw.post("/parse_runs", json={"file": {"url": "http://127.0.0.1:9/x.pdf"}}).json()
    assert emu.wait_idle()
    _error(raw.post(f"/parse_runs/{created['id']}/cancel"), 400, "INVALID_REQUEST")
    _error(raw.post("/parse_runs/pr_missing/cancel"), 404, "NOT_FOUND")
