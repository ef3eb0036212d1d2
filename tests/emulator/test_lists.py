"""List endpoints: every filter of SPEC §7, sorting, and cursor paging bound to its query."""

from __future__ import annotations

from typing import Any

import httpx

from extend_frames.emulator import Emulator


def _ids(c: httpx.Client, path: str, **params: Any) -> list[str]:
    out, token = [], None
    while True:
        query = {**params, **({"nextPageToken": token} if token else {})}
        body = c.get(path, params=query).json()
        out.extend(r["id"] for r in body["data"])
        token = body.get("nextPageToken")
        if token is None:
            return out


def _setup(emu: Emulator, c: httpx.Client) -> dict[str, Any]:
    ex1 = c.post("/extractors", json={"name": "one", "config": {}}).json()["id"]
    ex2 = c.post("/extractors", json={"name": "two", "config": {}}).json()["id"]
    inputs = [
        {"file": {"text": "ok", "name": "invoice-1.txt"}},
        {"file": {"text": "__FAIL:OCR_ERROR", "name": "receipt-2.txt"}},
        {"file": {"text": "ok", "name": "invoice-3.txt"}},
    ]
    b1 = c.post("/extract_runs/batch", json={"extractor": {"id": ex1}, "inputs": inputs}).json()
    b2 = c.post("/extract_runs/batch", json={"extractor": {"id": ex2}, "inputs": inputs[:1]}).json()
    single = c.post("/extract_runs", json={"extractor": {"id": ex1}, "file": {"text": "s"}}).json()
    assert emu.wait_idle()
    return {"ex1": ex1, "ex2": ex2, "b1": b1["id"], "b2": b2["id"], "single": single["id"]}


def test_processor_run_filters(emu: Emulator, raw: httpx.Client) -> None:
    s = _setup(emu, raw)
    everything = _ids(raw, "/extract_runs", maxPageSize=2)
    assert len(everything) == 5
    assert len(set(everything)) == 5
    assert len(_ids(raw, "/extract_runs", batchId=s["b1"])) == 3
    assert len(_ids(raw, "/extract_runs", extractorId=s["ex2"])) == 1
    assert _ids(raw, "/extract_runs", source="API") == [s["single"]]
    assert len(_ids(raw, "/extract_runs", source="BATCH_PROCESSOR_RUN")) == 4
    assert len(_ids(raw, "/extract_runs", sourceId=s["b1"])) == 3
    failed = raw.get("/extract_runs", params={"status": "FAILED"}).json()["data"]
    assert [r["failureReason"] for r in failed] == ["OCR_ERROR"]
    named = raw.get("/extract_runs", params={"fileNameContains": "invoice"}).json()["data"]
    assert sorted(r["file"]["name"] for r in named) == [
        "invoice-1.txt",
        "invoice-1.txt",
        "invoice-3.txt",
    ]
    combined = _ids(
        raw, "/extract_runs", batchId=s["b1"], fileNameContains="invoice", maxPageSize=1
    )
    assert len(combined) == 2


def test_sorting(emu: Emulator, raw: httpx.Client) -> None:
    _setup(emu, raw)
    asc = raw.get("/extract_runs", params={"sortBy": "createdAt", "sortDir": "asc"}).json()["data"]
    desc = raw.get("/extract_runs", params={"sortBy": "createdAt", "sortDir": "desc"}).json()[
        "data"
    ]
    assert [r["id"] for r in asc] == [r["id"] for r in reversed(desc)]
    created = [r["createdAt"] for r in asc]
    assert created == sorted(created)
    by_update = raw.get("/extract_runs").json()["data"]  # default: updatedAt desc
    updated = [r["updatedAt"] for r in by_update]
    assert updated == sorted(updated, reverse=True)


def test_parse_lists_accept_limit_and_ignore_source_with_batch(
    emu: Emulator, raw: httpx.Client
) -> None:
    batch = raw.post(
        "/parse_runs/batch", json={"inputs": [{"file": {"text": str(i)}} for i in range(5)]}
    )
    batch_id = batch.json()["id"]
    assert len(raw.get("/parse_runs", params={"limit": 2}).json()["data"]) == 2
    both = raw.get("/parse_runs", params={"limit": 2, "maxPageSize": 4}).json()["data"]
    assert len(both) == 4  # maxPageSize wins
    # with batchId the source filter is ignored (SPEC §7.2)
    assert (
        len(raw.get("/parse_runs", params={"batchId": batch_id, "source": "API"}).json()["data"])
        == 5
    )
    assert raw.get("/parse_runs", params={"source": "API"}).json()["data"] == []
    assert len(_ids(raw, "/parse_runs", batchId=batch_id, limit=2)) == 5


def test_paging_is_stable_while_runs_are_added(emu: Emulator, raw: httpx.Client) -> None:
    raw.post("/parse_runs/batch", json={"inputs": [{"file": {"text": str(i)}} for i in range(4)]})
    params = {"sortBy": "createdAt", "sortDir": "asc", "maxPageSize": 2}
    first = raw.get("/parse_runs", params=params).json()
    raw.post("/parse_runs/batch", json={"inputs": [{"file": {"text": "late"}}]})
    rest = _ids(raw, "/parse_runs", **params, nextPageToken=first.get("nextPageToken"))
    ids = [r["id"] for r in first["data"]] + rest
    assert len(ids) == 5
    assert len(set(ids)) == 5


def test_files_list_pages(raw: httpx.Client) -> None:
    for i in range(5):
        raw.post("/files/upload", files={"file": (f"doc-{i}.txt", b"x")})
    assert len(_ids(raw, "/files", maxPageSize=2)) == 5
    asc = raw.get("/files", params={"sortDir": "asc"}).json()["data"]
    assert [f["name"] for f in asc] == [f"doc-{i}.txt" for i in range(5)]
    assert {"presignedUrl", "contents"}.isdisjoint(asc[0])  # list items are FileSummary
