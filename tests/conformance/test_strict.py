"""The strict validator itself: it rejects what the SDK's construct_type lets through, accepts
the documented examples, and the autouse tap catches a broken emulator response."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
import pytest
from extend_ai.core.unchecked_base_model import construct_type
from extend_ai.types import BatchRun, ExtractRun, ParseRun

from extend_frames.emulator import Emulator, EmulatorConfig, Fidelity, WebhookOptions, _records

from ._routes import model_for, sdk_routes
from ._strict import findings
from ._tap import tapping

EXAMPLES = Path(__file__).parents[1] / "frames" / "examples"
BATCH = {
    "object": "batch_run",
    "id": "bpr_Xj8mK2pL9nR4vT7qY5wZ",
    "status": "PENDING",
    "runCount": 3,
    "createdAt": "2026-03-02T10:15:00.000Z",
}


def _problems(model: Any, data: Any) -> list[str]:
    return [str(f) for f in findings(model, data)]


def test_a_batch_run_with_only_an_id_fails_although_the_sdk_constructs_it() -> None:
    constructed = construct_type(type_=BatchRun, object_={"id": "bpr_x"})
    assert constructed.id == "bpr_x"  # the SDK's own parsing accepts it, status=None
    problems = _problems(BatchRun, {"id": "bpr_x"})
    for key in ("status", "runCount", "createdAt"):
        assert any(p.startswith(f"$.{key}:") for p in problems), problems


@pytest.mark.parametrize(
    ("change", "needle"),
    [
        ({"status": "DONE"}, "not a member of BatchRunStatus"),
        ({"runCount": "3"}, "expected int"),
        ({"runCount": True}, "expected int"),
        ({"createdAt": "yesterday"}, "RFC 3339"),
        ({"createdAt": "2026-03-02T10:15:00"}, "RFC 3339"),  # no zone
        ({"object": "batch"}, "not one of"),
        ({"updatedAt": "2026-03-02T10:15:00Z"}, "unknown key"),
        ({"id": None}, "null is not allowed"),
    ],
)
def test_each_kind_of_drift_is_a_finding(change: dict[str, Any], needle: str) -> None:
    assert construct_type(type_=BatchRun, object_={**BATCH, **change}) is not None
    problems = _problems(BatchRun, {**BATCH, **change})
    assert any(needle in p for p in problems), problems


def test_a_conforming_batch_run_has_no_findings() -> None:
    assert _problems(BatchRun, BATCH) == []


def test_typescript_nullability_decides_where_python_only_says_optional() -> None:
    """ExtractRun.file is `FileSummary | null` (required key), metrics on ParseRun too."""
    run = json.loads((EXAMPLES / "extract_run.json").read_text())
    assert _problems(ExtractRun, run) == []
    missing = {k: v for k, v in run.items() if k != "file"}  # Optional in Python, required in TS
    assert any("$.file: required key missing" in p for p in _problems(ExtractRun, missing))
    listed = {"object": "list", "data": [], "nextPageToken": None}
    model = model_for("GET", "/extract_runs", 200)
    assert any("nextPageToken: null is not allowed" in p for p in _problems(model, listed))
    assert _problems(model, {"object": "list", "data": []}) == []


def test_a_failed_ingestion_parse_run_may_have_a_null_file() -> None:
    """The one documented exception to the TypeScript types (docs/emulator-fidelity.md)."""
    run = json.loads((EXAMPLES / "parse_run.json").read_text())
    assert _problems(ParseRun, run) == []
    assert _problems(ParseRun, {**run, "file": None}) == []
    assert any("null is not allowed" in p for p in _problems(ParseRun, {**run, "config": None}))


@pytest.mark.parametrize("name", sorted(p.name for p in EXAMPLES.glob("*.json")))
def test_the_spec_examples_conform(name: str) -> None:
    data = json.loads((EXAMPLES / name).read_text())
    route = {
        "parse_run": ("GET", "/parse_runs/pr_x"),
        "extract_run": ("GET", "/extract_runs/exr_x"),
        "classify_run": ("GET", "/classify_runs/clr_x"),
        "split_run": ("GET", "/split_runs/splr_x"),
        "extractor": ("GET", "/extractors/ex_x"),
        "list_parse_runs": ("GET", "/parse_runs"),
        "list_extract_runs": ("GET", "/extract_runs"),
        "list_classify_runs": ("GET", "/classify_runs"),
        "list_split_runs": ("GET", "/split_runs"),
    }
    stem = name.removesuffix(".json").removesuffix("_failed").removesuffix("_url")
    if stem.startswith("parse_run_response_type"):
        stem = "parse_run"
    assert _problems(model_for(*route[stem], 200), data) == []


def test_the_route_table_covers_every_endpoint_the_library_calls() -> None:
    known = {(r.method, r.template) for r in sdk_routes()}
    for route in [
        ("POST", "files/upload"),
        ("GET", "extractors/{param}/versions/{param}"),
        ("POST", "extract_runs/batch"),
        ("GET", "batch_runs/{param}"),
        ("GET", "parse_runs"),
        ("GET", "parse_runs/{param}"),
        ("POST", "webhook_endpoints"),
        ("DELETE", "webhook_endpoints/{param}"),
    ]:
        assert route in known


@pytest.mark.lenient_wire
def test_the_tap_catches_a_broken_emulator_response(monkeypatch: pytest.MonkeyPatch) -> None:
    """Break BatchRun on purpose (no status): every test using the emulator would fail."""
    original = _records.BatchRecord.to_json

    def broken(self: _records.BatchRecord) -> dict[str, Any]:
        body = original(self)
        del body["status"]
        return body

    monkeypatch.setattr(_records.BatchRecord, "to_json", broken)
    with Emulator() as emu, tapping() as tap:
        headers = {"authorization": f"Bearer {emu.api_key}", "x-extend-api-version": "2026-02-09"}
        with httpx.Client(base_url=emu.url, headers=headers, trust_env=False) as c:
            batch = c.post("/parse_runs/batch", json={"inputs": [{"file": {"text": "x"}}]})
            c.get(f"/batch_runs/{batch.json()['id']}")
    assert [str(f) for _, f in tap.found].count("$.status: required key missing (BatchRun)") >= 2
    assert "POST BatchRun" in tap.checked


@pytest.mark.lenient_wire
def test_the_null_token_switch_is_caught_as_a_drift() -> None:
    """Fidelity(list_end="null") reproduces the old behaviour; the suite flags it."""
    with Emulator(EmulatorConfig(fidelity=Fidelity(list_end="null"))) as emu, tapping() as tap:
        headers = {"authorization": f"Bearer {emu.api_key}", "x-extend-api-version": "2026-02-09"}
        with httpx.Client(base_url=emu.url, headers=headers, trust_env=False) as c:
            assert c.get("/files").json()["nextPageToken"] is None
    assert any("nextPageToken: null is not allowed" in str(f) for _, f in tap.found)


@pytest.mark.lenient_wire
def test_webhook_deliveries_are_checked_too(monkeypatch: pytest.MonkeyPatch) -> None:
    """Event bodies are validated against the SDK's WebhookEvent union; a broken one is caught."""
    original = _records.RunRecord.status_payload

    def broken(self: _records.RunRecord) -> dict[str, Any]:
        body = original(self)
        body["status"] = "DONE"
        return body

    monkeypatch.setattr(_records.RunRecord, "status_payload", broken)
    hook = {
        "url": "http://127.0.0.1:9/hook",  # nothing listens: the envelope is built all the same
        "name": "h",
        "enabledEvents": ["batch_parse_run.processed", "parse_run.processed"],
        "apiVersion": "2026-02-09",
    }
    quick = WebhookOptions(retry_schedule=(), timeout=1.0)
    with Emulator(webhooks=quick) as emu, tapping() as tap:
        headers = {"authorization": f"Bearer {emu.api_key}", "x-extend-api-version": "2026-02-09"}
        with httpx.Client(base_url=emu.url, headers=headers, trust_env=False) as c:
            assert c.post("/webhook_endpoints", json=hook).status_code == 200
            c.post("/parse_runs/batch", json={"inputs": [{"file": {"text": "x"}}]})
            assert emu.app is not None
            assert emu.app.worker.wait_idle(30)
    events = {k: n for k, n in tap.checked.items() if k.startswith("WEBHOOK")}
    assert events, tap.checked
    problems = [str(f) for route, f in tap.found if route.startswith("WEBHOOK")]
    assert any("'DONE'" in p for p in problems), problems
    assert not any("batch_parse_run" in p for p in problems)  # the batch event was fine
