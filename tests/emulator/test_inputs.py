"""Reading run inputs: file ids, file:// paths, loopback URLs, raw text, and failure markers."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest

from extend_frames.emulator import Emulator, Faults, _documents, _ingest

from .conftest import raw_client


def _run_one(emu: Emulator, c: httpx.Client, file: dict[str, Any], **extra: Any) -> dict[str, Any]:
    batch = c.post("/parse_runs/batch", json={"inputs": [{"file": file, **extra}]}).json()
    assert emu.wait_idle()
    summary = c.get("/parse_runs", params={"batchId": batch["id"]}).json()["data"][0]
    return c.get(f"/parse_runs/{summary['id']}").json()


def test_file_path_input(emu: Emulator, raw: httpx.Client, tmp_path: Path) -> None:
    path = tmp_path / "memo.txt"
    path.write_text("Quarterly memo")
    run = _run_one(emu, raw, {"url": path.as_uri()})
    assert run["status"] == "PROCESSED"
    assert run["file"]["name"] == "memo.txt"
    assert "Quarterly memo" in run["output"]["chunks"][0]["content"]
    missing = _run_one(emu, raw, {"url": (tmp_path / "nope.pdf").as_uri()})
    assert missing["failureReason"] == "UNABLE_TO_DOWNLOAD_FILE"
    assert missing["file"] is None


def test_loopback_url_creates_a_file(emu: Emulator, raw: httpx.Client) -> None:
    up = raw.post("/files/upload", files={"file": ("src.txt", b"served over loopback")}).json()
    url = raw.get(f"/files/{up['id']}").json()["presignedUrl"]
    assert url.startswith(emu.url)
    run = _run_one(emu, raw, {"url": url, "name": "copy.txt"})
    assert run["status"] == "PROCESSED"
    assert run["file"]["id"] != up["id"]
    assert run["file"]["name"] == "copy.txt"
    assert raw.get(f"/files/{run['file']['id']}").status_code == 200
    assert "served over loopback" in run["output"]["chunks"][0]["content"]
    gone = _run_one(emu, raw, {"url": url.replace(up["id"], "file_missing")})
    assert gone["failureReason"] == "UNABLE_TO_DOWNLOAD_FILE"
    assert gone["file"] is None


def test_other_hosts_are_never_contacted(
    emu: Emulator, raw: httpx.Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[Any] = []
    monkeypatch.setattr(_ingest, "_http_get", lambda *a, **k: calls.append(a) or b"")
    for url in ("https://files.example.com/a.pdf", "http://10.0.0.1/a.pdf", "ftp://127.0.0.1/a"):
        run = _run_one(emu, raw, {"url": url})
        assert run["status"] == "FAILED"
        assert run["failureReason"] == "UNABLE_TO_DOWNLOAD_FILE"
        assert run["file"] is None
    assert calls == []


def test_text_input_becomes_a_txt_file(emu: Emulator, raw: httpx.Client) -> None:
    ex = raw.post("/extractors", json={"name": "x", "config": {}}).json()
    batch = raw.post(
        "/extract_runs/batch",
        json={"extractor": {"id": ex["id"]}, "inputs": [{"file": {"text": "Hello there"}}]},
    ).json()
    assert emu.wait_idle()
    run = raw.get("/extract_runs", params={"batchId": batch["id"]}).json()["data"][0]
    assert run["file"]["type"] == "TXT"
    assert run["file"]["name"].endswith(".txt")


@pytest.mark.parametrize(
    ("file", "extra", "reason"),
    [
        ({"text": "please __FAIL:OCR_ERROR now"}, {}, "OCR_ERROR"),
        ({"url": "https://fail.example/x.pdf?reason=CORRUPT_FILE"}, {}, "CORRUPT_FILE"),
        ({"text": "fine"}, {"metadata": {"emulator:fail": "PARSING_ERROR"}}, "PARSING_ERROR"),
    ],
)
def test_failure_markers(
    emu: Emulator, raw: httpx.Client, file: dict[str, Any], extra: dict[str, Any], reason: str
) -> None:
    run = _run_one(emu, raw, file, **extra)
    assert run["status"] == "FAILED"
    assert run["failureReason"] == reason
    assert run["failureMessage"]
    assert run["output"] is None
    assert run["usage"] is None


def test_document_errors_and_passwords_reach_the_document_layer(
    emu: Emulator, raw: httpx.Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen: list[str | None] = []
    real = _documents.read_document

    def spy(data: bytes, name: str, *, password: str | None = None, **kw: Any) -> Any:
        seen.append(password)
        if password == "wrong":
            raise _documents.DocumentError("PASSWORD_PROTECTED_FILE", "bad password")
        return real(data, name, password=password, **kw)

    monkeypatch.setattr(_documents, "read_document", spy)
    up = raw.post("/files/upload", files={"file": ("a.txt", b"x")}, data={"password": "pw1"})
    assert up.status_code == 200
    assert _run_one(emu, raw, {"id": up.json()["id"]})["status"] == "PROCESSED"
    url = raw.get(f"/files/{up.json()['id']}").json()["presignedUrl"]
    failed = _run_one(emu, raw, {"url": url, "settings": {"password": "wrong"}})
    assert failed["failureReason"] == "PASSWORD_PROTECTED_FILE"
    assert failed["file"] is not None  # the file was ingested; only reading failed
    assert "pw1" in seen
    assert "wrong" in seen


def test_run_failure_share_is_seeded() -> None:
    def failures(seed: int) -> list[bool]:
        faults = Faults(seed=seed, run_failure_rate=0.5, run_failure_reason="OCR_ERROR")
        with Emulator(faults=faults) as emu, raw_client(emu) as c:
            inputs = [{"file": {"text": f"t{i}"}, "metadata": {"i": i}} for i in range(40)]
            batch = c.post("/parse_runs/batch", json={"inputs": inputs}).json()
            assert emu.wait_idle()
            runs = c.get("/parse_runs", params={"batchId": batch["id"], "maxPageSize": 100}).json()
            by_row = sorted(runs["data"], key=lambda r: r["metadata"]["i"])
            assert {r["failureReason"] for r in by_row} <= {None, "OCR_ERROR"}
            return [r["status"] == "FAILED" for r in by_row]

    first = failures(1)
    assert 5 < sum(first) < 35
    assert failures(1) == first
    assert failures(2) != first
