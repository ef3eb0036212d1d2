"""Emulator-only controls under /_emulator/: clock, delivery log, presigned content, outputs."""

from __future__ import annotations

import httpx

from extend_frames.emulator import Emulator, Speed

from .conftest import raw_client


def test_clock_advance_endpoint() -> None:
    with Emulator(clock="manual", speed=Speed(run_latency=5.0)) as emu, raw_client(emu) as c:
        batch = c.post("/parse_runs/batch", json={"inputs": [{"file": {"text": "x"}}]}).json()
        before = c.post("/_emulator/clock/advance", json={"seconds": 4.0}).json()["now"]
        assert c.get(f"/batch_runs/{batch['id']}").json()["status"] != "PROCESSED"
        after = c.post("/_emulator/clock/advance", json={"seconds": 1.0}).json()["now"]
        assert after - before == 1.0
        assert emu.wait_idle()
        assert c.get(f"/batch_runs/{batch['id']}").json()["status"] == "PROCESSED"
        assert c.post("/_emulator/clock/advance", json={"seconds": -1}).status_code == 400


def test_clock_advance_needs_manual_clock(emu: Emulator, raw: httpx.Client) -> None:
    resp = raw.post("/_emulator/clock/advance", json={"seconds": 1})
    assert resp.status_code == 400
    assert resp.json()["code"] == "INVALID_REQUEST"


def test_operator_paths_need_no_auth_and_are_not_counted(emu: Emulator) -> None:
    with httpx.Client(base_url=emu.url, trust_env=False) as anonymous:
        assert anonymous.get("/_emulator/stats").status_code == 200
        assert anonymous.get("/_emulator/webhook_deliveries").json() == {
            "object": "list",
            "data": [],
        }
    assert emu.stats()["requests"] == {}


def test_presigned_file_and_parse_output_urls(emu: Emulator, raw: httpx.Client) -> None:
    up = raw.post("/files/upload", files={"file": ("a.txt", b"raw bytes here")}).json()
    url = raw.get(f"/files/{up['id']}").json()["presignedUrl"]
    with httpx.Client(trust_env=False) as anonymous:
        assert anonymous.get(url).content == b"raw bytes here"
        forged = url.rsplit("=", 1)[0] + "=0000"
        assert anonymous.get(forged).status_code == 403
        run = raw.post("/parse_runs", json={"file": {"id": up["id"]}}).json()
        assert emu.wait_idle()
        by_url = raw.get(f"/parse_runs/{run['id']}", params={"responseType": "url"}).json()
        inline = raw.get(f"/parse_runs/{run['id']}").json()
        assert by_url["output"] is None
        assert inline["outputUrl"] is None
        assert anonymous.get(by_url["outputUrl"]).json() == inline["output"]
